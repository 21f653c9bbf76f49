/** A manual clock for timing-dependent code (the model gateway, the retry gate). */
import type { Clock } from '../../src/core/model/retry-gate.ts';

export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Watches a promise's state without awaiting it. */
export function track<T>(promise: Promise<T>): { readonly state: 'pending' | 'resolved' | 'rejected'; readonly error: unknown } {
  const t = { state: 'pending' as 'pending' | 'resolved' | 'rejected', error: undefined as unknown };
  promise.then(
    () => (t.state = 'resolved'),
    (e: unknown) => {
      t.state = 'rejected';
      t.error = e;
    },
  );
  return t;
}

/** Manual time: sleeps resolve only when the test moves the clock past them. */
export class FakeClock implements Clock {
  private time = 0;
  private timers: { at: number; wake: () => void }[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = {
        at: this.time + ms,
        wake: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Fires every timer due up to `end`, in order, then sets the time to `end`. */
  async advanceTo(end: number): Promise<void> {
    for (;;) {
      await settle();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.fire(due);
    }
    this.time = end;
    await settle();
  }

  /** Moves time forward, timer by timer, until `promise` settles; returns its outcome. */
  async run<T>(promise: Promise<T>): Promise<T> {
    let state: 'pending' | 'settled' = 'pending';
    promise.then(
      () => (state = 'settled'),
      () => (state = 'settled'),
    );
    for (let fired = 0; ; fired++) {
      await settle();
      if (state !== 'pending') return promise;
      const due = [...this.timers].sort((a, b) => a.at - b.at)[0];
      if (!due) throw new Error('stuck: the promise is pending and nothing is scheduled');
      if (fired > 10_000) throw new Error('runaway: too many timers');
      this.fire(due);
    }
  }

  private fire(due: { at: number; wake: () => void }): void {
    this.timers = this.timers.filter((t) => t !== due);
    this.time = due.at;
    due.wake();
  }
}
