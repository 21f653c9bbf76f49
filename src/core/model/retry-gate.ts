/**
 * A run-wide "not before" barrier for model calls. When any call learns from a
 * provider that it must retry after T, it publishes T here, and every call of
 * the same run waits for T before its next attempt, so agents sharing an API
 * key stop hammering a rate-limited endpoint together.
 *
 * Pure: time comes only from the injected Clock, so tests drive it by hand.
 */

/** The only source of time for the gateway and the gate. */
export interface Clock {
  /** Milliseconds on a monotonic-enough timeline (epoch ms for the system clock). */
  now(): number;
  /**
   * Resolves after `ms`, or rejects promptly (with `signal.reason`) once
   * `signal` aborts. May resolve early for very long waits; callers that care
   * about a deadline re-check `now()` after waking.
   */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

// setTimeout fires at once for delays above 2^31-1 ms; longer sleeps wake early instead.
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, Math.min(Math.max(0, ms), MAX_TIMER_MS));
      signal.addEventListener('abort', onAbort, { once: true });
    }),
};

export class RetryGate {
  private notBeforeMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: Clock = systemClock) {}

  /** The time (on the gate's clock) before which no attempt should start. */
  get notBefore(): number {
    return this.notBeforeMs;
  }

  remainingMs(): number {
    return Math.max(0, this.notBeforeMs - this.clock.now());
  }

  /** Extends the barrier to `time`; never shortens it (the latest server demand wins). */
  deferUntil(time: number): void {
    if (time > this.notBeforeMs) this.notBeforeMs = time;
  }

  deferFor(ms: number): void {
    this.deferUntil(this.clock.now() + ms);
  }

  /**
   * Resolves once the barrier has passed, including extensions published while
   * waiting. Rejects promptly with `signal.reason` when `signal` aborts.
   */
  async wait(signal: AbortSignal): Promise<void> {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const remaining = this.remainingMs();
      if (remaining <= 0) return;
      await this.clock.sleep(remaining, signal);
    }
  }
}
