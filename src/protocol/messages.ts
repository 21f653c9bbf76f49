/**
 * Every message between the host and the Crewbox webviews, by name.
 *
 * - Requests go webview → host, carry an id and get exactly one reply
 *   `{ ok: true, value } | { ok: false, error }` (see envelope.ts).
 * - Notifications go host → webview and get no reply.
 *
 * The transcript travels as RunEvents (the log's own schema): the host sends
 * the run's durable log once (`transcript/reset`, on ready or when the chat
 * switches runs; a long log as its tail, older pages on request with
 * `transcript/page`) and then only new events (`transcript/append`), durable
 * and ephemeral alike. The webview folds them into its own view model. See
 * README.md for the rules both sides follow.
 */
import { z } from 'zod';
import { RunEvent } from '../core/events/schema.ts';
import { RunSummary } from '../core/store/run-summary.ts';
import {
  CallId,
  ErrorAction,
  MAX_TEXT,
  RunId,
  SandboxStatus,
  ViewName,
} from './schemas.ts';

const NoParams = z.object({}).strict();
const Ack = z.null();
const Started = z.object({ runId: RunId });
const Text = (what: string) =>
  z.string().trim().min(1, `${what} must not be empty`).max(MAX_TEXT, `${what} is longer than ${MAX_TEXT} characters`);

/** What a transcript page leaves out and its fold needs (transcript-page.ts `Earlier`). */
const Earlier = z.object({
  count: z.number().int().positive(),
  prelude: z.array(RunEvent),
  usage: z.object({ tokens: z.number().int().nonnegative(), costUsd: z.number().nonnegative() }),
});

/** webview → host. Each entry: what the params are and what the reply's value is. */
export const requests = {
  /** The handshake: the first message a (re)loaded view sends. The host answers, then sends its state. */
  'ui/ready': {
    params: z.object({ view: ViewName, protocol: z.number().int().positive() }),
    result: z.object({ protocol: z.number().int().positive(), trusted: z.boolean(), untrustedReason: z.string().max(500).optional() }),
  },
  'run/start': { params: z.object({ goal: Text('The goal') }), result: Started },
  /** Stops the run: model stream aborted, running command killed. Ends with `run.interrupted` in the transcript. */
  'run/interrupt': { params: z.object({ runId: RunId }), result: Ack },
  /** Continues a stopped run, optionally steering it with a message to the working agent. */
  'run/resume': { params: z.object({ runId: RunId, message: Text('The message').optional() }), result: Started },
  /** Answers the run's open ask_user question (`callId` from `ask_user.asked`) and continues the run. */
  'run/answer': { params: z.object({ runId: RunId, callId: CallId, answer: Text('The answer') }), result: Started },
  /** Drops a stopped run's proposed changes; the run stays in the history. */
  'run/discard': { params: z.object({ runId: RunId }), result: Ack },
  /** Rollback: a new run whose state is this run's state after `step`; the original is kept. */
  'run/fork': { params: z.object({ runId: RunId, step: z.number().int().nonnegative() }), result: Started },
  'review/open': { params: z.object({ runId: RunId }), result: Ack },
  /** An error's action button (see ErrorAction); `runId` for Retry. */
  'action/invoke': { params: z.object({ action: ErrorAction, runId: RunId.optional() }), result: Ack },
  /** Every run of the workspace, newest first. */
  'history/list': { params: NoParams, result: z.object({ runs: z.array(RunSummary) }) },
  /** The shown run's durable events before `beforeSeq`, a page at a time ("load earlier" in the chat). */
  'transcript/page': {
    params: z.object({ runId: RunId, beforeSeq: z.number().int().positive() }),
    result: z.object({ runId: RunId, events: z.array(RunEvent), earlier: Earlier.optional() }),
  },
  /** A run's durable log; the webview folds it into spans itself (src/core/trace/spans.ts). */
  'trace/get': { params: z.object({ runId: RunId }), result: z.object({ runId: RunId, events: z.array(RunEvent) }) },
  /** Exports the run's trace as OTLP JSON where the user chooses; `saved` is false when they cancel. */
  'trace/export': {
    params: z.object({ runId: RunId }),
    result: z.object({ saved: z.boolean(), location: z.string().max(4_000).optional() }),
  },
} as const satisfies Record<string, { params: z.ZodType; result: z.ZodType }>;

/** host → webview. */
export const notifications = {
  /**
   * The chat now shows this run (null: no run) and these are its durable events so far: all of
   * them, or the latest with `earlier` saying what was left out (older pages: `transcript/page`).
   */
  'transcript/reset': { params: z.object({ runId: RunId.nullable(), events: z.array(RunEvent), earlier: Earlier.optional() }) },
  /** New events of the shown run, in order (durable and ephemeral). */
  'transcript/append': { params: z.object({ runId: RunId, events: z.array(RunEvent).min(1) }) },
  /** What the log cannot say: whether a live process drives the shown run, and the sandbox's state. */
  'status/update': { params: z.object({ driving: z.boolean(), sandbox: SandboxStatus }) },
  /** Runs that were active when the window closed or the host crashed: offered for resuming. */
  'runs/resumable': { params: z.object({ runs: z.array(RunSummary) }) },
  /** An error outside any run's log (no API key, Docker down...), one sentence plus actions. */
  'notice/error': { params: z.object({ message: z.string().min(1).max(2_000), actions: z.array(ErrorAction) }) },
  'notice/clear': { params: NoParams },
  /** Runs added or changed since `history/list` (upserts by id). */
  'history/update': { params: z.object({ runs: z.array(RunSummary).min(1) }) },
  /** The history view should open this run's trace (the Open Trace command). */
  'trace/show': { params: z.object({ runId: RunId }) },
  'workspace/trust': { params: z.object({ trusted: z.boolean(), reason: z.string().max(500).optional() }) },
} as const satisfies Record<string, { params: z.ZodType }>;

export type RequestMethod = keyof typeof requests;
export type NotificationMethod = keyof typeof notifications;

/** What a sender writes (defaults may be left out). */
export type ParamsIn<M extends RequestMethod> = z.input<(typeof requests)[M]['params']>;
/** What a receiver gets after validation. */
export type ParamsOf<M extends RequestMethod> = z.output<(typeof requests)[M]['params']>;
export type ResultIn<M extends RequestMethod> = z.input<(typeof requests)[M]['result']>;
export type ResultOf<M extends RequestMethod> = z.output<(typeof requests)[M]['result']>;
export type NotificationIn<M extends NotificationMethod> = z.input<(typeof notifications)[M]['params']>;
export type NotificationOf<M extends NotificationMethod> = z.output<(typeof notifications)[M]['params']>;

export function isRequestMethod(method: string): method is RequestMethod {
  return Object.hasOwn(requests, method);
}

export function isNotificationMethod(method: string): method is NotificationMethod {
  return Object.hasOwn(notifications, method);
}
