/**
 * The HTML shell of a Crewbox webview, shared by the extension host and the
 * browser tests, so the tests load the page the host will serve.
 *
 * Contract:
 * - The Content-Security-Policy allows exactly: the one nonce'd script, the
 *   stylesheets and fonts under `cspSource` (the built webview folder and
 *   dist/webview/codicons/ for the codicons), nothing else (no inline styles, no eval, no
 *   network, no images from elsewhere).
 * - The bundle mounts into `#app`; `data-view` names the view.
 */
import type { ViewName } from './schemas.ts';

export interface PageOptions {
  view: ViewName;
  title: string;
  /** `webview.cspSource`. */
  cspSource: string;
  /** Fresh per page load; base64 or hex characters only. */
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** codicon.css (built into dist/webview/codicons/; its font sits beside it). */
  codiconsUri?: string;
}

const NONCE = /^[A-Za-z0-9+/=_-]{16,128}$/;
/**
 * `webview.cspSource` is a space-separated source list: recent VS Code gives
 * `'self' https://*.vscode-cdn.net`. Each item must be `'self'` or a
 * scheme-prefixed source, so nothing can end the directive or add a keyword.
 */
const CSP_SOURCE_ITEM = /^(?:'self'|[a-z][a-z0-9+.-]*:[^\s;,'"]*)$/i;

function isCspSourceList(cspSource: string): boolean {
  const items = cspSource.split(' ');
  return items.length <= 8 && items.every((item) => CSP_SOURCE_ITEM.test(item));
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  if (!isCspSourceList(cspSource)) throw new Error(`Invalid CSP source: ${JSON.stringify(cspSource)}`);
  if (!NONCE.test(nonce)) throw new Error('A script nonce must be 16 to 128 base64 or hex characters.');
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderPage(o: PageOptions): string {
  const csp = contentSecurityPolicy(o.cspSource, o.nonce);
  const codicons = o.codiconsUri !== undefined ? `\n    <link rel="stylesheet" href="${attr(o.codiconsUri)}">` : '';
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">${codicons}
    <link rel="stylesheet" href="${attr(o.styleUri)}">
    <title>${attr(o.title)}</title>
  </head>
  <body>
    <div id="app" data-view="${attr(o.view)}"></div>
    <script nonce="${attr(o.nonce)}" src="${attr(o.scriptUri)}"></script>
  </body>
</html>
`;
}
