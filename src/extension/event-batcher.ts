/**
 * Batches a run's events for the webview: one `transcript/append` per frame
 * or so instead of one post per token delta.
 *
 * Contract:
 * - Events are delivered in the order they were pushed, each exactly once.
 * - A batch holds events of one run only: pushing another run's event first
 *   flushes what is pending.
 * - While paused (the host is reading the log for a `transcript/reset`),
 *   nothing is delivered; `resume()` schedules the held events. The webview
 *   drops what overlaps the reset by `seq`, so holding is always safe.
 * - `dispose()` drops pending events and cancels the timer.
 */
export interface BatchTimer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimer: BatchTimer = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export const FRAME_MS = 16;

export class EventBatcher<E> {
  #runId: string | undefined;
  #pending: E[] = [];
  #timer: unknown;
  #paused = false;

  constructor(
    private readonly deliver: (runId: string, events: E[]) => void,
    private readonly timer: BatchTimer = realTimer,
    private readonly intervalMs: number = FRAME_MS,
  ) {}

  push(runId: string, event: E): void {
    if (this.#runId !== undefined && this.#runId !== runId && this.#pending.length > 0) this.flush();
    this.#runId = runId;
    this.#pending.push(event);
    this.schedule();
  }

  pause(): void {
    this.#paused = true;
    this.cancel();
  }

  resume(): void {
    this.#paused = false;
    this.schedule();
  }

  /** Delivers what is pending now (unless paused). */
  flush(): void {
    this.cancel();
    if (this.#paused || this.#pending.length === 0 || this.#runId === undefined) return;
    const events = this.#pending;
    this.#pending = [];
    this.deliver(this.#runId, events);
  }

  /** Forgets pending events of runs other than `runId` (the view switched runs). */
  keepOnly(runId: string | null): void {
    if (this.#runId !== runId) {
      this.#pending = [];
      this.cancel();
    }
  }

  dispose(): void {
    this.#pending = [];
    this.cancel();
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  private schedule(): void {
    if (this.#paused || this.#timer !== undefined || this.#pending.length === 0) return;
    this.#timer = this.timer.set(() => {
      this.#timer = undefined;
      this.flush();
    }, this.intervalMs);
  }

  private cancel(): void {
    if (this.#timer === undefined) return;
    this.timer.clear(this.#timer);
    this.#timer = undefined;
  }
}
