/**
 * The webview's end of the channel: typed requests with ids and validated
 * replies, and validated notifications dispatched to handlers. Runs in the
 * browser; the webview passes a port over `acquireVsCodeApi().postMessage`
 * and feeds `receive` from the window's `message` events.
 *
 * Contract:
 * - `request` never rejects: it resolves with `{ ok: false, error }` when the
 *   params are invalid (nothing is posted), when the host answers with an
 *   error, or when the reply's value does not match the method's result.
 * - Every host message is validated before any handler sees it; rejected
 *   messages go to `onRejected` and change nothing.
 */
import type { Result } from './envelope.ts';
import { requestMessage } from './envelope.ts';
import type { NotificationMethod, NotificationOf, ParamsIn, RequestMethod, ResultOf } from './messages.ts';
import { requests } from './messages.ts';
import type { ViewName } from './schemas.ts';
import { PROTOCOL_VERSION } from './schemas.ts';
import type { Rejection } from './validate.ts';
import { describeIssues, parseHostMessage, parseResult } from './validate.ts';

export interface WebviewPort {
  post(message: unknown): void;
}

export type NotificationHandlers = { [M in NotificationMethod]?: (params: NotificationOf<M>) => void };

interface Pending {
  method: RequestMethod;
  settle(result: Result<unknown>): void;
}

export class WebviewChannel {
  readonly #pending = new Map<string, Pending>();
  #nextId = 1;

  constructor(
    private readonly port: WebviewPort,
    private readonly view: ViewName,
    private readonly handlers: NotificationHandlers,
    private readonly onRejected: (rejection: Rejection) => void,
  ) {}

  /** Requests whose reply has not arrived. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The handshake; send it once the view can handle notifications. */
  ready(): Promise<Result<ResultOf<'ui/ready'>>> {
    return this.request('ui/ready', { view: this.view, protocol: PROTOCOL_VERSION });
  }

  request<M extends RequestMethod>(method: M, params: ParamsIn<M>): Promise<Result<ResultOf<M>>> {
    const checked = requests[method].params.safeParse(params);
    if (!checked.success) {
      return Promise.resolve({ ok: false, error: { code: 'bad_request', message: `${describeIssues(checked.error, 'params')}.` } });
    }
    const id = `${this.view}-${this.#nextId++}`;
    return new Promise((resolve) => {
      this.#pending.set(id, { method, settle: resolve as (result: Result<unknown>) => void });
      this.port.post(requestMessage(id, method, params));
    });
  }

  /** Handles one message from the host. Contract: never throws for a bad message. */
  receive(raw: unknown): void {
    const parsed = parseHostMessage(raw);
    if (!parsed.ok) return this.onRejected(parsed.rejection);
    const message = parsed.message;
    if (message.kind === 'notify') {
      const handler = this.handlers[message.method] as ((params: unknown) => void) | undefined;
      handler?.(message.params);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) {
      return this.onRejected({ code: 'bad_message', message: `Rejected a reply to unknown request "${message.id}".` });
    }
    this.#pending.delete(message.id);
    if (!message.result.ok) return pending.settle(message.result);
    const value = parseResult(pending.method, message.result.value);
    if (!value.ok) {
      this.onRejected(value.rejection);
      return pending.settle({ ok: false, error: { code: 'bad_reply', message: value.rejection.message } });
    }
    pending.settle({ ok: true, value: value.message });
  }
}
