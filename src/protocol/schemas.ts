/**
 * Value schemas the host⇄webview messages are made of. Domain records come
 * from the core (RunEvent, RunSummary) so the webview validates exactly what
 * the log and the run index hold; this module only adds what is specific to
 * the views.
 *
 * Contract: importable in a browser bundle (no Node, no `vscode`).
 */
import { z } from 'zod';

export { PROTOCOL_VERSION } from './version.ts';

export const ViewName = z.enum(['chat', 'history']);
export type ViewName = z.infer<typeof ViewName>;

/** Generous caps: they stop a runaway message, not a real user. */
export const MAX_TEXT = 100_000;
const Id = z.string().min(1).max(200);

export const RunId = Id;
export const RequestId = Id;
export const CallId = Id;

/**
 * What an error offers the user. Each is a host command, so the webview only
 * names it: Set API Key, Start Docker, Show Logs, Retry the failed run, or
 * manage workspace trust (runs are disabled in Restricted Mode).
 */
export const ErrorAction = z.enum(['setApiKey', 'startDocker', 'showLogs', 'retry', 'manageTrust']);
export type ErrorAction = z.infer<typeof ErrorAction>;

/**
 * The workspace's sandbox as the host sees it. `building` covers image builds
 * and the first copy-in; `unavailable` means Docker is not reachable.
 */
export const SandboxState = z.enum(['unknown', 'starting', 'building', 'ready', 'stopped', 'unavailable', 'error']);
export type SandboxState = z.infer<typeof SandboxState>;

export const SandboxStatus = z.object({
  state: SandboxState,
  /** One short sentence for the status line (e.g. "Docker is not running."). */
  detail: z.string().max(500).optional(),
});
export type SandboxStatus = z.infer<typeof SandboxStatus>;

/**
 * Why a request failed. Callers branch on `code`, never on `message`, which is
 * one sentence for the user; `actions` are what the user can do about it.
 */
export const ReplyErrorCode = z.enum([
  /** The message did not match the protocol (shape, method or params). */
  'bad_request',
  /** The webview and the host speak different protocol versions. */
  'protocol_mismatch',
  /** This view's host does not serve that method. */
  'unsupported',
  /** The workspace is not trusted: runs are disabled. */
  'untrusted',
  /** The run or question does not exist (any more). */
  'not_found',
  /** The request conflicts with the run's state (e.g. a run is already active). */
  'conflict',
  /** The host could not do it; `message` says why. */
  'failed',
  /** The reply did not match the method's result schema. */
  'bad_reply',
  /** A bug: the host threw something it did not expect. */
  'internal',
]);
export type ReplyErrorCode = z.infer<typeof ReplyErrorCode>;

export const ReplyError = z.object({
  code: ReplyErrorCode,
  message: z.string().max(2_000),
  actions: z.array(ErrorAction).optional(),
});
export type ReplyError = z.infer<typeof ReplyError>;
