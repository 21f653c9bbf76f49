/**
 * Circuit breakers for model endpoints, one per provider key (provider +
 * baseURL). The only module that imports `cockatiel`.
 *
 * Policy: `threshold` consecutive attempt failures of an infrastructure kind
 * (network, timeout, server, overloaded by default) open the circuit; while
 * open, attempts fail at once with ModelError('circuit_open'). After
 * `cooldownMs` the next attempt is let through as a probe (half-open): its
 * success closes the circuit, a tripping failure opens it again, and other
 * attempts wait for the probe's outcome. Errors the caller or the request
 * caused (auth, bad_request, context_too_long, aborted) neither count nor reset
 * the count. rate_limit is left out by default: the RetryGate already paces
 * those with the server's own Retry-After, and opening the circuit would only
 * add a second, blind wait.
 *
 * Known limit (cockatiel semantics): a half-open probe that ends with a
 * non-tripping error, an abort included, closes the circuit.
 *
 * Cooldowns are measured with the wall clock (cockatiel reads Date.now()).
 */
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, IsolatedCircuitError, circuitBreaker, handleWhen } from 'cockatiel';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { ProviderName } from '../events/schema.ts';
import { ModelError, isModelError, type ModelErrorKind } from './errors.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive tripping failures that open the circuit. Default 5. */
  threshold?: number;
  /** How long the circuit stays open before a probe is allowed. Default 30 s. */
  cooldownMs?: number;
  /** Error kinds that count as endpoint failures. */
  tripOn?: ReadonlySet<ModelErrorKind>;
}

export const DEFAULT_TRIP_KINDS: ReadonlySet<ModelErrorKind> = new Set(['network', 'timeout', 'server', 'overloaded']);

/** The registry key for an endpoint: same provider at another baseURL is another breaker. */
export function breakerKey(provider: ProviderName, baseURL?: string): string {
  return baseURL ? `${provider} ${baseURL.replace(/\/+$/, '')}` : provider;
}

export class ProviderBreaker {
  private readonly policy: CircuitBreakerPolicy;

  constructor(
    readonly key: string,
    opts: BreakerOptions = {},
  ) {
    const tripOn = opts.tripOn ?? DEFAULT_TRIP_KINDS;
    this.policy = circuitBreaker(
      handleWhen((e) => isModelError(e) && tripOn.has(e.kind)),
      { halfOpenAfter: opts.cooldownMs ?? 30_000, breaker: new ConsecutiveBreaker(opts.threshold ?? 5) },
    );
  }

  get state(): BreakerState {
    switch (this.policy.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /**
   * Runs one attempt through the breaker. Rejects with ModelError('circuit_open')
   * while open, with ModelError('aborted') as soon as `signal` aborts (also
   * while waiting for a half-open probe), otherwise as `attempt` does.
   */
  async run<T>(attempt: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) throw this.aborted(signal);
    const guarded = this.policy.execute(() => {
      // A caller that gave up while queued behind a probe must not start an attempt later.
      if (signal.aborted) throw this.aborted(signal);
      return attempt();
    });
    try {
      return await raceAbort(guarded, signal, () => this.aborted(signal));
    } catch (e) {
      if (e instanceof BrokenCircuitError || e instanceof IsolatedCircuitError) {
        throw new ModelError('circuit_open', `circuit open for ${this.key} after repeated failures`, {
          provider: this.key,
          cause: e,
        });
      }
      throw e;
    }
  }

  private aborted(signal: AbortSignal): ModelError {
    return new ModelError('aborted', 'model call aborted', { provider: this.key, cause: signal.reason });
  }
}

/** One breaker per key, created on first use. Share one registry process-wide by passing it in. */
export class BreakerRegistry {
  private readonly breakers = new Map<string, ProviderBreaker>();

  constructor(private readonly opts: BreakerOptions = {}) {}

  get(key: string): ProviderBreaker {
    let breaker = this.breakers.get(key);
    if (!breaker) {
      breaker = new ProviderBreaker(key, this.opts);
      this.breakers.set(key, breaker);
    }
    return breaker;
  }
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}
