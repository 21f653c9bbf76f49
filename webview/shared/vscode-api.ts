/**
 * The webview's connection to the extension host: VS Code's injected
 * `acquireVsCodeApi()` wrapped in a protocol endpoint.
 *
 * Contract: call `connect` once per page (VS Code allows one acquire).
 * Messages from the host arrive as window `message` events; every one goes
 * through the endpoint's validation before a handler sees it. The validators
 * (zod and the schemas: most of a bundle's startup work) load after the
 * view's first paint, or with the first message or request if that comes
 * sooner, so the handshake and the first paint do not wait for them.
 */
import type { NotificationHandlers } from '../../src/protocol/webview-endpoint.ts';
import { WebviewEndpoint } from '../../src/protocol/webview-endpoint.ts';
import type { ViewName } from '../../src/protocol/schemas.ts';

/** What VS Code injects into a webview (see the VS Code webview API). */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState<T>(state: T): T;
}

declare global {
  function acquireVsCodeApi(): VsCodeApi;
}

export interface Connection {
  api: VsCodeApi;
  channel: WebviewEndpoint;
}

export function connect(view: ViewName, handlers: NotificationHandlers): Connection {
  const api = acquireVsCodeApi();
  const onRejected = (rejection: { message: string }) => {
    // The host cannot see the webview's console; a rejected message is a host bug, logged for whoever debugs it.
    console.warn(`[crewbox] ${rejection.message}`);
  };
  const channel = new WebviewEndpoint({ post: (m) => api.postMessage(m) }, view, handlers, onRejected, () => import('./validators.ts'));
  window.addEventListener('message', (event: MessageEvent<unknown>) => channel.receive(event.data));
  // After the first paint (a task queued from the frame's callback runs after it is drawn). A hidden
  // page gets no frames: then the first message or request loads them.
  requestAnimationFrame(() => setTimeout(() => channel.preload(), 0));
  return { api, channel };
}
