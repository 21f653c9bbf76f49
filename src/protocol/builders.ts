/**
 * Typed builders for the three wire shapes (envelope.ts describes them and
 * holds their zod schemas). Kept apart from the schemas, with type-only
 * imports, so that building a message loads no zod: the host's channel is
 * loaded at activation, its validation only with the first message.
 */
import type { NotificationIn, NotificationMethod, ParamsIn, RequestMethod, ResultIn } from './messages.ts';
import type { ReplyError } from './schemas.ts';

export function requestMessage<M extends RequestMethod>(id: string, method: M, params: ParamsIn<M>) {
  return { kind: 'request' as const, id, method, params };
}

export function okReply<M extends RequestMethod>(id: string, _method: M, value: ResultIn<M>) {
  return { kind: 'reply' as const, id, result: { ok: true as const, value } };
}

export function errorReply(id: string, error: ReplyError) {
  return { kind: 'reply' as const, id, result: { ok: false as const, error } };
}

export function notificationMessage<M extends NotificationMethod>(method: M, params: NotificationIn<M>) {
  return { kind: 'notify' as const, method, params };
}
