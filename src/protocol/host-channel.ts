/**
 * The host's end of one webview's channel: validates what the webview posts,
 * dispatches requests to handlers, replies, and sends notifications once the
 * view is ready. Knows nothing of `vscode`: the extension passes a port that
 * wraps `webview.postMessage` and feeds `receive` from `onDidReceiveMessage`.
 *
 * Contract:
 * - Every request gets exactly one reply, also when it is malformed (if its id
 *   can be read), unknown, unserved, or its handler throws.
 * - The handshake: the webview's first message is `ui/ready`. The channel
 *   answers it (protocol version check, trust) and only then calls `onReady`,
 *   where the host sends the view's state (`transcript/reset`, ...). A view
 *   that reloads sends `ui/ready` again and gets its state again.
 * - Notifications sent before the view is ready are dropped (`notify` returns
 *   false): the state sent from `onReady` supersedes them.
 * - A handler signals an expected failure by throwing RequestFailed; anything
 *   else it throws is a bug, answered with code 'internal' and reported to
 *   `onHandlerError` (the message to the user does not echo internals).
 */
import { errorReply, notificationMessage, okReply } from './builders.ts';
import type { NotificationIn, NotificationMethod, ParamsOf, RequestMethod, ResultIn } from './messages.ts';
import type { ErrorAction, ReplyError, ReplyErrorCode, ViewName } from './schemas.ts';
import type { Rejection } from './validate.ts';
import { PROTOCOL_VERSION } from './version.ts';

type Validation = typeof import('./validate.ts');
let validation: Promise<Validation> | undefined;

/**
 * The validators (zod and every message schema, the core's RunEvent union
 * included) load with the first message a view posts, not with this module:
 * activation imports RequestFailed from here and must stay cheap. In the
 * extension's build this import is a bundle of its own,
 * dist/extension-protocol.cjs (esbuild.mjs), so the activation bundle holds
 * no zod.
 * A failed load is retried with the next message.
 */
function loadValidation(): Promise<Validation> {
  validation ??= import('./validate.ts').catch((e: unknown) => {
    validation = undefined;
    throw e;
  });
  return validation;
}

export interface OutboundPort {
  /** `webview.postMessage`; a returned promise is awaited so replies keep their order. */
  post(message: unknown): void | PromiseLike<unknown>;
}

export type RequestHandlers = {
  [M in Exclude<RequestMethod, 'ui/ready'>]?: (params: ParamsOf<M>) => ResultIn<M> | PromiseLike<ResultIn<M>>;
};

/** An expected failure of a request, shown to the user as `message` with `actions`. */
export class RequestFailed extends Error {
  override readonly name = 'RequestFailed';
  constructor(
    readonly code: Exclude<ReplyErrorCode, 'bad_request' | 'bad_reply' | 'internal'>,
    message: string,
    readonly actions: ErrorAction[] = [],
  ) {
    super(message);
  }
}

export interface HostChannelOptions {
  view: ViewName;
  /** Asked at each handshake. */
  trust(): { trusted: boolean; reason?: string };
  /** The view is ready (again): send its state. Errors go to onHandlerError. */
  onReady(): void | PromiseLike<void>;
  /** A message that broke the protocol (for the log). */
  onRejected(rejection: Rejection): void;
  /** A handler or onReady threw something other than RequestFailed (for the log). */
  onHandlerError(method: string, error: unknown): void;
}

const UNEXPECTED = 'Crewbox hit an unexpected error. Show Logs has the details.';

export class HostChannel {
  #ready = false;

  constructor(
    private readonly port: OutboundPort,
    private readonly handlers: RequestHandlers,
    private readonly options: HostChannelOptions,
  ) {}

  get isReady(): boolean {
    return this.#ready;
  }

  /** The webview was disposed or is reloading: hold notifications until its next `ui/ready`. */
  reset(): void {
    this.#ready = false;
  }

  /** Sends a notification if the view is ready; returns whether it was sent. */
  notify<M extends NotificationMethod>(method: M, params: NotificationIn<M>): boolean {
    if (!this.#ready) return false;
    void this.post(notificationMessage(method, params));
    return true;
  }

  /** Handles one message from the webview. Contract: never rejects. */
  async receive(raw: unknown): Promise<void> {
    let parseRequest: Validation['parseRequest'];
    try {
      ({ parseRequest } = await loadValidation());
    } catch (e) {
      return this.options.onHandlerError('receive', e);
    }
    const parsed = parseRequest(raw);
    if (!parsed.ok) {
      const { rejection } = parsed;
      this.options.onRejected(rejection);
      if (rejection.requestId !== undefined) {
        await this.post(errorReply(rejection.requestId, { code: 'bad_request', message: rejection.message }));
      }
      return;
    }
    const request = parsed.message;
    if (request.method === 'ui/ready') return this.handshake(request.id, request.params);
    const handler = this.handlers[request.method] as ((params: unknown) => unknown) | undefined;
    if (!handler) {
      await this.post(errorReply(request.id, { code: 'unsupported', message: `The ${this.options.view} view's host does not handle "${request.method}".` }));
      return;
    }
    let reply: unknown;
    try {
      reply = okReply(request.id, request.method, (await handler(request.params)) as ResultIn<typeof request.method>);
    } catch (e) {
      reply = errorReply(request.id, this.failure(request.method, e));
    }
    await this.post(reply);
  }

  private async handshake(id: string, params: ParamsOf<'ui/ready'>): Promise<void> {
    if (params.view !== this.options.view || params.protocol !== PROTOCOL_VERSION) {
      this.#ready = false;
      const message =
        params.view !== this.options.view
          ? `This panel expected the ${this.options.view} view but the ${params.view} view loaded.`
          : 'This Crewbox view is out of date. Reload the window to update it.';
      await this.post(errorReply(id, { code: 'protocol_mismatch', message }));
      return;
    }
    const { trusted, reason } = this.options.trust();
    await this.post(okReply(id, 'ui/ready', { protocol: PROTOCOL_VERSION, trusted, ...(reason !== undefined && { untrustedReason: reason }) }));
    this.#ready = true;
    try {
      await this.options.onReady();
    } catch (e) {
      this.options.onHandlerError('ui/ready', e);
    }
  }

  private failure(method: string, e: unknown): ReplyError {
    if (e instanceof RequestFailed) return { code: e.code, message: e.message, ...(e.actions.length > 0 && { actions: e.actions }) };
    this.options.onHandlerError(method, e);
    return { code: 'internal', message: UNEXPECTED, actions: ['showLogs'] };
  }

  private async post(message: unknown): Promise<void> {
    try {
      await this.port.post(message);
    } catch (e) {
      // A disposed webview cannot be answered; the next ui/ready starts over.
      this.#ready = false;
      this.options.onHandlerError('postMessage', e);
    }
  }
}
