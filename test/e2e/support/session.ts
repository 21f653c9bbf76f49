/**
 * One e2e session: the packaged .vsix, the fake provider, a temp copy of a
 * fixture workspace (a git repo), code-server with a fresh profile, and
 * Chromium on the workbench. Everything a failure needs to be understood
 * (screenshots, code-server's output, the extension's log) ends up under
 * test-results/e2e/.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { DockerEngine } from '../../../src/sandbox/docker/engine.ts';
import { workspaceLabel } from '../../../src/sandbox/container-config.ts';
import { startFakeProvider, type FakeProvider, type Responder } from '../../support/fake-provider/index.ts';
import { codeServerInstall, startCodeServer, type CodeServer } from './code-server.ts';
import { launchBrowser, Workbench } from './workbench.ts';

export const RESULTS_DIR = path.resolve('test-results/e2e');
export const VSIX = path.resolve('dist/crewbox.vsix');
/** A made-up key: it must reach the extension host through the environment only. */
export const API_KEY = 'sk-e2e-vscode-secret-7f3a9c';

/** `npm run package`: the production bundles and the .vsix, exactly as a user gets it. */
export function packageVsix(): string {
  rmSync(VSIX, { force: true });
  execFileSync('npm', ['run', '--silent', 'package'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  if (!existsSync(VSIX)) throw new Error(`npm run package did not produce ${VSIX}`);
  return VSIX;
}

export function copyFixture(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `crewbox-vscode-${name}-`));
  // The e2e tier's own fixtures first, then the project's shared ones (test/fixtures).
  const own = path.resolve('test/e2e/fixtures', name);
  cpSync(existsSync(own) ? own : path.resolve('test/fixtures', name), dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=e2e@example.com', '-c', 'user.name=e2e', ...args], { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'fixture');
  return dir;
}

/** A quiet profile (no trust prompt, tips, updates or AI features) with Crewbox pointed at the fake provider. */
export function workbenchSettings(provider: 'openai' | 'anthropic', fakeUrl: string): Record<string, unknown> {
  return {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'crewbox.provider': provider,
    // The OpenAI SDK's base URL ends in /v1; the Anthropic SDK adds /v1 itself.
    'crewbox.baseUrl': provider === 'openai' ? `${fakeUrl}/v1` : fakeUrl,
  };
}

/** What code-server's environment adds for the extension host: the key (never in settings) and the sandbox's base image. */
export function extensionEnv(provider: 'openai' | 'anthropic'): Record<string, string> {
  return {
    [provider === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY']: API_KEY,
    CREWBOX_BASE_IMAGE: process.env['CREWBOX_BASE_IMAGE'] ?? 'crewbox-base:bookworm',
  };
}

export interface Session {
  fake: FakeProvider;
  workspace: string;
  codeServer: CodeServer;
  browser: Browser;
  wb: Workbench;
  stateDir: string;
  close(): Promise<void>;
}

/** `provider`: the wire format the extension speaks to the fake provider (default openai). */
/** `resultsDir`: where this session's screenshots and logs go (default test-results/e2e). */
export async function openSession(opts: { fixture: string; respond: Responder; provider?: 'openai' | 'anthropic'; resultsDir?: string }): Promise<Session> {
  const provider = opts.provider ?? 'openai';
  const resultsDir = opts.resultsDir ?? RESULTS_DIR;
  mkdirSync(resultsDir, { recursive: true });
  const install = codeServerInstall();
  const vsix = packageVsix();
  const fake = await startFakeProvider({ respond: opts.respond });
  const workspace = copyFixture(opts.fixture);
  const stateDir = mkdtempSync(path.join(tmpdir(), 'crewbox-code-server-'));
  const codeServer = await startCodeServer({
    install,
    stateDir,
    vsix,
    folder: workspace,
    logFile: path.join(resultsDir, 'code-server.log'),
    settings: workbenchSettings(provider, fake.url),
    env: extensionEnv(provider),
  });
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(30_000);
  await page.goto(codeServer.url);
  const wb = new Workbench(page, resultsDir);
  await wb.ready();

  return {
    fake,
    workspace,
    codeServer,
    browser,
    wb,
    stateDir,
    async close() {
      await browser.close().catch(() => undefined);
      await codeServer.stop();
      saveLogs(codeServer.userDataDir, resultsDir);
      if (fake.errors.length > 0) writeFileSync(path.join(resultsDir, 'fake-provider-errors.txt'), fake.errors.map((e) => e.stack ?? e.message).join('\n\n'));
      await fake.close();
      removeSandbox(workspace);
      rmSync(workspace, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** The workbench's logs (the "Crewbox" output channel is exthost*\/crewbox.crewbox/Crewbox.log) → test-results/e2e/logs/. */
export function saveLogs(userDataDir: string, resultsDir = RESULTS_DIR): void {
  const logs = path.join(userDataDir, 'logs');
  if (!existsSync(logs)) return;
  const target = path.join(resultsDir, 'logs');
  rmSync(target, { recursive: true, force: true });
  cpSync(logs, target, { recursive: true });
}

/** Finds the Crewbox output channel's log files (for failure messages). */
export function crewboxLogFiles(userDataDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/[\\/]crewbox\.crewbox[\\/]/.test(p) && name.endsWith('.log')) found.push(p);
    }
  };
  walk(path.join(userDataDir, 'logs'));
  return found;
}

const engine = new DockerEngine();

/** The workspace's sandbox container, found by its label as the container manager sets it. */
export async function sandboxContainer(workspace: string): Promise<string> {
  const [c] = await engine.listContainers({ 'dev.crewbox.workspace': workspaceLabel(workspace) });
  if (!c) throw new Error(`no sandbox container is labelled for ${workspace}`);
  return c.id;
}

/** `docker top` of the container: each process's command line. */
export async function containerProcesses(id: string): Promise<string[]> {
  return (await engine.top(id)).map((p) => p['ARGS'] ?? p['COMMAND'] ?? p['CMD'] ?? Object.values(p).join(' '));
}

/** The container and its volume go with the CLI's own command. */
function removeSandbox(workspace: string): void {
  try {
    execFileSync(process.execPath, [path.resolve('dist/cli.cjs'), 'sandbox', 'rm', '--workspace', workspace], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    /* best effort */
  }
}
