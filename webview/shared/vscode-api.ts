/**
 * The webview's connection to the extension host: VS Code's injected
 * `acquireVsCodeApi()` wrapped in a protocol channel.
 *
 * Contract: call `connect` once per page (VS Code allows one acquire).
 * Messages from the host arrive as window `message` events; every one goes
 * through the channel's validation before a handler sees it.
 */
import type { NotificationHandlers } from '../../src/protocol/webview-channel.ts';
import { WebviewChannel } from '../../src/protocol/webview-channel.ts';
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
  channel: WebviewChannel;
}

export function connect(view: ViewName, handlers: NotificationHandlers): Connection {
  const api = acquireVsCodeApi();
  const channel = new WebviewChannel({ post: (m) => api.postMessage(m) }, view, handlers, (rejection) => {
    // The host cannot see the webview's console; a rejected message is a host bug, logged for whoever debugs it.
    console.warn(`[crewbox] ${rejection.message}`);
  });
  window.addEventListener('message', (event: MessageEvent<unknown>) => channel.receive(event.data));
  return { api, channel };
}
