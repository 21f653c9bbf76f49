/**
 * Collects the ids of runs that changed and hands them over at most once per
 * interval: a driven run emits many events a second (token deltas included),
 * and each update costs a log read per run.
 *
 * Contract:
 * - `mark` is cheap (a set insert); the first mark after a flush schedules
 *   the next one `intervalMs` later (trailing edge), so a burst of marks
 *   becomes one flush with each id once.
 * - Flushes never overlap: ids marked while one runs wait for the next,
 *   scheduled when the running one settles.
 * - A flush that rejects is reported to `onError`; its ids are not retried
 *   (the next change marks them again).
 * - After `dispose()` nothing is scheduled or flushed.
 */
import { realTimer, type BatchTimer } from '../event-batcher.ts';

export const HISTORY_UPDATE_MS = 1_000;

export class UpdateThrottle {
  #dirty = new Set<string>();
  #timer: unknown;
  #flushing = false;
  #disposed = false;

  constructor(
    private readonly flush: (runIds: string[]) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly timer: BatchTimer = realTimer,
    private readonly intervalMs: number = HISTORY_UPDATE_MS,
  ) {}

  mark(runId: string): void {
    if (this.#disposed) return;
    this.#dirty.add(runId);
    this.schedule();
  }

  get pending(): readonly string[] {
    return [...this.#dirty];
  }

  dispose(): void {
    this.#disposed = true;
    this.#dirty.clear();
    if (this.#timer !== undefined) this.timer.clear(this.#timer);
    this.#timer = undefined;
  }

  private schedule(): void {
    if (this.#disposed || this.#flushing || this.#timer !== undefined || this.#dirty.size === 0) return;
    this.#timer = this.timer.set(() => {
      this.#timer = undefined;
      void this.run();
    }, this.intervalMs);
  }

  private async run(): Promise<void> {
    if (this.#disposed) return;
    const ids = [...this.#dirty];
    this.#dirty.clear();
    this.#flushing = true;
    try {
      await this.flush(ids);
    } catch (e) {
      this.onError(e);
    } finally {
      this.#flushing = false;
      this.schedule();
    }
  }
}
