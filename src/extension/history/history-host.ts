/**
 * The host side of the history webview, without `vscode`: its request
 * handlers, the throttled `history/update` pushes and Open Trace's
 * `trace/show`. history-panel.ts wires it to a WebviewPanel through a
 * HostChannel and supplies the editor's parts (save dialog, chat).
 *
 * Contract:
 * - `history/list`: the run index (listing never creates `.crewbox/`), with
 *   the run this window drives read live from its log (the runtime writes the
 *   index only when a drive stops), and stale "running" runs shown as
 *   interrupted (run-liveness.ts, as `crewbox runs` does). Newest first.
 * - `history/update`: the runs the RunController reports as started,
 *   progressing or stopped, summarised from their logs; and, when the run
 *   index changes on disk (runs of other windows or the CLI), the whole
 *   listing. Only runs that differ from what the view was last sent, each
 *   batch at most once per HISTORY_UPDATE_MS, and only while the view is
 *   ready (a view that becomes ready lists afresh).
 * - `trace/get`: the run's durable log. `trace/export`: builds the OTLP JSON
 *   (what `crewbox trace --otlp` prints), then asks where to save it,
 *   suggesting `<runId>.otlp.json`.
 * - `run/fork` (rollback): refused in Restricted Mode, while the source run
 *   is driven (by this window or another process), while this window
 *   drives another run, and from a step at which the run had completed (the
 *   fork could not be resumed); otherwise forks, shows the fork in the chat and
 *   drives it through the RunController as the chat's resume does. If the
 *   fork exists but cannot start (no key, Docker down), the reply says so,
 *   with the failure's actions.
 * - `trace/show` for a view that is not ready yet is held and sent once its
 *   handshake completes.
 */
import type { RunEvent } from '../../core/events/schema.ts';
import type { Logger } from '../../core/log/logger.ts';
import { withLiveStatus } from '../../core/store/run-liveness.ts';
import type { RunSummary } from '../../core/store/run-summary.ts';
import { RequestFailed, type RequestHandlers } from '../../protocol/host-channel.ts';
import type { NotificationIn, NotificationMethod } from '../../protocol/messages.ts';
import type { ErrorAction } from '../../protocol/schemas.ts';
import type { Disposable, Event } from '../emitter.ts';
import type { BatchTimer } from '../event-batcher.ts';
import { toRequestFailed } from '../failures.ts';
import type { HistoryStore } from './history-store.ts';
import { UpdateThrottle } from './update-throttle.ts';

/** What the history needs of the RunController (which satisfies it). */
export interface HistoryRuns {
  readonly activeRunId: string | undefined;
  isDriving(runId: string): boolean;
  /** The run index, newest first; [] without creating `.crewbox/` in a folder without runs. */
  listRuns(): Promise<RunSummary[]>;
  /** The durable log; expected failures as RequestFailed. */
  events(runId: string): Promise<RunEvent[]>;
  /** Drives a stopped run; fires onDidStartDrive, which makes the chat show it. */
  resume(runId: string): Promise<string>;
  readonly onDidRunEvent: Event<RunEvent>;
  readonly onDidStartDrive: Event<string>;
  readonly onDidChangeStatus: Event<void>;
}

/** The open workspace folder's runs; absent when no folder is open. */
export interface HistoryFolder {
  runs: HistoryRuns;
  store: HistoryStore;
}

export interface ChatPort {
  reveal(): Promise<void>;
  show(runId: string | null): Promise<void>;
}

/** Where the user chose to save an export. */
export interface SaveTarget {
  /** For the notice ("Trace exported to …"). */
  location: string;
  /** Expected failures as RequestFailed. */
  write(content: string): Promise<void>;
}

export type Notify = <M extends NotificationMethod>(method: M, params: NotificationIn<M>) => boolean;

export interface HistoryHostDeps {
  folder: HistoryFolder | undefined;
  chat: ChatPort;
  trust(): { trusted: boolean; reason?: string };
  /** Asks where to save; undefined when the user cancels. */
  chooseExportTarget(defaultFileName: string): Promise<SaveTarget | undefined>;
  invokeAction(action: ErrorAction, runId?: string): Promise<void>;
  /** The panel's channel: false when the view is not ready (the notification is dropped). */
  notify: Notify;
  isReady(): boolean;
  logger: Logger;
  timer?: BatchTimer;
  throttleMs?: number;
}

const NO_FOLDER = 'Open a folder to use Crewbox: runs work on a workspace folder.';
/** ReplyError messages are capped at 2,000 characters; a wrapped failure keeps well below. */
const MAX_CAUSE = 1_000;

const INDEX_KEY = 'index';

const newestFirst = (a: RunSummary, b: RunSummary): number => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

export class HistoryHost {
  #pendingTrace: string | undefined;
  /** What the view was last told of each run (JSON), so updates carry only changes. */
  readonly #sent = new Map<string, string>();
  #lastActive: string | undefined;
  readonly #updates: UpdateThrottle;
  /** Index changes (runs another window or the CLI drove); one key, the whole listing is re-sent. */
  readonly #indexUpdates: UpdateThrottle;
  readonly #subscriptions: Disposable[] = [];

  constructor(private readonly deps: HistoryHostDeps) {
    this.#updates = new UpdateThrottle(
      (ids) => this.sendUpdates(ids),
      (e) => deps.logger.error('history update failed', { error: e }),
      deps.timer,
      deps.throttleMs,
    );
    this.#indexUpdates = new UpdateThrottle(
      () => this.sendListing(),
      (e) => deps.logger.error('history update failed', { error: e }),
      deps.timer,
      deps.throttleMs,
    );
    const runs = deps.folder?.runs;
    if (runs) {
      this.#lastActive = runs.activeRunId;
      this.#subscriptions.push(
        runs.onDidRunEvent((e) => this.changed(e.runId)),
        runs.onDidStartDrive((runId) => this.changed(runId)),
        runs.onDidChangeStatus(() => {
          // Status also changes with sandbox progress; only a drive starting or stopping changes a run.
          const now = runs.activeRunId;
          if (now === this.#lastActive) return;
          if (this.#lastActive !== undefined) this.changed(this.#lastActive);
          if (now !== undefined) this.changed(now);
          this.#lastActive = now;
        }),
      );
    }
  }

  /** The view should open this run's trace (Open Trace); held until the view is ready. */
  showTrace(runId: string): void {
    this.#pendingTrace = this.deps.notify('trace/show', { runId }) ? undefined : runId;
  }

  /** The view completed its handshake: it lists the runs itself; send what it cannot ask for. */
  onReady(): void {
    const runId = this.#pendingTrace;
    this.#pendingTrace = undefined;
    if (runId !== undefined) this.deps.notify('trace/show', { runId });
  }

  /** The run index changed on disk (another window or the CLI): the view gets the listing as upserts. */
  indexChanged(): void {
    if (this.deps.isReady()) this.#indexUpdates.mark(INDEX_KEY);
  }

  trustChanged(): void {
    const t = this.deps.trust();
    this.deps.notify('workspace/trust', { trusted: t.trusted, ...(t.reason !== undefined && { reason: t.reason }) });
  }

  handlers(): RequestHandlers {
    return {
      'history/list': async () => {
        const runs = await this.listRuns();
        this.#sent.clear();
        this.unsent(runs);
        return { runs };
      },
      'trace/get': async ({ runId }) => ({ runId, events: await this.requireFolder().runs.events(runId) }),
      'trace/export': ({ runId }) => this.exportTrace(runId),
      'run/fork': async ({ runId, step }) => ({ runId: await this.fork(runId, step) }),
      'action/invoke': async ({ action, runId }) => {
        await this.deps.invokeAction(action, runId);
        return null;
      },
    };
  }

  /** What `history/list` answers (also Open Trace's picker). */
  async listRuns(): Promise<RunSummary[]> {
    const folder = this.deps.folder;
    if (!folder) return [];
    const indexed = await folder.runs.listRuns();
    const active = folder.runs.activeRunId;
    const live = active !== undefined ? await this.summaryOf(folder, active).catch(() => undefined) : undefined;
    const merged = live ? [live, ...indexed.filter((r) => r.id !== live.id)] : indexed;
    return (await this.withLiveStatus(folder, merged)).sort(newestFirst);
  }

  dispose(): void {
    this.#updates.dispose();
    this.#indexUpdates.dispose();
    for (const s of this.#subscriptions.splice(0)) s.dispose();
  }

  private changed(runId: string): void {
    if (this.deps.isReady()) this.#updates.mark(runId);
  }

  private requireFolder(): HistoryFolder {
    if (!this.deps.folder) throw new RequestFailed('failed', NO_FOLDER);
    return this.deps.folder;
  }

  private async sendUpdates(runIds: readonly string[]): Promise<void> {
    const folder = this.deps.folder;
    if (!folder || !this.deps.isReady()) return;
    const summaries: RunSummary[] = [];
    for (const runId of runIds) {
      try {
        const summary = await this.summaryOf(folder, runId);
        if (summary) summaries.push(summary);
      } catch (e) {
        this.deps.logger.warn('could not summarise a run for the history', { runId, error: e });
      }
    }
    this.notifyChanged(await this.withLiveStatus(folder, summaries));
  }

  private async sendListing(): Promise<void> {
    if (!this.deps.isReady()) return;
    this.notifyChanged(await this.listRuns());
  }

  /** Sends the runs the view does not know in this state (a repeat would make it refetch a shown trace). */
  private notifyChanged(runs: readonly RunSummary[]): void {
    const changed = this.unsent(runs);
    if (changed.length > 0) this.deps.notify('history/update', { runs: changed });
  }

  /** The runs that differ from what was sent, recorded as sent. */
  private unsent(runs: readonly RunSummary[]): RunSummary[] {
    return runs.filter((r) => {
      const json = JSON.stringify(r);
      if (this.#sent.get(r.id) === json) return false;
      this.#sent.set(r.id, json);
      return true;
    });
  }

  /** The run's summary folded from its log (undefined for an empty log). */
  private async summaryOf(folder: HistoryFolder, runId: string): Promise<RunSummary | undefined> {
    const events = await folder.runs.events(runId);
    return events.length > 0 ? folder.store.summarize(events) : undefined;
  }

  private withLiveStatus(folder: HistoryFolder, runs: readonly RunSummary[]): Promise<RunSummary[]> {
    return withLiveStatus(runs, async (runId) => folder.runs.isDriving(runId) || (await folder.store.isRunLocked(runId)));
  }

  private async exportTrace(runId: string): Promise<{ saved: boolean; location?: string }> {
    const { runs, store } = this.requireFolder();
    const events = await runs.events(runId);
    if (events.length === 0) throw new RequestFailed('not_found', `Run ${runId} has no events to export.`);
    // Newline-terminated, as the CLI prints it.
    const content = `${await store.otlpJson(events)}\n`;
    const target = await this.deps.chooseExportTarget(`${runId}.otlp.json`);
    if (!target) return { saved: false };
    await target.write(content);
    return { saved: true, location: target.location.slice(0, 4_000) };
  }

  private async fork(runId: string, step: number): Promise<string> {
    const t = this.deps.trust();
    if (!t.trusted) throw new RequestFailed('untrusted', t.reason ?? 'Runs are disabled in Restricted Mode.', ['manageTrust']);
    const { runs, store } = this.requireFolder();
    if (runs.isDriving(runId) || (await store.isRunLocked(runId))) {
      throw new RequestFailed('conflict', `Run ${runId} is still working; stop it before rolling back to one of its steps.`);
    }
    if (runs.activeRunId !== undefined) throw new RequestFailed('conflict', 'A run is already active in this window; stop it first.');
    if (await this.completedBy(runs, store, runId, step)) {
      // The fork would hold the finished run as it ended, and a completed run cannot be resumed.
      throw new RequestFailed('conflict', `Run ${runId} had completed by step ${step}, so a fork from there has nothing left to do; fork from an earlier step.`);
    }
    let forkId: string;
    try {
      forkId = await store.fork(runId, step);
    } catch (e) {
      throw toRequestFailed(e) ?? e;
    }
    this.changed(forkId);
    await this.deps.chat.reveal();
    await this.deps.chat.show(forkId);
    try {
      await runs.resume(forkId);
    } catch (e) {
      const failed = toRequestFailed(e);
      if (!failed) throw e;
      const cause = failed.message.length > MAX_CAUSE ? `${failed.message.slice(0, MAX_CAUSE)}…` : failed.message;
      // Retry would act on the run the trace shows (the source), not on the fork; Continue in the chat covers it.
      const actions = failed.actions.filter((a) => a !== 'retry');
      throw new RequestFailed(failed.code, `Run ${forkId} was created from step ${step} of ${runId} but could not start: ${cause}`, actions);
    }
    return forkId;
  }

  /** Whether the run's state after `step` (the prefix a fork copies, as prefixThroughStep cuts it) is completed. */
  private async completedBy(runs: HistoryRuns, store: HistoryStore, runId: string, step: number): Promise<boolean> {
    const events = await runs.events(runId);
    const cut = events.findIndex((e) => e.step > step);
    const prefix = cut === -1 ? events : events.slice(0, cut);
    return prefix.length > 0 && (await store.summarize(prefix)).status === 'completed';
  }
}
