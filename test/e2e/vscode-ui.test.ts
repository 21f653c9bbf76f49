/**
 * Crewbox in real VS Code (code-server + Chromium), through the UI only: the
 * packaged .vsix is installed into a fresh profile, the fake provider plays
 * the model over the real OpenAI SDK, and the sandbox is the real Docker
 * container. The stages run in order on one window and one workspace; each
 * saves a screenshot of what the user sees to test-results/e2e/.
 *
 * Stages: (a) start a task from the chat, (b) watch progress stream in,
 * (c) Stop during a long command (no process of it left in the container),
 * (d) continue with a steering message to completion, (e) review the diff in
 * the Changes view, (f) apply one hunk of two, (g) the run history and the
 * run's trace, (h) reload the window mid-run and resume from the chat's
 * resumable list, (i) a command-palette task with a file open.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Frame } from 'playwright-core';
import { GOALS, LONG_COMMAND, MATH_FIRST_HUNK, RESUMED_MARKER, STEER_MESSAGE, TESTS_FILE, WRITE_TESTS_GOAL_START, teamScript } from './support/team-script.ts';
import { API_KEY, RESULTS_DIR, containerProcesses, crewboxLogFiles, openSession, sandboxContainer, type Session } from './support/session.ts';
import { filesContaining, waitUntil } from './support/waits.ts';

const RUN_TIMEOUT_MS = 150_000;

describe('Crewbox in VS Code (code-server, end to end)', function () {
  this.timeout(180_000);
  let s: Session;
  let original = '';
  const failures: string[] = [];

  before(async function () {
    this.timeout(300_000);
    s = await openSession({ fixture: 'two-bugs', respond: teamScript() });
    original = readFileSync(path.join(s.workspace, 'src/math.js'), 'utf8');
  });

  /** Stages that did not pass; a stage that builds on one of them fails at once, naming it, instead of timing out. */
  const notPassed = new Set<string>();
  function requires(...stages: string[]): void {
    const missing = stages.filter((st) => notPassed.has(st));
    if (missing.length > 0) throw new Error(`not attempted: it builds on stage ${missing.map((m) => `(${m})`).join(', ')}, which failed`);
  }

  afterEach(async function () {
    const stage = this.currentTest?.title.match(/^\(([a-z])\)/)?.[1];
    if (stage && this.currentTest?.state !== 'passed') notPassed.add(stage);
    if (this.currentTest?.state !== 'failed' || !s) return;
    if (this.currentTest.err?.message.startsWith('not attempted:')) return;
    const name = (stage ?? 'x') + '-failure';
    failures.push(await s.wb.screenshot(name).catch(() => 'no screenshot'));
    const logs = crewboxLogFiles(s.codeServer.userDataDir);
    if (logs.length > 0) this.currentTest.err = appendLog(this.currentTest.err, logs);
  });

  after(async function () {
    this.timeout(120_000);
    await s?.close();
    if (failures.length > 0) console.log(`    e2e failure screenshots: ${failures.join(', ')}; logs: ${path.join(RESULTS_DIR, 'logs')}, ${path.join(RESULTS_DIR, 'code-server.log')}`);
  });

  const chat = (): Promise<Frame> => s.wb.webview('chat');
  async function statusIs(word: string, timeout = RUN_TIMEOUT_MS): Promise<void> {
    await (await chat()).locator(`.status-line .status-state.state-${word}`).waitFor({ timeout });
  }
  /** The run completed and the chat is ready for the next task (the composer left "working"). */
  async function completed(): Promise<void> {
    await statusIs('completed');
    await (await chat()).locator('.composer[data-mode="goal"]').waitFor({ timeout: 30_000 });
  }

  it('(a) starts a task from the chat view', async () => {
    await s.wb.openCrewbox();
    const frame = await chat();
    const goalBox = frame.locator('.composer[data-mode="goal"] textarea');
    await goalBox.click();
    await goalBox.pressSequentially(GOALS.fix, { delay: 5 });
    await s.wb.screenshot('goal-typed');
    await goalBox.press('Enter');
    await frame.locator('.row-goal .goal-text', { hasText: GOALS.fix }).waitFor();
    await statusIs('running', 120_000);
    await s.wb.screenshot('task-started');
  });

  it('(b) streams the agents and their tool calls into the chat', async () => {
    requires('a');
    const frame = await chat();
    await frame.locator('.row-agent .agent-role', { hasText: 'Orchestrator' }).first().waitFor();
    await frame.locator('.row-agent .agent-role', { hasText: 'Developer' }).first().waitFor({ timeout: 60_000 });
    await frame.locator('.tool-card .tool-name', { hasText: 'delegate' }).first().waitFor();
    await frame.locator('.tool-card.tool-running', { hasText: LONG_COMMAND }).waitFor({ timeout: 60_000 });
    await s.wb.screenshot('progress-streaming');
  });

  it('(c) Stop ends the run during a long command and leaves no process of it in the container', async () => {
    requires('b');
    const frame = await chat();
    const container = await sandboxContainer(s.workspace);
    assert.ok((await containerProcesses(container)).some((p) => p.includes(LONG_COMMAND)), `"${LONG_COMMAND}" runs in the container before Stop`);
    await frame.locator('.composer button[data-action="stop"]').click();
    await statusIs('interrupted', 60_000);
    await frame.locator('.composer[data-mode="continue"]').waitFor();
    const left = (await containerProcesses(container)).filter((p) => p.includes(LONG_COMMAND));
    assert.deepEqual(left, [], 'docker top shows no process of the stopped command');
    await s.wb.screenshot('stopped');
  });

  it('(d) continues with a steering message and runs to completion', async () => {
    requires('c');
    const frame = await chat();
    const box = frame.locator('.composer[data-mode="continue"] textarea');
    await box.click();
    await box.pressSequentially(STEER_MESSAGE, { delay: 5 });
    await frame.locator('.composer button[data-action="continue"]').click();
    await frame.locator('.row-user .user-text', { hasText: STEER_MESSAGE }).waitFor();
    await completed();
    await frame.locator('.badge', { hasText: 'tester: pass' }).first().waitFor();
    assert.equal(readFileSync(path.join(s.workspace, 'src/math.js'), 'utf8'), original, 'the workspace is untouched until a change is applied');
    await s.wb.screenshot('completed');
  });

  it('(e) reviews the proposed diff from the Changes view', async () => {
    requires('d');
    const page = s.wb.page;
    await s.wb.openCrewbox();
    const pane = await changesPane();
    const fileRow = pane.locator('.monaco-list-row', { hasText: 'math.js' }).first();
    await fileRow.waitFor({ timeout: 30_000 });
    await s.wb.screenshot('changes-view');
    await fileRow.click();
    await page.locator('.tabs-container .tab', { hasText: 'math.js' }).first().waitFor({ timeout: 30_000 });
    const diff = page.locator('.monaco-diff-editor').first();
    await diff.locator('.editor.original .view-lines', { hasText: 'return a - b;' }).waitFor({ timeout: 30_000 });
    await diff.locator('.editor.modified .view-lines', { hasText: 'return a * b;' }).waitFor({ timeout: 30_000 });
    await s.wb.screenshot('diff-editor');
  });

  it('(f) applies one hunk of a two-hunk change, and only that hunk reaches the file', async () => {
    requires('e');
    const page = s.wb.page;
    const pane = await changesPane();
    const fileRow = pane.locator('.monaco-list-row', { hasText: 'math.js' }).first();
    if ((await fileRow.getAttribute('aria-expanded')) === 'false') await fileRow.locator('.monaco-tl-twistie').click();
    const hunkRows = pane.locator('.monaco-list-row[aria-level="2"]');
    await hunkRows.nth(1).waitFor({ timeout: 30_000 });
    assert.equal(await hunkRows.count(), 2, 'the change to src/math.js has two hunks');
    const first = hunkRows.first();
    await first.hover();
    await first.locator('.action-label[aria-label^="Apply Hunk"]').click();
    await page.waitForTimeout(500);
    const modal = page.locator('.monaco-dialog-box button', { hasText: /^Apply/ });
    if (await modal.isVisible().catch(() => false)) await modal.click();
    const expected = original.replace(MATH_FIRST_HUNK.old_string, MATH_FIRST_HUNK.new_string);
    const file = path.join(s.workspace, 'src/math.js');
    await waitUntil(() => readFileSync(file, 'utf8') !== original, 30_000, 'src/math.js changed on disk');
    assert.equal(readFileSync(file, 'utf8'), expected, 'the file has the first hunk (add) and not the second (multiply)');
    await s.wb.screenshot('hunk-applied');
  });

  it('(g) shows the run history and the trace of the run', async () => {
    requires('d');
    const page = s.wb.page;
    await s.wb.runCommand('Crewbox: Show Run History');
    await page.locator('.tabs-container .tab', { hasText: 'Crewbox: Run History' }).first().waitFor({ timeout: 30_000 });
    const history = await s.wb.webview('history');
    const row = history.locator('.run-row', { hasText: GOALS.fix }).first();
    await row.waitFor({ timeout: 30_000 });
    await s.wb.screenshot('history');
    await row.click();
    await history.locator('.trace-goal', { hasText: GOALS.fix }).waitFor({ timeout: 30_000 });
    assert.ok((await history.locator('.trace-row').count()) > 3, 'the trace lists the run’s spans');
    await s.wb.screenshot('trace');
  });

  it('(h) reloads the window during a run and resumes it from the chat’s resumable list', async function () {
    this.timeout(240_000);
    await s.wb.openCrewbox();
    let frame = await chat();
    await startFromChat(frame, GOALS.slow);
    await frame.locator('.tool-card.tool-running', { hasText: LONG_COMMAND }).waitFor({ timeout: 90_000 });
    await s.wb.screenshot('before-reload');
    await s.wb.runCommand('Developer: Reload Window');
    await s.wb.page.waitForLoadState('domcontentloaded');
    await s.wb.ready();
    // Closing the window interrupted the run: its command was killed, not left running in the container.
    // (The old extension host finishes deactivating while the new window loads: allow it a few seconds.)
    const container = await sandboxContainer(s.workspace);
    const leftover = async () => (await containerProcesses(container)).filter((p) => p.includes(LONG_COMMAND));
    for (let i = 0; i < 30 && (await leftover()).length > 0; i++) await s.wb.page.waitForTimeout(500);
    assert.deepEqual(await leftover(), [], 'no process of the interrupted command is left after the reload');
    const interrupted = runEvents(s.workspace, GOALS.slow).filter((e) => e['type'] === 'run.interrupted');
    assert.deepEqual(interrupted.map((e) => e['reason']), ['the window closed'], 'deactivate() recorded the interruption before the old extension host exited');
    await s.wb.openCrewbox();
    frame = await chat();
    const offered = frame.locator('.resumable .resumable-run', { hasText: GOALS.slow });
    await offered.waitFor({ timeout: 60_000 });
    await s.wb.screenshot('resumable-after-reload');
    await offered.locator('button[data-action="resume-run"]').click();
    frame = await chat();
    await frame.locator('.tool-card', { hasText: RESUMED_MARKER }).first().waitFor({ timeout: 90_000 });
    await completed();
    await s.wb.screenshot('resumed-completed');
  });

  it('(i) runs a command-palette task on the open file and shows it in the chat', async () => {
    await s.wb.openFile('src/math.js');
    await s.wb.runCommand('Crewbox: Write Tests for Current File');
    const frame = await chat();
    await frame.locator('.row-goal .goal-text', { hasText: WRITE_TESTS_GOAL_START }).waitFor({ timeout: 60_000 });
    await s.wb.screenshot('palette-task-started');
    await frame.locator('.tool-card', { hasText: TESTS_FILE }).first().waitFor({ timeout: 60_000 });
    await completed();
    await s.wb.screenshot('palette-task-completed');
  });

  it('keeps the API key out of settings, logs and run records', () => {
    const leaks = [s.codeServer.userDataDir, path.join(s.workspace, '.crewbox')].flatMap((dir) => filesContaining(dir, API_KEY));
    assert.deepEqual(leaks, []);
    assert.deepEqual(s.fake.errors.map((e) => e.message), [], 'the scripted model was never asked something it has no answer for');
  });

  /** The "Changes" view of the Crewbox container, expanded. */
  async function changesPane() {
    const page = s.wb.page;
    const header = page.locator('.pane-header', { hasText: /^Changes/ }).first();
    await header.waitFor({ timeout: 30_000 });
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    return page.locator('.pane', { has: header }).first();
  }

  async function startFromChat(frame: Frame, goal: string): Promise<void> {
    const goalMode = frame.locator('.composer[data-mode="goal"]');
    if (!(await goalMode.isVisible().catch(() => false))) {
      const newTask = frame.locator('.composer button[data-action="new-task"]');
      if (await newTask.isVisible().catch(() => false)) await newTask.click();
    }
    const box = goalMode.locator('textarea');
    await box.click();
    await box.pressSequentially(goal, { delay: 5 });
    await box.press('Enter');
    await frame.locator('.row-goal .goal-text', { hasText: goal }).waitFor({ timeout: 60_000 });
  }
});

/** The events of the workspace's run with this goal, from its log. */
function runEvents(workspace: string, goal: string): Array<Record<string, unknown>> {
  const runsDir = path.join(workspace, '.crewbox', 'runs');
  for (const id of existsSync(runsDir) ? readdirSync(runsDir) : []) {
    const file = path.join(runsDir, id, 'events.jsonl');
    if (!existsSync(file)) continue;
    const events = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = events.find((e) => e['type'] === 'run.started');
    if (started && String(started['goal']).startsWith(goal)) return events;
  }
  return [];
}



/** Adds the tail of the extension's log to a failure, so the mocha output alone explains most failures. */
function appendLog(err: Error | undefined, logs: string[]): Error | undefined {
  if (!err) return err;
  const tail = logs
    .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-25).join('\n')}`)
    .join('\n');
  const extra = `\n\nCrewbox log (tail):\n${tail}`;
  err.message += extra;
  // Mocha prints the stack's text before its first frame as the message.
  const frames = err.stack?.search(/\n\s+at\s/) ?? -1;
  if (err.stack) err.stack = frames >= 0 ? `${err.stack.slice(0, frames)}${extra}${err.stack.slice(frames)}` : `${err.stack}${extra}`;
  return err;
}
