/**
 * Vendor-neutral error classification shared by the adapters. Each adapter
 * pulls the structured fields out of its SDK's error class and asks here for
 * the kind; nothing in this file looks at message text.
 */
import { ModelError, type ModelErrorKind } from '../errors.ts';
import type { ProviderName } from '../../events/schema.ts';

/** The structured parts of a provider error, as far as the wire gave them. */
export interface ApiErrorFields {
  /** HTTP status; absent for errors sent inside an already-started stream. */
  status?: number | undefined;
  /** Error type: Anthropic `error.type` (`overloaded_error`...) or OpenAI `error.type`. */
  type?: string | null | undefined;
  /** Error code: OpenAI `error.code`, Anthropic `error.details.error_code`. */
  code?: string | null | undefined;
}

/** Types and codes that decide the kind whatever the status says. */
const BY_TYPE_OR_CODE: ReadonlyMap<string, ModelErrorKind> = new Map<string, ModelErrorKind>([
  ['context_length_exceeded', 'context_too_long'],
  ['request_too_large', 'context_too_long'],
  ['overloaded_error', 'overloaded'],
  ['rate_limit_error', 'rate_limit'],
  ['rate_limit_exceeded', 'rate_limit'],
  ['authentication_error', 'auth'],
  ['permission_error', 'auth'],
  ['invalid_api_key', 'auth'],
  // Out of credit: retrying cannot help, the user has to act on the account,
  // which is what 'auth' (non-retryable, "check your key/account") asks for.
  ['billing_error', 'auth'],
  ['insufficient_quota', 'auth'],
  ['timeout_error', 'timeout'],
]);

/** Errors sent inside a 200 stream carry no status; these types still tell us the kind. */
const IN_STREAM_TYPE: ReadonlyMap<string, ModelErrorKind> = new Map<string, ModelErrorKind>([
  ['invalid_request_error', 'bad_request'],
  ['not_found_error', 'bad_request'],
  ['api_error', 'server'],
  ['server_error', 'server'],
]);

export function classifyApiError(fields: ApiErrorFields): ModelErrorKind {
  for (const key of [fields.code, fields.type]) {
    const kind = key ? BY_TYPE_OR_CODE.get(key) : undefined;
    if (kind) return kind;
  }
  const { status } = fields;
  if (status === undefined) {
    // An error event mid-stream: the request was accepted, so an unknown type
    // is most likely the provider failing, which is worth another attempt.
    return (fields.type ? IN_STREAM_TYPE.get(fields.type) : undefined) ?? 'server';
  }
  return classifyStatus(status);
}

export function classifyStatus(status: number): ModelErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  // Conflict (e.g. a lock held by a concurrent request) clears on its own.
  if (status === 409) return 'server';
  if (status === 413) return 'context_too_long';
  if (status === 429) return 'rate_limit';
  if (status === 529) return 'overloaded';
  if (status >= 400 && status < 500) return 'bad_request';
  return 'server';
}

/** The one method of fetch's `Headers` we need, so callers can pass either SDK's. */
export interface HeaderLookup {
  get(name: string): string | null;
}

/**
 * The server-requested wait in ms: `retry-after-ms` (non-standard, sent by
 * OpenAI), else `retry-after` as seconds or an HTTP-date. Undefined when absent
 * or unparseable; a date in the past gives 0.
 */
export function parseRetryAfter(headers: HeaderLookup | undefined | null, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = parseNonNegative(headers.get('retry-after-ms'));
  if (ms !== undefined) return Math.round(ms);
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return undefined;
  const seconds = parseNonNegative(raw);
  if (seconds !== undefined) return Math.round(seconds * 1000);
  // HTTP-dates always name a weekday/month; bare numbers that failed above
  // (negative, exponent) must not reach Date.parse, which accepts them as years.
  const date = /[a-z]/i.test(raw) ? Date.parse(raw) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function parseNonNegative(raw: string | null): number | undefined {
  if (raw === null || !/^\s*\d+(\.\d+)?\s*$/.test(raw)) return undefined;
  return Number(raw);
}

/** What an adapter learned from its SDK's error classes, without the vendor types. */
export type SdkFailure =
  | { readonly via: 'abort' }
  | { readonly via: 'connection'; readonly timedOut: boolean }
  | {
      readonly via: 'api';
      readonly fields: ApiErrorFields;
      readonly headers?: HeaderLookup | undefined;
      /** The provider's human-readable message, when the SDK separates it from the raw body. */
      readonly detail?: string | null | undefined;
    }
  /** Anything else thrown while the request or its body was in flight (socket reset, garbled SSE). */
  | { readonly via: 'transport' };

const PROVIDER_LABEL: Record<ProviderName, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };

const KIND_TEXT: Record<ModelErrorKind, string> = {
  auth: 'the API key was rejected or the account cannot make this call',
  rate_limit: 'rate limited',
  overloaded: 'the provider is overloaded',
  context_too_long: 'the request is too large for the model',
  bad_request: 'the provider rejected the request',
  network: 'the connection failed',
  timeout: 'the request timed out',
  server: 'the provider failed',
  circuit_open: 'calls are paused after repeated failures',
  aborted: 'the call was aborted',
};

/**
 * The one place an SDK failure becomes a ModelError. An aborted signal wins
 * over whatever the SDK reported, because an abort surfaces in several guises
 * (user-abort error, reset stream, silent end of iteration).
 */
export function toModelError(provider: ProviderName, failure: SdkFailure, signal: AbortSignal, cause: unknown): ModelError {
  const detail = (failure.via === 'api' && failure.detail) || (cause instanceof Error ? cause.message : String(cause));
  const make = (kind: ModelErrorKind, extra: { status?: number; retryAfterMs?: number } = {}): ModelError => {
    const status = extra.status === undefined ? '' : ` (HTTP ${extra.status})`;
    return new ModelError(kind, `${PROVIDER_LABEL[provider]}: ${KIND_TEXT[kind]}${status}: ${detail}`, { ...extra, provider, cause });
  };
  if (signal.aborted || failure.via === 'abort') return make('aborted');
  switch (failure.via) {
    case 'connection':
      return make(failure.timedOut ? 'timeout' : 'network');
    case 'transport':
      return make('network');
    case 'api': {
      const extra: { status?: number; retryAfterMs?: number } = {};
      if (failure.fields.status !== undefined) extra.status = failure.fields.status;
      const retryAfterMs = parseRetryAfter(failure.headers);
      if (retryAfterMs !== undefined) extra.retryAfterMs = retryAfterMs;
      return make(classifyApiError(failure.fields), extra);
    }
  }
}

/** The stream closed without the provider's end-of-message marker. */
export function truncatedStreamError(provider: ProviderName, signal: AbortSignal): ModelError {
  if (signal.aborted) return new ModelError('aborted', `${PROVIDER_LABEL[provider]}: ${KIND_TEXT.aborted}.`, { provider });
  return new ModelError('network', `${PROVIDER_LABEL[provider]}: the response stream ended before the message was complete.`, { provider });
}
