/**
 * The webview's end of the channel, over validators it may load lazily:
 * typed requests with ids and validated replies, and validated notifications
 * dispatched to handlers. Runs in the browser; the webview passes a port over
 * `acquireVsCodeApi().postMessage` and feeds `receive` from the window's
 * `message` events. webview-channel.ts is this endpoint over validators
 * imported at load (tests, Node); the webview bundles pass a loader instead
 * (webview/shared/vscode-api.ts), so building zod's schemas (most of a
 * bundle's startup) waits until the handshake is on its way and the view has
 * painted, and overlaps the host's answer.
 *
 * Contract:
 * - `request` never rejects: it resolves with `{ ok: false, error }` when the
 *   params are invalid (nothing is posted), when the host answers with an
 *   error, or when the reply's value does not match the method's result.
 * - Every host message is validated before any handler sees it; rejected
 *   messages go to `onRejected` and change nothing. Messages that arrive
 *   before the validators are loaded wait for them and are handled in order
 *   of arrival; once loaded, `receive` handles each message synchronously.
 * - `ready` posts the handshake at once: its params are the endpoint's own
 *   (view, PROTOCOL_VERSION), and the host validates them on receipt.
 */
import type { Result } from './envelope.ts';
import { requestMessage } from './builders.ts';
import type { NotificationMethod, NotificationOf, ParamsIn, RequestMethod, ResultOf } from './messages.ts';
import type { ViewName } from './schemas.ts';
import type { Rejection } from './validate.ts';
import { PROTOCOL_VERSION } from './version.ts';

export interface WebviewPort {
  post(message: unknown): void;
}

export type NotificationHandlers = { [M in NotificationMethod]?: (params: NotificationOf<M>) => void };

/** What the endpoint uses of validate.ts. */
export type WebviewValidators = Pick<typeof import('./validate.ts'), 'parseHostMessage' | 'parseParams' | 'parseResult'>;

/** The validators, or a loader (called once; again after a failed load). */
export type ValidatorSource = WebviewValidators | (() => Promise<WebviewValidators>);

interface Pending {
  method: RequestMethod;
  settle(result: Result<unknown>): void;
}

export class WebviewEndpoint {
  readonly #pending = new Map<string, Pending>();
  /** Host messages received before the validators were loaded, in order. */
  readonly #backlog: unknown[] = [];
  #validators: WebviewValidators | undefined;
  #loading: Promise<WebviewValidators> | undefined;
  #nextId = 1;

  constructor(
    private readonly port: WebviewPort,
    private readonly view: ViewName,
    private readonly handlers: NotificationHandlers,
    private readonly onRejected: (rejection: Rejection) => void,
    private readonly validators: ValidatorSource,
  ) {
    if (typeof validators !== 'function') this.#validators = validators;
  }

  /** Requests whose reply has not arrived. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Starts loading the validators if they are not loaded (e.g. once the view has painted). */
  preload(): void {
    void this.#load().catch(() => {});
  }

  /** The handshake; send it once the view can handle notifications. */
  ready(): Promise<Result<ResultOf<'ui/ready'>>> {
    return this.#send('ui/ready', { view: this.view, protocol: PROTOCOL_VERSION });
  }

  request<M extends RequestMethod>(method: M, params: ParamsIn<M>): Promise<Result<ResultOf<M>>> {
    const check = (v: WebviewValidators): Promise<Result<ResultOf<M>>> => {
      const checked = v.parseParams(method, params);
      return checked.ok ? this.#send(method, params) : Promise.resolve({ ok: false, error: { code: 'bad_request', message: checked.rejection.message } });
    };
    if (this.#validators) return check(this.#validators);
    return this.#load().then(check, () => ({ ok: false as const, error: { code: 'internal' as const, message: 'The view could not load its message checks; reload the view.' } }));
  }

  /** Handles one message from the host. Contract: never throws for a bad message. */
  receive(raw: unknown): void {
    if (this.#validators && this.#backlog.length === 0) return this.#handle(this.#validators, raw);
    this.#backlog.push(raw);
    if (this.#backlog.length > 1) return;
    this.#load().then(
      (v) => {
        for (const message of this.#backlog.splice(0)) this.#handle(v, message);
      },
      (e: unknown) => {
        const dropped = this.#backlog.splice(0).length;
        this.onRejected({ code: 'bad_message', message: `Dropped ${dropped} message(s) from the host: the view could not load its message checks (${String(e)}).` });
      },
    );
  }

  #load(): Promise<WebviewValidators> {
    if (this.#validators) return Promise.resolve(this.#validators);
    const source = this.validators;
    if (typeof source !== 'function') return Promise.resolve(source);
    this.#loading ??= source().then(
      (v) => (this.#validators = v),
      (e: unknown) => {
        this.#loading = undefined;
        throw e;
      },
    );
    return this.#loading;
  }

  #send<M extends RequestMethod>(method: M, params: ParamsIn<M>): Promise<Result<ResultOf<M>>> {
    const id = `${this.view}-${this.#nextId++}`;
    return new Promise((resolve) => {
      this.#pending.set(id, { method, settle: resolve as (result: Result<unknown>) => void });
      this.port.post(requestMessage(id, method, params));
    });
  }

  #handle(v: WebviewValidators, raw: unknown): void {
    const parsed = v.parseHostMessage(raw);
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
    const value = v.parseResult(pending.method, message.result.value);
    if (!value.ok) {
      this.onRejected(value.rejection);
      return pending.settle({ ok: false, error: { code: 'bad_reply', message: value.rejection.message } });
    }
    pending.settle({ ok: true, value: value.message });
  }
}
