/**
 * `npm run demo:vscode [-- --serve]`: Crewbox's main job in real VS Code, the
 * way a user does it. The packaged extension (dist/crewbox.vsix, from
 * `npm run package`) is installed into code-server (real VS Code served to a
 * browser; `.ci/setup-vscode.sh` installs it) and driven through its UI in
 * headless Chromium: type the goal in the Crewbox chat, watch the agents
 * stream until the tester's pass, open the Changes view and the diff, Apply
 * All Changes, run the repo's tests on the host, open the run history and the
 * run's trace. No LLM provider is reachable on our machines, so the project's
 * fake provider plays a scripted model (the CLI demo's script) over the real
 * OpenAI SDK; the sandbox is the real Docker container.
 *
 * One line per stage on stdout; a screenshot per stage, code-server's output
 * and the workbench logs under demo-output/vscode/. Exit 0 on success, 1 with
 * the reason otherwise, 130 on Ctrl+C. Everything it started is stopped at the
 * end: Chromium, code-server, the fake provider, the workspace's sandbox
 * container. With --serve, code-server (and the fake provider) keep running
 * after the stages and the URL is printed, until Ctrl+C.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Frame, type Locator } from 'playwright-core';
import { DockerEngine } from '../../src/sandbox/docker/engine.ts';
import { removeSandbox } from '../../src/sandbox/container-manager.ts';
import { workspaceLabel } from '../../src/sandbox/container-config.ts';
import { codeServerInstall, startCodeServer, type CodeServer } from '../e2e/support/code-server.ts';
import { API_KEY, crewboxLogFiles, extensionEnv, workbenchSettings } from '../e2e/support/session.ts';
import { filesContaining, waitUntil } from '../e2e/support/waits.ts';
import { CHROMIUM_FLAGS, Workbench } from '../e2e/support/workbench.ts';
import { startFakeProvider, type FakeProvider } from '../support/fake-provider/index.ts';
import { DEMO_GOAL, FIX, fixBugScript } from './support/fix-bug-script.ts';

const SERVE = process.argv.includes('--serve');
const OUT_DIR = path.resolve('demo-output/vscode');
const VSIX = path.resolve('dist/crewbox.vsix');
const FIXTURE = path.resolve('test/fixtures/buggy-repo');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const RUN_TIMEOUT_MS = 240_000;

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
let wb: Workbench | undefined;
/** One line per stage, with the screenshot taken for it (if any). */
async function stage(name: string, detail: string, screenshot?: string): Promise<void> {
  const shot = screenshot && wb ? ` [${path.relative(process.cwd(), await wb.screenshot(screenshot))}]` : '';
  console.log(`[demo:vscode ${elapsed()}] ${name}: ${detail}${shot}`);
}

// ---- what has to be stopped at the end, in reverse order of starting ----
let fake: FakeProvider | undefined;
let codeServer: CodeServer | undefined;
let browser: Browser | undefined;
let workspace: string | undefined;
let stateDir: string | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    const stopped: string[] = [];
    const problems: string[] = [];
    const removed: string[] = [];
    const step = async (what: string, fn: () => Promise<unknown> | unknown) => {
      try {
        await fn();
        stopped.push(what);
      } catch (e) {
        problems.push(`${what}: ${(e as Error).message}`);
      }
    };
    if (browser) await step('Chromium', () => browser!.close());
    if (codeServer) {
      await step('code-server', () => codeServer!.stop());
      copyLogs(codeServer.userDataDir);
    }
    if (fake) await step('fake provider', () => fake!.close());
    if (workspace) {
      const ws = workspace;
      await step('sandbox container', async () => {
        const engine = new DockerEngine();
        await removeSandbox(engine, ws);
        const left = await engine.listContainers({ 'dev.crewbox.workspace': workspaceLabel(ws) });
        if (left.length > 0) throw new Error(`still there: ${left.map((c) => c.id.slice(0, 12)).join(', ')}`);
      });
      rmSync(ws, { recursive: true, force: true });
      removed.push('the temp workspace');
    }
    if (stateDir) {
      rmSync(stateDir, { recursive: true, force: true });
      removed.push('the code-server profile');
    }
    const what = [stopped.length ? `stopped ${stopped.join(', ')}` : '', removed.length ? `removed ${removed.join(' and ')}` : ''].filter(Boolean).join('; ') || 'nothing had been started';
    console.log(`[demo:vscode ${elapsed()}] cleanup: ${what}${problems.length ? `; PROBLEMS: ${problems.join('; ')}` : ''}`);
    if (problems.length) process.exitCode = 1;
  })();
  return cleaning;
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  console.log(`\n[demo:vscode ${elapsed()}] ${signal}: stopping everything`);
  void cleanup().finally(() => process.exit(serving ? (process.exitCode ?? 0) : 130));
}
/** --serve: the stages passed and code-server is being served; Ctrl+C is then the normal end. */
let serving = false;
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

/** The workbench's logs (the Crewbox output channel is logs/*\/exthost*\/crewbox.crewbox/Crewbox.log) → demo-output/vscode/logs/. */
function copyLogs(userDataDir: string): void {
  const logs = path.join(userDataDir, 'logs');
  if (existsSync(logs)) cpSync(logs, path.join(OUT_DIR, 'logs'), { recursive: true });
}

function crewboxLogTail(lines = 30): string {
  const found = codeServer ? crewboxLogFiles(codeServer.userDataDir) : [];
  return found.map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n')}`).join('\n');
}

/** The fixture's own tests, on the host. */
function hostTests(dir: string): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync('npm', ['test', '--silent'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }) };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` || err.message };
  }
}
const firstLine = (s: string): string => s.split('\n').map((l) => l.trim()).find((l) => l.length > 0 && !l.startsWith('at ') && !l.startsWith('node:')) ?? '';



function codeServerVersion(entry: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(path.dirname(entry), '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '(version unknown)';
  }
}

/** Names what a failure was waiting for: "waiting for <what>" instead of Playwright's bare timeout. */
async function expect(what: string, p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message.split('\n')[0]}`);
  }
}

async function main(): Promise<void> {
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });

  // 1. Prerequisites, each with the command that provides it.
  if (!existsSync(VSIX)) throw new Error(`${path.relative(process.cwd(), VSIX)} is missing: run "npm run package" first.`);
  const install = codeServerInstall();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run "bash .ci/setup-browser.sh" (Debian's chromium), or set CHROMIUM_PATH.`);
  try {
    await new DockerEngine().ping();
  } catch (e) {
    throw new Error(`Docker is not reachable (${(e as Error).message.split('\n')[0]}): run "bash .ci/setup-docker.sh".`);
  }
  await stage('prerequisites', `${path.relative(process.cwd(), VSIX)} (${Math.round(statSync(VSIX).size / 1024)} KB), code-server ${codeServerVersion(install.entry)}, ${CHROMIUM}, Docker`);

  // 2. A temp copy of the buggy repo (a git repo, as a user's would be); its tests fail.
  workspace = mkdtempSync(path.join(tmpdir(), 'crewbox-demo-vscode-'));
  cpSync(FIXTURE, workspace, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=demo@example.com', '-c', 'user.name=demo', ...args], { cwd: workspace, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'buggy-repo');
  const original = readFileSync(path.join(workspace, FIX.path), 'utf8');
  const before = hostTests(workspace);
  if (before.ok) throw new Error('the fixture\'s tests already pass before the run: nothing to demonstrate.');
  await stage('workspace', `${workspace} (copy of test/fixtures/buggy-repo); npm test on the host fails: ${firstLine(before.output.split('\n').find((l) => /AssertionError \[/.test(l)) ?? before.output)}`);

  // 3. The scripted model.
  fake = await startFakeProvider({ respond: fixBugScript({ chunkDelayMs: 15 }) });
  await stage('fake provider', `${fake.url} plays the team's model (OpenAI wire format)`);

  // 4. code-server with the packaged extension; the key only in its environment.
  stateDir = mkdtempSync(path.join(tmpdir(), 'crewbox-demo-code-server-'));
  codeServer = await startCodeServer({
    install,
    stateDir,
    vsix: VSIX,
    folder: workspace,
    logFile: path.join(OUT_DIR, 'code-server.log'),
    settings: workbenchSettings('openai', fake.url),
    env: extensionEnv('openai'),
  });
  const folderUrl = `${codeServer.url}/?folder=${workspace}`;
  await stage('code-server', `${codeServer.url} with dist/crewbox.vsix installed (OPENAI_API_KEY in its environment only)`);

  // 5. The workbench in headless Chromium. Our own SIGINT handler stops it (Playwright's would exit first).
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, handleSIGINT: false, handleSIGTERM: false });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(30_000);
  await page.goto(folderUrl);
  wb = new Workbench(page, OUT_DIR);
  await expect('the VS Code workbench to load', wb.ready());
  await stage('workbench', `VS Code loaded in headless Chromium at ${folderUrl}`, 'workbench');

  // 6. The goal, typed into the Crewbox chat.
  await wb.openCrewbox();
  const chat = (): Promise<Frame> => wb!.webview('chat');
  let frame = await chat();
  const goalBox = frame.locator('.composer[data-mode="goal"] textarea');
  await goalBox.click();
  await goalBox.pressSequentially(DEMO_GOAL, { delay: 20 });
  await stage('goal typed', `"${DEMO_GOAL}" in the Crewbox chat`, 'goal-typed');
  await goalBox.press('Enter');
  await expect('the goal to show in the chat', frame.locator('.row-goal .goal-text', { hasText: DEMO_GOAL }).waitFor({ timeout: 60_000 }));
  // The first run builds/starts the workspace's sandbox container, then the status turns "running".
  await expect('the run to start', frame.locator('.status-line .status-state.state-running, .status-line .status-state.state-completed').first().waitFor({ timeout: 120_000 }));
  await stage('run started', 'the sandbox container is up and the orchestrator is working', 'run-started');

  // 7. The agents stream in: each role, its text and its tool calls.
  frame = await chat();
  const role = (name: string): Locator => frame.locator('.row-agent .agent-role', { hasText: name }).first();
  await expect('the orchestrator to speak', role('Orchestrator').waitFor({ timeout: 60_000 }));
  await expect('the orchestrator to delegate to the developer', role('Developer').waitFor({ timeout: 90_000 }));
  await stage('streaming', 'Orchestrator delegated; the Developer is working in the sandbox', 'developer-working');
  await expect('the developer\'s edit of src/math.js', frame.locator('.tool-card', { hasText: 'edit_file' }).first().waitFor({ timeout: 90_000 }));
  await expect('the tester to start', role('Tester').waitFor({ timeout: 90_000 }));
  await stage('streaming', 'the Developer ran npm test, edited src/math.js, re-ran it; the Tester is checking', 'tester-working');

  // 8. Completed, with the tester's pass; the user's files are untouched so far.
  await expect('the run to complete', frame.locator('.status-line .status-state.state-completed').waitFor({ timeout: RUN_TIMEOUT_MS }));
  await expect('the tester\'s verdict "pass"', frame.locator('.badge', { hasText: 'tester: pass' }).first().waitFor({ timeout: 30_000 }));
  await expect('the chat to be ready for the next task', frame.locator('.composer[data-mode="goal"]').waitFor({ timeout: 30_000 }));
  if (fake.errors.length) throw new Error(`the scripted model was asked something it has no answer for: ${fake.errors.map((e) => e.message).join('; ')}`);
  if (readFileSync(path.join(workspace, FIX.path), 'utf8') !== original) throw new Error(`${FIX.path} changed on disk before any change was applied`);
  await stage('run completed', `tester: pass (${fake.requests.length} model requests); ${FIX.path} on disk is still the buggy one`, 'run-completed');

  // 9. The Changes view lists the proposed change.
  await wb.openCrewbox();
  const header = page.locator('.pane-header', { hasText: /^Changes/ }).first();
  await expect('the Changes view', header.waitFor({ timeout: 30_000 }));
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  const pane = page.locator('.pane', { has: header }).first();
  const fileRow = pane.locator('.monaco-list-row', { hasText: path.basename(FIX.path) }).first();
  await expect(`${FIX.path} in the Changes view`, fileRow.waitFor({ timeout: 30_000 }));
  await stage('changes view', `the run proposes a change to ${FIX.path}`, 'changes-view');

  // 10. The diff.
  await fileRow.click();
  await expect('the diff editor tab', page.locator('.tabs-container .tab', { hasText: path.basename(FIX.path) }).first().waitFor({ timeout: 30_000 }));
  const diff = page.locator('.monaco-diff-editor').first();
  await expect(`"${FIX.old_string}" on the diff's original side`, diff.locator('.editor.original .view-lines', { hasText: FIX.old_string }).waitFor({ timeout: 30_000 }));
  await expect(`"${FIX.new_string}" on the diff's proposed side`, diff.locator('.editor.modified .view-lines', { hasText: FIX.new_string }).waitFor({ timeout: 30_000 }));
  await stage('diff', `${FIX.path}: "${FIX.old_string}" → "${FIX.new_string}"`, 'diff');

  // 11. Apply All Changes: the Changes view's title action (the command palette if it does not show).
  await header.hover();
  const applyAll = pane.locator('.pane-header .actions .action-label[aria-label^="Apply All Changes"]').first();
  let via = 'the Changes view\'s "Apply All Changes" title action';
  if (await applyAll.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false)) await applyAll.click();
  else {
    via = 'the command palette ("Crewbox: Apply All Changes")';
    await wb.runCommand('Crewbox: Apply All Changes');
  }
  // VS Code's dialog buttons are <a class="monaco-button" role="button">, not <button>.
  const confirm = page.locator('.monaco-dialog-box').getByRole('button', { name: 'Apply', exact: true });
  await expect('the "Apply all ... changed file(s)?" confirmation', confirm.waitFor({ timeout: 30_000 }));
  await wb.screenshot('apply-confirm');
  await confirm.click();
  const file = path.join(workspace, FIX.path);
  await waitUntil(() => readFileSync(file, 'utf8') !== original, 30_000, `${FIX.path} changed on disk`);
  const expected = original.replace(FIX.old_string, FIX.new_string);
  if (readFileSync(file, 'utf8') !== expected) throw new Error(`${FIX.path} after Apply All is not the run's version:\n${readFileSync(file, 'utf8')}`);
  await expect('the "Crewbox: applied 1 file(s)." notification', page.locator('.notifications-toasts', { hasText: 'Crewbox: applied 1 file(s)' }).first().waitFor({ timeout: 15_000 }));
  await stage('applied', `all changes applied through ${via}; ${FIX.path} now has "${FIX.new_string}"`, 'applied');

  // 12. The repo's own tests, on the host.
  const after = hostTests(workspace);
  if (!after.ok) throw new Error(`npm test still fails on the host after applying:\n${after.output}`);
  await stage('host tests', `npm test in ${workspace}: ${firstLine(after.output)}`);

  // 13. The run history, then the run's trace.
  await wb.runCommand('Crewbox: Show Run History');
  await expect('the Run History tab', page.locator('.tabs-container .tab', { hasText: 'Crewbox: Run History' }).first().waitFor({ timeout: 30_000 }));
  const history = await wb.webview('history');
  const row = history.locator('.run-row', { hasText: DEMO_GOAL }).first();
  await expect('the run in the history', row.waitFor({ timeout: 30_000 }));
  await stage('run history', `the run "${DEMO_GOAL}" is listed`, 'run-history');
  await row.click();
  await expect('the run\'s trace', history.locator('.trace-goal', { hasText: DEMO_GOAL }).waitFor({ timeout: 30_000 }));
  const spans = await history.locator('.trace-row').count();
  if (spans < 4) throw new Error(`the trace lists only ${spans} span(s)`);
  await stage('trace', `the run's trace shows ${spans} spans (agents, model turns, tool calls)`, 'trace');

  // 14. The key went nowhere.
  const leaks = [codeServer.userDataDir, path.join(workspace, '.crewbox')].flatMap((dir) => filesContaining(dir, API_KEY));
  if (leaks.length) throw new Error(`the API key was written to ${leaks.join(', ')}`);
  await stage('secrets', 'the API key is in no setting, log or run record');

  await browser.close();
  browser = undefined;

  if (SERVE) {
    serving = true;
    console.log(`[demo:vscode ${elapsed()}] done: all stages passed. Serving Crewbox in VS Code until Ctrl+C:`);
    console.log(`\n    ${folderUrl}\n`);
    console.log('    (code-server listens on 127.0.0.1 only; from another machine, forward the port, e.g. ssh -L. The fake provider replays the same scripted fix for any new task.)');
    await new Promise<never>(() => undefined); // until SIGINT/SIGTERM (onSignal cleans up and exits)
  }
}

try {
  await main();
  await cleanup();
  console.log(`[demo:vscode ${elapsed()}] ${process.exitCode ? 'FAILED (see above)' : 'PASSED'}: screenshots and logs in ${path.relative(process.cwd(), OUT_DIR)}/`);
} catch (e) {
  if (!interrupted) {
    const msg = e instanceof Error ? e.message : String(e);
    let shot = '';
    if (wb && browser) shot = await wb.screenshot('failure').then((f) => ` Screenshot: ${path.relative(process.cwd(), f)}.`, () => '');
    const tail = crewboxLogTail();
    console.error(`\n[demo:vscode ${elapsed()}] FAILED: ${msg}${shot}`);
    if (tail) console.error(`\nCrewbox log (tail):\n${tail}`);
    process.exitCode = 1;
    await cleanup();
    if (codeServer) console.error(`[demo:vscode ${elapsed()}] logs: ${path.relative(process.cwd(), OUT_DIR)}/code-server.log, ${path.relative(process.cwd(), OUT_DIR)}/logs/`);
  }
}
if (!interrupted) process.exit(process.exitCode ?? 0);
