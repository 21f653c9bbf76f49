/**
 * The model gateway: one `call` is one model turn, made of one or more
 * attempts against a ModelAdapter. It owns the resilience policy that the
 * vendor SDKs' own retries and timeouts must not duplicate:
 *
 * - Per-attempt limits: first part, idle gap between parts, total duration.
 *   Exceeding one aborts that attempt and fails it with ModelError('timeout').
 * - Retries of retryable ModelErrors with exponential backoff and full jitter;
 *   a server's retryAfterMs is honoured instead and published to the run's
 *   RetryGate, so every call of the run waits it out before its next attempt.
 * - One circuit breaker per endpoint around each attempt.
 * - The caller's signal ends the call promptly with ModelError('aborted'),
 *   whatever it is doing (streaming, backing off, waiting at the gate), and is
 *   never retried.
 *
 * `call` rejects with a ModelError; any other error is an adapter or hook bug,
 * passed through unchanged and not retried.
 */
import type { ProviderName } from '../events/schema.ts';
import type { BreakerRegistry } from './breaker.ts';
import { breakerKey } from './breaker.ts';
import { ModelError, isModelError, type ModelErrorKind } from './errors.ts';
import { systemClock, type Clock, type RetryGate } from './retry-gate.ts';
import type { ModelAdapter, ModelRequest, ModelTurnResult, StreamPart, ToolCallRecord, Usage } from './types.ts';

export interface AttemptLimits {
  /** Longest wait from the start of an attempt to its first stream part. */
  firstTokenMs: number;
  /** Longest gap between two stream parts. */
  idleMs: number;
  /** Longest duration of one attempt, however lively the stream. */
  totalMs: number;
}

export interface RetryPolicy {
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** Backoff ceiling of the first retry; doubles per retry up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A server-requested wait longer than this fails the call instead of waiting. */
  maxRetryAfterMs: number;
}

export const DEFAULT_LIMITS: Readonly<AttemptLimits> = { firstTokenMs: 60_000, idleMs: 60_000, totalMs: 600_000 };
export const DEFAULT_RETRY: Readonly<RetryPolicy> = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 300_000,
};

export interface RetryInfo {
  /** The attempt that failed (1-based); the next attempt is `attempt + 1`. */
  attempt: number;
  errorKind: ModelErrorKind;
  /** Planned wait before the next attempt, the run's RetryGate included. */
  delayMs: number;
  status?: number;
  /** True when the failed attempt had already sent parts to onPart. */
  discardPartial: boolean;
}

/**
 * Observers of one call. Contract: hooks must not throw (a throw fails the call
 * as a bug). onPart sees every part of every attempt, as it arrives. When an
 * attempt fails after emitting parts and is retried, onRetry is called with
 * `discardPartial: true` before any part of the next attempt: the listener
 * must drop what it showed of the failed attempt. onRetry is not called for a
 * failure that ends the call; the rejection itself voids any partial output.
 */
export interface CallHooks {
  onPart?(part: StreamPart): void;
  onRetry?(info: RetryInfo): void;
}

export interface GatewayOptions {
  adapterFor: (provider: ProviderName) => ModelAdapter;
  limits?: Partial<AttemptLimits>;
  retry?: Partial<RetryPolicy>;
  /** Shared by all agents of a run. */
  gate: RetryGate;
  /** May be shared process-wide. */
  breakers: BreakerRegistry;
  /** Endpoint key for the breaker registry; defaults to `breakerKey(provider)`. */
  breakerKeyFor?: (provider: ProviderName) => string;
  clock?: Clock;
  /** Uniform in [0, 1), for jitter. */
  random?: () => number;
}

type AttemptOutcome = Omit<ModelTurnResult, 'attempts' | 'durationMs'>;

export class ModelGateway {
  private readonly limits: AttemptLimits;
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly opts: GatewayOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    for (const [name, value] of Object.entries({ ...this.limits, maxAttempts: this.retry.maxAttempts })) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`gateway option ${name} must be a finite number > 0`);
    }
    for (const [name, value] of Object.entries(this.retry)) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`gateway option ${name} must be a finite number >= 0`);
    }
  }

  /**
   * Makes one model turn. `durationMs` spans the whole call (waits and failed
   * attempts included); `ttftMs` is measured within the successful attempt.
   */
  async call(provider: ProviderName, req: ModelRequest, signal: AbortSignal, hooks: CallHooks = {}): Promise<ModelTurnResult> {
    const started = this.clock.now();
    const adapter = this.opts.adapterFor(provider);
    const breaker = this.opts.breakers.get((this.opts.breakerKeyFor ?? breakerKey)(provider));

    for (let attempt = 1; ; attempt++) {
      await this.abortable(() => this.opts.gate.wait(signal), provider, signal);
      let emitted = false;
      const emit = (part: StreamPart): void => {
        emitted = true;
        hooks.onPart?.(part);
      };
      try {
        // The attempt classifies its own failure, so the breaker counts timeouts and ignores aborts.
        const turn = await breaker.run(() => this.attempt(adapter, req, signal, emit), signal);
        return { ...turn, attempts: attempt, durationMs: this.clock.now() - started };
      } catch (e) {
        const error = signal.aborted ? abortedError(provider, signal) : e;
        if (!isModelError(error) || !error.retryable || attempt >= this.retry.maxAttempts) throw error;
        const delayMs = this.planRetry(error, attempt);
        hooks.onRetry?.({
          attempt,
          errorKind: error.kind,
          delayMs: Math.max(delayMs, this.opts.gate.remainingMs()),
          ...(error.status === undefined ? {} : { status: error.status }),
          discardPartial: emitted,
        });
        if (delayMs > 0) await this.abortable(() => this.clock.sleep(delayMs, signal), provider, signal);
      }
    }
  }

  /**
   * Returns the backoff to sleep before the next attempt. A server-requested
   * wait goes to the gate instead (and the backoff is 0); one above the cap
   * rethrows `error`, since waiting that long would look like a hang.
   */
  private planRetry(error: ModelError, attempt: number): number {
    if (error.retryAfterMs !== undefined) {
      if (error.retryAfterMs > this.retry.maxRetryAfterMs) throw error;
      this.opts.gate.deferFor(error.retryAfterMs);
      return 0;
    }
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling);
  }

  private async attempt(
    adapter: ModelAdapter,
    req: ModelRequest,
    callerSignal: AbortSignal,
    emit: (part: StreamPart) => void,
  ): Promise<AttemptOutcome> {
    const provider = adapter.provider;
    if (callerSignal.aborted) throw abortedError(provider, callerSignal);
    const control = new AbortController();
    const forwardAbort = (): void => control.abort(callerSignal.reason);
    callerSignal.addEventListener('abort', forwardAbort, { once: true });
    const stopped = rejectOnAbort(control.signal);
    const watchdog = new Watchdog(this.clock, this.limits, () => control.abort(new Error('attempt timed out')));
    const assembler = new TurnAssembler();
    const startedAt = this.clock.now();
    let iterator: AsyncIterator<StreamPart> | undefined;
    let finished = false;
    try {
      iterator = adapter.stream(req, control.signal)[Symbol.asyncIterator]();
      for (;;) {
        // Racing with the abort keeps the limits and the caller's abort effective
        // even against an adapter that does not honour its signal.
        const next = iterator.next();
        next.catch(noop);
        const step = await Promise.race([next, stopped]);
        if (step.done) break;
        watchdog.touch();
        assembler.add(step.value, this.clock.now() - startedAt);
        emit(step.value);
      }
      finished = true;
      return assembler.result(provider);
    } catch (e) {
      if (callerSignal.aborted) throw abortedError(provider, callerSignal);
      if (watchdog.tripped) {
        const ms = this.limits[watchdog.tripped];
        throw new ModelError('timeout', `model attempt exceeded ${watchdog.tripped} limit of ${ms} ms`, { provider, cause: e });
      }
      throw e;
    } finally {
      watchdog.stop();
      callerSignal.removeEventListener('abort', forwardAbort);
      if (!finished) {
        control.abort(new Error('attempt abandoned'));
        Promise.resolve(iterator?.return?.()).catch(noop);
      }
    }
  }

  private async abortable(wait: () => Promise<void>, provider: ProviderName, signal: AbortSignal): Promise<void> {
    try {
      await wait();
    } catch (e) {
      if (signal.aborted) throw abortedError(provider, signal);
      throw e;
    }
  }
}

/**
 * Folds one attempt's parts into a turn. Tool calls are keyed by their stream
 * index: a delta may precede its start (the start then fills in id and name),
 * and the calls come out in index order. Usage parts may be partial and
 * cumulative, so each field keeps the latest value reported.
 */
class TurnAssembler {
  private text = '';
  private readonly calls = new Map<number, ToolCallRecord>();
  private usage: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  private stopReason: string | undefined;
  private ttftMs: number | undefined;

  /** `elapsedMs`: time since the attempt started, for the time to first token. */
  add(part: StreamPart, elapsedMs: number): void {
    switch (part.type) {
      case 'text-delta':
        this.text += part.text;
        break;
      case 'tool-call-start': {
        const call = this.callAt(part.index);
        if (part.id) call.id = part.id;
        if (part.name) call.name = part.name;
        break;
      }
      case 'tool-call-delta':
        this.callAt(part.index).argsText += part.argsDelta;
        break;
      case 'usage':
        for (const [field, value] of Object.entries(part.usage) as [keyof Usage, number | undefined][]) {
          if (value !== undefined) this.usage[field] = value;
        }
        break;
      case 'finish':
        this.stopReason = part.stopReason;
        break;
    }
    if (this.ttftMs === undefined && part.type !== 'usage' && part.type !== 'finish') this.ttftMs = elapsedMs;
  }

  /** Throws ModelError('network') for a stream that ended without a finish part (cut off). */
  result(provider: string): AttemptOutcome {
    if (this.stopReason === undefined) {
      throw new ModelError('network', 'model stream ended without a finish part', { provider });
    }
    const toolCalls = [...this.calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
    return {
      text: this.text,
      toolCalls,
      stopReason: this.stopReason,
      usage: this.usage,
      ...(this.ttftMs === undefined ? {} : { ttftMs: this.ttftMs }),
    };
  }

  private callAt(index: number): ToolCallRecord {
    let call = this.calls.get(index);
    if (!call) {
      call = { id: '', name: '', argsText: '' };
      this.calls.set(index, call);
    }
    return call;
  }
}

/**
 * Aborts an attempt when a limit passes. Sleeps until the nearest deadline and
 * re-evaluates on waking instead of re-arming a timer per stream part.
 */
class Watchdog {
  tripped: keyof AttemptLimits | undefined;
  private readonly startedAt: number;
  private lastPartAt: number | undefined;
  private readonly stopper = new AbortController();

  constructor(
    private readonly clock: Clock,
    private readonly limits: AttemptLimits,
    private readonly onTrip: () => void,
  ) {
    this.startedAt = clock.now();
    void this.watch();
  }

  touch(): void {
    this.lastPartAt = this.clock.now();
  }

  stop(): void {
    this.stopper.abort();
  }

  private nextDeadline(): { at: number; limit: keyof AttemptLimits } {
    const total = { at: this.startedAt + this.limits.totalMs, limit: 'totalMs' as const };
    const part =
      this.lastPartAt === undefined
        ? { at: this.startedAt + this.limits.firstTokenMs, limit: 'firstTokenMs' as const }
        : { at: this.lastPartAt + this.limits.idleMs, limit: 'idleMs' as const };
    return part.at < total.at ? part : total;
  }

  private async watch(): Promise<void> {
    while (!this.stopper.signal.aborted) {
      const { at, limit } = this.nextDeadline();
      const wait = at - this.clock.now();
      if (wait <= 0) {
        this.tripped = limit;
        this.onTrip();
        return;
      }
      try {
        await this.clock.sleep(wait, this.stopper.signal);
      } catch {
        return;
      }
    }
  }
}

function abortedError(provider: string, signal: AbortSignal): ModelError {
  return new ModelError('aborted', 'model call aborted', { provider, cause: signal.reason });
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  const stopped = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  stopped.catch(noop);
  return stopped;
}

function noop(): void {}
