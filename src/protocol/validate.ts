/**
 * Validation of everything that crosses the host⇄webview boundary, for both
 * sides. Each side validates what it receives; nothing trusts the other.
 *
 * Contract: these functions never throw. A rejection says in one sentence
 * what was wrong (which method, which field, what was expected), so a bad
 * message is a clear log line rather than a crash deep in a view.
 */
import type { z } from 'zod';
import type { NotificationMessage, ReplyMessage, RequestMessage } from './envelope.ts';
import { HostEnvelope, RequestEnvelope } from './envelope.ts';
import type { ParamsOf, RequestMethod, ResultOf } from './messages.ts';
import { isNotificationMethod, isRequestMethod, notifications, requests } from './messages.ts';

export type RejectionCode = 'bad_message' | 'unknown_method' | 'bad_params' | 'bad_result';

export interface Rejection {
  code: RejectionCode;
  /** One sentence naming the method and the offending fields. */
  message: string;
  /** The request's id when it could be read, so the host can still reply. */
  requestId?: string;
  method?: string;
}

export type Parsed<T> = { ok: true; message: T } | { ok: false; rejection: Rejection };

const MAX_LISTED_ISSUES = 3;

/** "params.goal: The goal must not be empty; params.x: ..." (at most three issues). */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  const listed = error.issues.slice(0, MAX_LISTED_ISSUES).map((issue) => {
    const where = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return `${where || '(message)'}: ${issue.message}`;
  });
  const more = error.issues.length - listed.length;
  return `${listed.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}`;
}

function reject(code: RejectionCode, message: string, extra: { requestId?: string; method?: string } = {}) {
  return { ok: false as const, rejection: { code, message, ...extra } };
}

/** Host side: a message posted by a webview. */
export function parseRequest(raw: unknown): Parsed<RequestMessage> {
  const envelope = RequestEnvelope.safeParse(raw);
  if (!envelope.success) {
    return reject('bad_message', `Rejected a message from the webview that is not a request: ${describeIssues(envelope.error)}.`);
  }
  const { id, method, params } = envelope.data;
  if (!isRequestMethod(method)) {
    return reject('unknown_method', `Rejected request "${method}": no such method.`, { requestId: id, method });
  }
  const checked = requests[method].params.safeParse(params);
  if (!checked.success) {
    return reject('bad_params', `Rejected request "${method}": ${describeIssues(checked.error, 'params')}.`, { requestId: id, method });
  }
  return { ok: true, message: { kind: 'request', id, method, params: checked.data } as RequestMessage };
}

/** Webview side: a message posted by the host (a reply or a notification). */
export function parseHostMessage(raw: unknown): Parsed<ReplyMessage | NotificationMessage> {
  const envelope = HostEnvelope.safeParse(raw);
  if (!envelope.success) {
    return reject('bad_message', `Rejected a message from the host that is neither a reply nor a notification: ${describeIssues(envelope.error)}.`);
  }
  const message = envelope.data;
  if (message.kind === 'reply') return { ok: true, message };
  const { method, params } = message;
  if (!isNotificationMethod(method)) {
    return reject('unknown_method', `Rejected notification "${method}": no such method.`, { method });
  }
  const checked = notifications[method].params.safeParse(params);
  if (!checked.success) {
    return reject('bad_params', `Rejected notification "${method}": ${describeIssues(checked.error, 'params')}.`, { method });
  }
  return { ok: true, message: { kind: 'notify', method, params: checked.data } as NotificationMessage };
}

/** Webview side: the params of a request it is about to send (nothing bad leaves the view). */
export function parseParams<M extends RequestMethod>(method: M, params: unknown): Parsed<ParamsOf<M>> {
  const checked = requests[method].params.safeParse(params);
  if (!checked.success) return reject('bad_params', `${describeIssues(checked.error, 'params')}.`, { method });
  return { ok: true, message: checked.data as ParamsOf<M> };
}

/** Webview side: the value of a successful reply, checked against the method it answers. */
export function parseResult<M extends RequestMethod>(method: M, value: unknown): Parsed<ResultOf<M>> {
  const checked = requests[method].result.safeParse(value);
  if (!checked.success) {
    return reject('bad_result', `Rejected the reply to "${method}": ${describeIssues(checked.error, 'value')}.`, { method });
  }
  return { ok: true, message: checked.data as ResultOf<M> };
}
