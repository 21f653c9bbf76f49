/**
 * The extension over the Anthropic Messages wire format, in real VS Code
 * (code-server + Chromium), through the UI only: the main suite
 * (vscode-ui.test.ts) speaks the OpenAI format; this one runs the scripted
 * fix of test/fixtures/buggy-repo with `crewbox.provider: anthropic` and the
 * key in ANTHROPIC_API_KEY, reviews and applies it from the command palette,
 * and runs the repo's tests on the host. Screenshots and logs go to
 * test-results/e2e/anthropic/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Frame } from 'playwright-core';
import { DEMO_GOAL, FIX, fixBugScript } from '../demo/support/fix-bug-script.ts';
import { RESULTS_DIR, openSession, type Session } from './support/session.ts';

const RESULTS = path.join(RESULTS_DIR, 'anthropic');

describe('Crewbox in VS Code over the Anthropic wire format (code-server, end to end)', function () {
  this.timeout(180_000);
  let s: Session;

  before(async function () {
    this.timeout(300_000);
    s = await openSession({ fixture: 'buggy-repo', respond: fixBugScript(), provider: 'anthropic', resultsDir: RESULTS });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && s) await s.wb.screenshot('failure').catch(() => undefined);
  });

  after(async function () {
    this.timeout(120_000);
    await s?.close();
  });

  const chat = (): Promise<Frame> => s.wb.webview('chat');

  it('runs a task from the chat to the tester\'s pass, and Apply All Changes makes the repo\'s tests pass on the host', async () => {
    const file = path.join(s.workspace, FIX.path);
    const original = readFileSync(file, 'utf8');
    assert.ok(original.includes(FIX.old_string));

    await s.wb.openCrewbox();
    const frame = await chat();
    const goalBox = frame.locator('.composer[data-mode="goal"] textarea');
    await goalBox.click();
    await goalBox.pressSequentially(DEMO_GOAL, { delay: 5 });
    await goalBox.press('Enter');
    await frame.locator('.row-agent .agent-role', { hasText: 'Tester' }).first().waitFor({ timeout: 150_000 });
    await frame.locator('.status-line .status-state.state-completed').waitFor({ timeout: 150_000 });
    await frame.locator('.badge', { hasText: 'tester: pass' }).first().waitFor();
    assert.equal(readFileSync(file, 'utf8'), original, 'nothing reaches the workspace before it is applied');
    assert.ok(s.fake.requests.length > 0 && s.fake.requests.every((r) => r.provider === 'anthropic'), 'every model request used the Anthropic format');
    await s.wb.screenshot('completed');

    await s.wb.runCommand('Crewbox: Apply All Changes');
    const confirm = s.wb.page.locator('.monaco-dialog-box').getByRole('button', { name: 'Apply', exact: true });
    await confirm.waitFor({ timeout: 30_000 });
    await confirm.click();
    const deadline = Date.now() + 30_000;
    while (!readFileSync(file, 'utf8').includes(FIX.new_string) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(readFileSync(file, 'utf8'), original.replace(FIX.old_string, FIX.new_string));
    const out = execFileSync('npm', ['test', '--silent'], { cwd: s.workspace, encoding: 'utf8' });
    assert.match(out, /all tests passed/);
    await s.wb.screenshot('applied');
  });
});
