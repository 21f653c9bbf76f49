import assert from 'node:assert/strict';
/**
 * Runs the built webviews in headless Chromium without VS Code.
 *
 * - The bundles are built into a temp dir with webview/build.mjs (production
 *   mode: what ships).
 * - A tiny HTTP server on 127.0.0.1 serves them inside the page the host
 *   serves (src/protocol/page.ts: same CSP, one nonce'd script), plus a
 *   stand-in for what VS Code injects: theme variables and
 *   `acquireVsCodeApi()`. The fake API records what the view posts; the test
 *   posts host messages in with `window.postMessage`, as VS Code delivers them.
 * - Every CSP violation is recorded by a `securitypolicyviolation` listener
 *   installed before the bundle runs; page errors and console errors too.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { buildWebviews } from '../../webview/build.mjs';
import { errorReply, notificationMessage, okReply } from '../../src/protocol/envelope.ts';
import type { NotificationIn, NotificationMethod, ParamsOf, RequestMethod, ResultIn } from '../../src/protocol/messages.ts';
import { renderPage } from '../../src/protocol/page.ts';
import type { ReplyError, ViewName } from '../../src/protocol/schemas.ts';
import type { ThemeKind } from './webview-theme.ts';
import { themeCss } from './webview-theme.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-output', 'webview');

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const NONCE = 'Y3Jld2JveC10ZXN0LW5vbmNl';

/**
 * What VS Code provides to the page before our script runs. A page script
 * installed before it (the bench's auto-answering host) may define
 * `window.__crewboxHost(message)` to see each posted message at once.
 */
const SHIM = `(() => {
  const record = { posted: [], violations: [] };
  window.__crewbox = record;
  document.addEventListener('securitypolicyviolation', (e) => {
    record.violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
  });
  let state;
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi can only be called once');
    acquired = true;
    return {
      postMessage: (message) => {
        const copy = JSON.parse(JSON.stringify(message));
        record.posted.push(copy);
        if (typeof window.__crewboxHost === 'function') window.__crewboxHost(copy);
      },
      getState: () => state,
      setState: (next) => { state = next; return next; },
    };
  };
})();`;

export interface PostedRequest {
  kind: 'request';
  id: string;
  method: string;
  params: Record<string, unknown>;
}

export interface Violation {
  directive: string;
  blocked: string;
  sample: string;
}

export interface OpenOptions {
  view: ViewName;
  theme?: ThemeKind;
  width?: number;
  height?: number;
  /** Runs at document creation, before the page's own scripts (Playwright init script, outside the CSP). */
  initScript?: string;
  /**
   * JSON text embedded in the page as an inert `<script type="application/json" id="crewbox-data">`
   * block (never executed), for a stand-in host to read without paying for a script literal.
   */
  dataJson?: string;
}

/** One webview page and the host's side of its channel. */
export class ViewPage {
  readonly errors: string[] = [];
  readonly dialogs: string[] = [];

  constructor(readonly page: Page) {
    page.on('pageerror', (e) => this.errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') this.errors.push(`console.error: ${m.text()}`);
    });
    page.on('dialog', (d) => {
      this.dialogs.push(d.message());
      void d.dismiss();
    });
  }

  posted(): Promise<PostedRequest[]> {
    return this.page.evaluate(() => (window as unknown as { __crewbox: { posted: PostedRequest[] } }).__crewbox.posted);
  }

  violations(): Promise<Violation[]> {
    return this.page.evaluate(() => (window as unknown as { __crewbox: { violations: Violation[] } }).__crewbox.violations);
  }

  /** Waits until the view has posted `count` requests of `method`; returns the last of them. */
  async waitForRequest(method: RequestMethod, count = 1): Promise<PostedRequest> {
    for (;;) {
      const matching = (await this.posted()).filter((m) => m.method === method);
      if (matching.length >= count) return matching[count - 1]!;
      await this.page.waitForTimeout(10);
    }
  }

  /**
   * Posts a host message into the page, as VS Code delivers `webview.postMessage`:
   * as JSON text, parsed in the page (also far faster than Playwright's own
   * serialisation of a large object graph).
   */
  async deliver(message: unknown): Promise<void> {
    await this.page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(message));
  }

  notify<M extends NotificationMethod>(method: M, params: NotificationIn<M>): Promise<void> {
    return this.deliver(notificationMessage(method, params));
  }

  reply<M extends RequestMethod>(request: PostedRequest, method: M, value: ResultIn<M>): Promise<void> {
    return this.deliver(okReply(request.id, method, value));
  }

  replyError(request: PostedRequest, error: ReplyError): Promise<void> {
    return this.deliver(errorReply(request.id, error));
  }

  /** Answers the view's `ui/ready`; returns its params. */
  async handshake(trusted = true): Promise<ParamsOf<'ui/ready'>> {
    const ready = await this.waitForRequest('ui/ready');
    await this.reply(ready, 'ui/ready', { protocol: 1, trusted });
    return ready.params as ParamsOf<'ui/ready'>;
  }

  /** Waits for two animation frames: whatever the view scheduled has rendered. */
  async settle(): Promise<void> {
    await this.page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  async close(): Promise<void> {
    await this.page.close();
  }
}

export class WebviewHarness {
  private constructor(
    readonly browser: Browser,
    private readonly server: Server,
    readonly origin: string,
    private readonly buildDir: string,
    private readonly data: Map<string, string>,
  ) {}

  static async start(): Promise<WebviewHarness> {
    const buildDir = mkdtempSync(path.join(tmpdir(), 'crewbox-webview-'));
    const data = new Map<string, string>();
    await buildWebviews({ outdir: buildDir, production: true });
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const send = (type: string, body: string | Buffer) => {
        res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      const view = /^\/view\/(chat|history)\.html$/.exec(url.pathname)?.[1] as ViewName | undefined;
      const theme = /^\/theme\/(dark|light|high-contrast)\.css$/.exec(url.pathname)?.[1] as ThemeKind | undefined;
      const asset = /^\/dist\/((?:chat|history)\.(?:js|css))$/.exec(url.pathname)?.[1];
      if (view) {
        const pageTheme = (url.searchParams.get('theme') as ThemeKind | null) ?? 'dark';
        return send('text/html; charset=utf-8', pageHtml(view, origin, pageTheme, data.get(url.searchParams.get('data') ?? '')));
      }
      if (theme) return send('text/css', themeCss(theme));
      if (asset) return send(asset.endsWith('.js') ? 'text/javascript' : 'text/css', readFileSync(path.join(buildDir, asset)));
      // Chromium asks for a favicon on its own; VS Code webviews have none.
      if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    return new WebviewHarness(browser, server, origin, buildDir, data);
  }

  /** Pages opened since the last takeOpened() (the shared afterEach checks and closes them). */
  #opened: ViewPage[] = [];

  takeOpened(): ViewPage[] {
    return this.#opened.splice(0);
  }

  async open(options: OpenOptions): Promise<ViewPage> {
    const page = await this.browser.newPage({ viewport: { width: options.width ?? 420, height: options.height ?? 720 } });
    const view = new ViewPage(page);
    this.#opened.push(view);
    if (options.initScript !== undefined) await page.addInitScript({ content: options.initScript });
    let dataId = '';
    if (options.dataJson !== undefined) {
      dataId = String(this.data.size + 1);
      this.data.set(dataId, options.dataJson);
    }
    await page.goto(`${this.origin}/view/${options.view}.html?theme=${options.theme ?? 'dark'}${dataId ? `&data=${dataId}` : ''}`);
    return view;
  }

  async close(): Promise<void> {
    await this.browser.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.buildDir, { recursive: true, force: true });
  }
}

/** The host's page (page.ts) plus what VS Code adds: theme variables and the API shim, both under the CSP. */
function pageHtml(view: ViewName, origin: string, theme: ThemeKind, dataJson?: string): string {
  const html = renderPage({
    view,
    title: `Crewbox ${view}`,
    cspSource: origin,
    nonce: NONCE,
    scriptUri: `${origin}/dist/${view}.js`,
    styleUri: `${origin}/dist/${view}.css`,
  });
  // `<` escaped so the JSON cannot close its block.
  const data = dataJson !== undefined ? `\n    <script type="application/json" id="crewbox-data">${dataJson.replace(/</g, '\\u003c')}</script>` : '';
  const injected = `    <link rel="stylesheet" href="${origin}/theme/${theme}.css">\n    <script nonce="${NONCE}">${SHIM}</script>${data}\n  </head>`;
  return html.replace('  </head>', injected);
}

/**
 * The mocha hooks every browser suite shares: one harness (one Chromium) per
 * suite, and after each test every page it opened is closed and, when the
 * test passed, must have had no CSP violation, page error or dialog. Returns
 * the harness's getter (set before the first test).
 */
export function useWebviewHarness(): () => WebviewHarness {
  let harness: WebviewHarness | undefined;
  before(async () => {
    harness = await WebviewHarness.start();
  });
  after(async () => {
    await harness?.close();
  });
  afterEach(async function () {
    for (const view of harness?.takeOpened() ?? []) {
      // A test that closed a page itself has checked it already.
      if (view.page.isClosed()) continue;
      const violations = await view.violations();
      await view.close();
      if (this.currentTest?.state === 'passed') {
        assert.deepEqual(violations, [], 'CSP violations');
        assert.deepEqual(view.errors, [], 'page errors');
        assert.deepEqual(view.dialogs, [], 'dialogs');
      }
    }
  });
  return () => {
    if (!harness) throw new Error('the webview harness starts in the suite\'s before hook');
    return harness;
  };
}
