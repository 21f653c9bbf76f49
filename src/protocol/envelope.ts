/**
 * The three message shapes on the wire and typed builders for senders.
 *
 *   webview → host  { kind: 'request', id, method, params }
 *   host → webview  { kind: 'reply', id, result: { ok: true, value } | { ok: false, error } }
 *   host → webview  { kind: 'notify', method, params }
 *
 * Messages are plain JSON (VS Code's postMessage serialises them): no
 * undefined values that matter, no class instances.
 */
import { z } from 'zod';
import type { NotificationMethod, NotificationOf, ParamsOf, RequestMethod } from './messages.ts';
import { ReplyError, RequestId } from './schemas.ts';

const Method = z.string().min(1).max(100);

export const RequestEnvelope = z.object({
  kind: z.literal('request'),
  id: RequestId,
  method: Method,
  params: z.unknown(),
});

export const ReplyResult = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: ReplyError }),
]);

export const ReplyEnvelope = z.object({ kind: z.literal('reply'), id: RequestId, result: ReplyResult });
export const NotificationEnvelope = z.object({ kind: z.literal('notify'), method: Method, params: z.unknown() });
export const HostEnvelope = z.discriminatedUnion('kind', [ReplyEnvelope, NotificationEnvelope]);

export type Result<T> = { ok: true; value: T } | { ok: false; error: ReplyError };

/** A validated request, discriminated by method. */
export type RequestMessage<M extends RequestMethod = RequestMethod> = M extends RequestMethod
  ? { kind: 'request'; id: string; method: M; params: ParamsOf<M> }
  : never;

/** A validated notification, discriminated by method. */
export type NotificationMessage<M extends NotificationMethod = NotificationMethod> = M extends NotificationMethod
  ? { kind: 'notify'; method: M; params: NotificationOf<M> }
  : never;

/** A reply whose value is not yet checked against its method's result schema. */
export type ReplyMessage = z.output<typeof ReplyEnvelope>;

// The builders live in builders.ts (no zod at load); re-exported here for senders that already import this module.
export { errorReply, notificationMessage, okReply, requestMessage } from './builders.ts';
