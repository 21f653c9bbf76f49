/** Serving a Crewbox webview: its options and HTML (renderPage, a fresh nonce per load). */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { renderPage } from '../protocol/page.ts';
import type { ViewName } from '../protocol/schemas.ts';

/** Scripts on; resources only from the built webview folder and media/. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: ViewName, title: string): string {
  const built = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
  return renderPage({
    view,
    title,
    cspSource: webview.cspSource,
    nonce: randomBytes(18).toString('base64'),
    scriptUri: built(`${view}.js`),
    styleUri: built(`${view}.css`),
    codiconsUri: built('codicons/codicon.css'),
  });
}
