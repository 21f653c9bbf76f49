/**
 * The webview's end of the channel with its validators imported at load
 * (tests, and any webview that builds its schemas at startup anyway). The
 * behaviour and its contract are WebviewEndpoint's (webview-endpoint.ts);
 * the webview bundles use the endpoint with a loader instead, so zod's
 * schemas are built after the view's first paint.
 */
import * as validators from './validate.ts';
import type { NotificationHandlers, WebviewPort } from './webview-endpoint.ts';
import { WebviewEndpoint } from './webview-endpoint.ts';
import type { ViewName } from './schemas.ts';
import type { Rejection } from './validate.ts';

export type { NotificationHandlers, WebviewPort } from './webview-endpoint.ts';

export class WebviewChannel extends WebviewEndpoint {
  constructor(port: WebviewPort, view: ViewName, handlers: NotificationHandlers, onRejected: (rejection: Rejection) => void) {
    super(port, view, handlers, onRejected, validators);
  }
}
