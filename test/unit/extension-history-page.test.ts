import assert from 'node:assert/strict';
import { renderPage } from '../../src/protocol/page.ts';

/** The page the history panel serves (webview-html.ts passes `webview.cspSource` through). */
const page = (cspSource: string) =>
  renderPage({ view: 'history', title: 'Crewbox: Run History', cspSource, nonce: 'abcdefghijklmnop0123', scriptUri: 'https://x/history.js', styleUri: 'https://x/history.css' });

describe('extension: history page', () => {
  it('serves under the source list recent VS Code gives as cspSource', () => {
    const html = page("'self' https://*.vscode-cdn.net");
    assert.match(html, /style-src 'self' https:\/\/\*\.vscode-cdn\.net; font-src 'self' https:\/\/\*\.vscode-cdn\.net/);
    assert.match(html, /script-src 'nonce-abcdefghijklmnop0123'/);
    assert.match(html, /<div id="app" data-view="history"><\/div>/);
    assert.match(html, /<title>Crewbox: Run History<\/title>/);
    assert.ok(page('vscode-webview://abc123'));
  });

  it('refuses a source list that would add a keyword or a directive', () => {
    for (const bad of ["'self' 'unsafe-inline'", "'self' 'unsafe-eval'", 'https://x; script-src *', '*', 'https://x,https://y', 'https://x  https://y', '']) {
      assert.throws(() => page(bad), /CSP source/, bad);
    }
  });
});
