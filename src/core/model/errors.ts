/**
 * Typed infrastructure errors from the model gateway. The kind is decided once,
 * in the adapter, from structured fields (HTTP status, error type/code), never
 * by matching message text.
 */
import type { ErrorKind } from '../events/schema.ts';

export type ModelErrorKind = Extract<
  ErrorKind,
  'auth' | 'rate_limit' | 'overloaded' | 'context_too_long' | 'bad_request' | 'network' | 'timeout' | 'server' | 'circuit_open' | 'aborted'
>;

const RETRYABLE: ReadonlySet<ModelErrorKind> = new Set(['rate_limit', 'overloaded', 'network', 'timeout', 'server']);

export class ModelError extends Error {
  override readonly name = 'ModelError';
  readonly kind: ModelErrorKind;
  readonly status: number | undefined;
  /** Server-requested wait in ms (Retry-After / retry-after-ms), if any. */
  readonly retryAfterMs: number | undefined;
  readonly provider: string | undefined;

  constructor(
    kind: ModelErrorKind,
    message: string,
    opts: { status?: number; retryAfterMs?: number; provider?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.kind = kind;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.provider = opts.provider;
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

export function isModelError(e: unknown): e is ModelError {
  return e instanceof ModelError;
}
