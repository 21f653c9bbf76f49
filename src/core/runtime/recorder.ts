/**
 * The one door events go through. Contract: `record` stamps the step, redacts,
 * appends durably (the call returns only after the event is on disk), folds the
 * event into the live RunState and then notifies listeners. `emit` is for
 * ephemeral events (token deltas, command output): listeners only, never disk.
 * Redaction happens before folding, so secrets reach neither the log, the UI,
 * the traces nor the model's next prompt.
 */
import type { RunEvent } from '../events/schema.ts';
import { EPHEMERAL_EVENT_TYPES } from '../events/schema.ts';
import type { RunState } from './fold.ts';
import { applyEvent } from './fold.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event as producers write it: the recorder fills in v, runId, seq, ts and (by default) step. */
export type EventDraft = DistributiveOmit<RunEvent, 'v' | 'runId' | 'seq' | 'ts' | 'step'> & { step?: number };

export interface DurableLog {
  /** Appends and makes durable; assigns v, runId, seq and ts. */
  append(input: DistributiveOmit<RunEvent, 'v' | 'runId' | 'seq' | 'ts'>, opts?: { sync?: boolean }): RunEvent;
}

export type RunListener = (event: RunEvent) => void;

export class RunRecorder {
  private readonly listeners = new Set<RunListener>();

  constructor(
    private readonly log: DurableLog,
    readonly state: RunState,
    private readonly redact: <T>(value: T) => T,
    private readonly now: () => number = Date.now,
  ) {}

  subscribe(listener: RunListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * `syncWithNext`: written now, made durable by the next recorded event's
   * sync (or when the log closes) instead of its own; for an event that only
   * has to be durable before the next one is (a model turn before its first
   * tool.started). Saves one fdatasync per step.
   */
  record(draft: EventDraft, opts: { syncWithNext?: boolean } = {}): RunEvent {
    if (EPHEMERAL_EVENT_TYPES.has(draft.type)) throw new Error(`${draft.type} is ephemeral; use emit()`);
    const input = this.redact({ ...draft, step: draft.step ?? this.state.step });
    const event = opts.syncWithNext ? this.log.append(input, { sync: false }) : this.log.append(input);
    applyEvent(this.state, event);
    this.notify(event);
    return event;
  }

  emit(draft: EventDraft): void {
    if (this.listeners.size === 0) return;
    const event = this.redact({
      v: 1,
      runId: this.state.runId,
      seq: Math.max(1, this.state.lastSeq),
      ts: new Date(this.now()).toISOString(),
      step: this.state.step,
      ...draft,
    }) as RunEvent;
    this.notify(event);
  }

  private notify(event: RunEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // Contract: a failing listener (a closed UI) never breaks the run.
      }
    }
  }
}
