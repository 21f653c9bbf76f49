/**
 * Everything the chat view shows, as data: the shown run's transcript and
 * progress (folded from its events), what the host says about driving and
 * the sandbox, trust, resumable runs, the error banner, and the little local
 * state of the controls. No DOM: the view reads it and renders the parts
 * named in `takeDirty()` once per frame.
 *
 * Contract: events for a run other than the shown one are ignored, and an
 * event the transcript rejects as a replay does not count twice in the
 * progress (tokens, cost).
 *
 * A long run arrives as its tail with `earlier` (src/protocol/transcript-page.ts):
 * the prelude is folded first, then the tail, so the progress is exact; the
 * rows of the left-out events are missing and a marker row sits where they
 * go (`gapAt`). Loading an older page refolds prelude, page and everything
 * applied since (kept in `#applied` while events are left out), so the fold
 * stays one pass in seq order.
 */
import type { RunEvent } from '../../../src/core/events/schema.ts';
import type { RunSummary } from '../../../src/core/store/run-summary.ts';
import type { ReplyError, SandboxStatus } from '../../../src/protocol/schemas.ts';
import type { Earlier } from '../../../src/protocol/transcript-page.ts';
import type { Banner } from '../../shared/banner.ts';
import type { ComposerInputs, ComposerMode } from './composer-mode.ts';
import { composerMode } from './composer-mode.ts';
import type { RunProgress } from './run-progress.ts';
import { applyToProgress, emptyProgress } from './run-progress.ts';
import { Transcript } from './transcript.ts';

export type ChatPart = 'rows' | 'status' | 'composer' | 'banner' | 'resumable';

export type { Banner };

export class ChatStore {
  transcript = new Transcript();
  progress: RunProgress = emptyProgress(null);
  connected = false;
  trusted = true;
  untrustedReason: string | undefined;
  driving = false;
  sandbox: SandboxStatus = { state: 'unknown' };
  stopRequested = false;
  composingNew = false;
  /** A request from the controls is in flight. */
  busy = false;
  resumable: RunSummary[] = [];
  banner: Banner | undefined;
  /** Set when the transcript was replaced: the list starts over. */
  rowsReplaced = false;
  /** What the shown transcript leaves out; undefined when it starts at the log's beginning. */
  earlier: Earlier | undefined;
  /** The index of the first row after the left-out events (the marker's place), while `earlier` is set. */
  gapAt: number | undefined;
  /** A page of earlier events was requested and has not arrived. */
  loadingEarlier = false;
  /** While `earlier` is set: every event the transcript accepted since the reset (prelude excluded), in order. */
  #applied: RunEvent[] = [];
  readonly #dirty = new Set<ChatPart>();

  constructor(private readonly onDirty: () => void = () => {}) {}

  takeDirty(): Set<ChatPart> {
    const parts = new Set(this.#dirty);
    this.#dirty.clear();
    return parts;
  }

  inputs(): ComposerInputs {
    return {
      connected: this.connected,
      trusted: this.trusted,
      ...(this.untrustedReason !== undefined && { untrustedReason: this.untrustedReason }),
      driving: this.driving,
      stopRequested: this.stopRequested,
      composingNew: this.composingNew,
      progress: this.progress,
    };
  }

  mode(): ComposerMode {
    return composerMode(this.inputs());
  }

  connectedAs(trusted: boolean, reason?: string): void {
    this.connected = true;
    this.setTrust(trusted, reason);
  }

  setTrust(trusted: boolean, reason?: string): void {
    this.trusted = trusted;
    this.untrustedReason = reason;
    this.mark('composer', 'status');
  }

  resetTranscript(runId: string | null, events: readonly RunEvent[], earlier?: Earlier): void {
    this.stopRequested = false;
    this.composingNew = false;
    this.loadingEarlier = false;
    this.refold(runId, earlier, events);
  }

  /** The seq of the first event shown after the left-out ones: where the next older page ends. */
  get firstLoadedSeq(): number | undefined {
    return this.earlier ? this.#applied[0]?.seq : undefined;
  }

  setLoadingEarlier(loading: boolean): void {
    this.loadingEarlier = loading;
    this.mark('rows');
  }

  /**
   * An older page arrived (`transcript/page`): it goes before everything applied.
   * Returns false, changing nothing, when it does not fit (another run is shown,
   * or a reset came meanwhile).
   */
  prependEarlier(runId: string, events: readonly RunEvent[], earlier?: Earlier): boolean {
    const first = this.firstLoadedSeq;
    const last = events.at(-1);
    if (runId !== this.progress.runId || first === undefined || (last !== undefined && last.seq >= first)) return false;
    const stopRequested = this.stopRequested;
    this.refold(runId, earlier, [...events, ...this.#applied]);
    this.stopRequested = stopRequested;
    return true;
  }

  appendEvents(runId: string, events: readonly RunEvent[]): void {
    if (runId !== this.progress.runId) return;
    this.applyEvents(events);
  }

  setHostStatus(driving: boolean, sandbox: SandboxStatus): void {
    this.driving = driving;
    this.sandbox = sandbox;
    if (!driving) this.stopRequested = false;
    this.mark('status', 'composer');
  }

  requestStop(): void {
    this.stopRequested = true;
    this.mark('status', 'composer');
  }

  /** The interrupt request failed: the run goes on. */
  cancelStop(): void {
    this.stopRequested = false;
    this.mark('status', 'composer');
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    this.mark('composer');
  }

  composeNew(on: boolean): void {
    this.composingNew = on;
    this.mark('composer');
  }

  setResumable(runs: RunSummary[]): void {
    this.resumable = runs;
    this.mark('resumable');
  }

  showError(error: Pick<ReplyError, 'message' | 'actions'>): void {
    this.banner = { message: error.message, actions: error.actions ?? [] };
    this.mark('banner');
  }

  clearError(): void {
    if (!this.banner) return;
    this.banner = undefined;
    this.mark('banner');
  }

  /** A fresh fold: the prelude of what is left out, then `events`. */
  private refold(runId: string | null, earlier: Earlier | undefined, events: readonly RunEvent[]): void {
    this.transcript = new Transcript();
    this.progress = emptyProgress(runId);
    this.#applied = [];
    this.earlier = earlier;
    this.gapAt = undefined;
    this.rowsReplaced = true;
    if (earlier) {
      this.progress.tokens = earlier.usage.tokens;
      this.progress.costUsd = earlier.usage.costUsd;
      this.applyEvents(earlier.prelude, false);
      this.gapAt = this.transcript.rows.length;
    }
    this.applyEvents(events);
    this.mark('rows', 'status', 'composer');
  }

  private applyEvents(events: readonly RunEvent[], keep = true): void {
    let rows = false;
    let status = false;
    for (const e of events) {
      if (e.runId !== this.progress.runId || !this.transcript.apply(e)) continue;
      if (keep && this.earlier) this.#applied.push(e);
      rows = true;
      if (applyToProgress(this.progress, e, (id) => this.transcript.roleOf(id))) status = true;
      if (e.type === 'run.interrupted' || e.type === 'run.finished') this.stopRequested = false;
    }
    if (rows) this.mark('rows');
    if (status) this.mark('status', 'composer');
  }

  private mark(...parts: ChatPart[]): void {
    for (const p of parts) this.#dirty.add(p);
    this.onDirty();
  }
}
