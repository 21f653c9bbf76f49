/**
 * The chat webview in headless Chromium, under the host's CSP, driven
 * through the protocol as the extension host will drive it.
 * Screenshots of the main states go to test-output/webview/.
 */
import assert from 'node:assert/strict';
import { LiveRun, TEST_OUTPUT, longRun, teamRunBatches } from '../support/webview-transcripts.ts';
import type { ViewPage } from '../support/webview-harness.ts';
import { useWebviewHarness } from '../support/webview-harness.ts';

describe('chat webview (Chromium)', function () {
  this.timeout(60_000);
  const harness = useWebviewHarness();
  let view: ViewPage;

  /** A chat page after the handshake, showing the scripted team run up to its failing command. */
  async function teamRun(theme: 'dark' | 'light' | 'high-contrast' = 'dark') {
    view = await harness().open({ view: 'chat', theme });
    await view.handshake();
    const run = new LiveRun();
    const batches = teamRunBatches(run);
    await view.notify('status/update', { driving: true, sandbox: { state: 'ready' } });
    await view.notify('transcript/reset', { runId: run.runId, events: batches[0]! });
    for (const batch of batches.slice(1)) await view.notify('transcript/append', { runId: run.runId, events: batch });
    await view.settle();
    return run;
  }

  it('starts with the ready handshake and asks for nothing before the answer', async () => {
    view = await harness().open({ view: 'chat' });
    const ready = await view.waitForRequest('ui/ready');
    assert.deepEqual(ready.params, { view: 'chat', protocol: 1 });
    assert.deepEqual((await view.posted()).map((m) => m.method), ['ui/ready']);
    assert.match(await view.page.locator('.composer').innerText(), /Connecting/);
    await view.reply(ready, 'ui/ready', { protocol: 1, trusted: true });
    await view.page.locator('textarea.composer-input').waitFor();
    await view.page.locator('textarea.composer-input').fill('Fix the failing add() test');
    await view.page.keyboard.press('Enter');
    const start = await view.waitForRequest('run/start');
    assert.deepEqual(start.params, { goal: 'Fix the failing add() test' });
    await view.screenshot('chat-goal-dark');
  });

  it('renders a streamed team run: agent groups with nesting, streamed text, tool cards', async () => {
    await teamRun();
    const page = view.page;
    assert.equal(await page.locator('.row-agent.role-orchestrator.depth-0').count(), 1);
    assert.equal(await page.locator('.row-agent.role-developer.depth-1').count(), 1);
    assert.match(await page.locator('.row-text.role-developer').innerText(), /The bug is in src\/math\.js: add subtracts/);
    assert.equal(await page.locator('.row-text.role-orchestrator strong').innerText(), 'developer');
    const failed = page.locator('.tool-card.tool-error');
    assert.match(await failed.locator('.tool-head').innerText(), /run_command\s+npm test\s+exit 1\s+1\.8 s/);
    assert.equal(await failed.locator('.tool-output').textContent(), TEST_OUTPUT);
    assert.equal(await page.locator('.tool-card.tool-running .tool-name').innerText(), 'delegate');
    assert.match(await page.locator('.status-line').innerText(), /Running\s+step 2\s+2\.2k tokens\s+\$0\.020\s+budget 98% left\s+sandbox ready/);
    await failed.locator('.tool-head').click();
    await view.settle();
    assert.equal(await failed.locator('.tool-output').count(), 0, 'the output collapses');
    await failed.locator('.tool-head').click();
    await view.settle();
    await view.screenshot('chat-streaming-dark');
  });

  it('a model.retry clears the partial text on screen', async () => {
    const run = await teamRun();
    await view.notify('transcript/append', { runId: run.runId, events: run.deltas('dev-1', 'Half a thought that') });
    await view.settle();
    assert.equal(await view.page.getByText('Half a thought that').count(), 1);
    await view.notify('transcript/append', { runId: run.runId, events: run.durable((b) => b.modelRetry('dev-1', 1, 'rate_limit', 1500)) });
    await view.settle();
    assert.equal(await view.page.getByText('Half a thought that').count(), 0);
    assert.match(await view.page.locator('.row-notice').last().innerText(), /rate limited.*retrying in 1\.5 s/);
  });

  it('Stop posts run/interrupt; afterwards the user can steer with a message or discard', async () => {
    const run = await teamRun();
    await view.page.getByRole('button', { name: 'Stop', exact: true }).click();
    const interrupt = await view.waitForRequest('run/interrupt');
    assert.deepEqual(interrupt.params, { runId: run.runId });
    await view.settle();
    assert.match(await view.page.locator('.status-line').innerText(), /Stopping/);
    await view.reply(interrupt, 'run/interrupt', null);
    await view.notify('transcript/append', { runId: run.runId, events: run.durable((b) => b.interrupted('user')) });
    await view.notify('status/update', { driving: false, sandbox: { state: 'ready' } });
    await view.settle();
    assert.match(await view.page.locator('.tool-card.tool-interrupted').innerText(), /delegate/, 'the running delegation stopped');
    assert.equal(await view.page.getByRole('button', { name: 'Stop', exact: true }).count(), 0);
    assert.match(await view.page.locator('.composer').innerText(), /Stopped\. Tell the team/);
    await view.screenshot('chat-interrupted-dark');

    await view.page.locator('textarea.composer-input').fill('Use the existing helper instead');
    await view.page.getByRole('button', { name: 'Continue' }).click();
    const resume = await view.waitForRequest('run/resume');
    assert.deepEqual(resume.params, { runId: run.runId, message: 'Use the existing helper instead' });
    await view.replyError(resume, { code: 'conflict', message: 'Another VS Code window is driving this run.' });
    await view.settle();
    assert.match(await view.page.locator('.banner').innerText(), /Another VS Code window is driving this run\./);
    assert.equal(await view.page.locator('textarea.composer-input').inputValue(), 'Use the existing helper instead', 'the message is kept for another try');
    await view.page.getByRole('button', { name: 'Discard' }).click();
    assert.deepEqual((await view.waitForRequest('run/discard')).params, { runId: run.runId });
  });

  it('an ask_user question is answered inline and the answer posted as run/answer', async () => {
    const run = await teamRun();
    await view.notify('transcript/append', {
      runId: run.runId,
      events: run.durable((b) =>
        b
          .toolCompleted('dev-1', 'call-dev', 'delegate', { output: 'fixed' })
          .modelTurn('orch-1', { toolCalls: [{ id: 'ask-1', name: 'ask_user', args: { question: 'Should I also update the **docs**?' } }] })
          .toolStarted('orch-1', 'ask-1', 'ask_user', { question: 'Should I also update the **docs**?' })
          .event({ type: 'ask_user.asked', agentId: 'orch-1', callId: 'ask-1', question: 'Should I also update the **docs**?' }),
      ),
    });
    await view.notify('status/update', { driving: false, sandbox: { state: 'ready' } });
    await view.settle();
    assert.match(await view.page.locator('.row-question').innerText(), /Orchestrator asks:\s+Should I also update the docs\?\s+Waiting for your answer/);
    assert.match(await view.page.locator('.status-line').innerText(), /Waiting for your answer/);
    await view.screenshot('chat-question-dark');
    const box = view.page.locator('textarea.composer-input');
    assert.equal(await box.evaluate((el) => el === document.activeElement), true, 'the answer box has focus');
    await box.fill('Yes, the README too');
    await view.page.keyboard.press('Enter');
    const answer = await view.waitForRequest('run/answer');
    assert.deepEqual(answer.params, { runId: run.runId, callId: 'ask-1', answer: 'Yes, the README too' });
  });

  it('errors are one sentence with action buttons that become host actions', async () => {
    const run = await teamRun();
    await view.notify('transcript/append', { runId: run.runId, events: run.durable((b) => b.error('dev-1', 'auth', 'Anthropic rejected the API key (401).').interrupted('error')) });
    await view.notify('status/update', { driving: false, sandbox: { state: 'unavailable', detail: 'Docker is not running.' } });
    await view.notify('notice/error', { message: 'Docker is not running, so the sandbox cannot start.', actions: ['startDocker', 'showLogs'] });
    await view.settle();
    await view.page.locator('.row-error').getByRole('button', { name: 'Set API Key' }).click();
    const setKey = await view.waitForRequest('action/invoke');
    assert.deepEqual(setKey.params, { action: 'setApiKey', runId: run.runId });
    await view.reply(setKey, 'action/invoke', null);
    await view.page.locator('.banner').getByRole('button', { name: 'Start Docker' }).click();
    assert.deepEqual((await view.waitForRequest('action/invoke', 2)).params, { action: 'startDocker', runId: run.runId });
    assert.match(await view.page.locator('.status-line').innerText(), /Docker unavailable/);
    await view.screenshot('chat-error-dark');

    // A failed request shows its error in the banner, with its actions.
    await view.page.getByRole('button', { name: 'Continue' }).click();
    await view.replyError(await view.waitForRequest('run/resume'), { code: 'failed', message: 'No API key is set for Anthropic.', actions: ['setApiKey'] });
    await view.settle();
    assert.match(await view.page.locator('.banner').innerText(), /No API key is set for Anthropic\.\s+Set API Key/);
  });

  it('model text with HTML renders inert: no element, no dialog, no request', async () => {
    const run = await teamRun();
    const hostile = 'Look: <img src=x onerror=alert(1)> <script>alert(2)</script> [click](javascript:alert(3)) &lt;b&gt;';
    await view.notify('transcript/append', { runId: run.runId, events: [...run.deltas('dev-1', hostile, 9), ...run.durable((b) => b.modelTurn('dev-1', { text: hostile }))] });
    await view.settle();
    const app = view.page.locator('#app');
    assert.equal(await app.locator('img, script, iframe, svg').count(), 0);
    assert.equal(await app.locator('a').count(), 0);
    assert.equal(await view.page.getByText('<img src=x onerror=alert(1)>', { exact: false }).count(), 1);
    assert.match(await view.page.locator('.row-text').last().innerText(), /&lt;b&gt;$/);
    await view.page.locator('.row-text').last().click();
    await view.settle();
    assert.deepEqual(view.dialogs, []);
  });

  it('a 5,000-message transcript keeps only the visible rows in the DOM', async () => {
    view = await harness().open({ view: 'chat' });
    await view.handshake();
    const events = longRun(5_000);
    await view.notify('status/update', { driving: true, sandbox: { state: 'ready' } });
    await view.notify('transcript/reset', { runId: 'run-long', events });
    await view.settle();
    const rows = view.page.locator('.vlist-row');
    const mounted = await rows.count();
    assert.ok(mounted > 0 && mounted < 80, `${mounted} rows in the DOM`);
    assert.equal(await rows.last().getAttribute('data-row'), 'r5002', 'it opens at the bottom: the 5,000th message after the goal and the agent');
    assert.match(await view.page.locator('.status-line').innerText(), /step 2500/);

    await view.page.locator('.vlist').evaluate((el) => {
      el.scrollTop = 0;
    });
    await view.settle();
    assert.match(await view.page.locator('.row-goal').innerText(), /Refactor the parser/);
    assert.ok((await rows.count()) < 80);
    assert.equal(await view.page.getByRole('button', { name: 'Jump to latest' }).isVisible(), true);

    // Appending while scrolled up keeps the user's place.
    const before = await view.page.locator('.row-goal').boundingBox();
    const run = new LiveRun('run-long');
    const next = run.live({ type: 'model.delta', agentId: 'dev-1', text: 'more' });
    await view.notify('transcript/append', { runId: 'run-long', events: [{ ...next, seq: events.at(-1)!.seq }] });
    await view.settle();
    assert.deepEqual(await view.page.locator('.row-goal').boundingBox(), before);
  });

  it('looks native in the light and high-contrast themes too', async () => {
    await teamRun('light');
    await view.screenshot('chat-streaming-light');
    assert.deepEqual(await view.violations(), []);
    await view.close();
    await teamRun('high-contrast');
    await view.screenshot('chat-streaming-high-contrast');
  });

  it('ignores malformed host messages and keeps working', async () => {
    view = await harness().open({ view: 'chat' });
    const warnings: string[] = [];
    view.page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    await view.handshake();
    await view.deliver({ kind: 'notify', method: 'transcript/reset', params: { runId: 'r', events: [{ type: 'run.started' }] } });
    await view.deliver('<script>alert(1)</script>');
    await view.notify('notice/error', { message: 'Still alive.', actions: [] });
    await view.settle();
    assert.match(await view.page.locator('.banner').innerText(), /Still alive\./);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /Rejected notification "transcript\/reset": params\.events\.0/);
  });

  it('after a reload, runs that were active are offered for resuming; a stopped run can be reviewed', async () => {
    view = await harness().open({ view: 'chat' });
    await view.handshake();
    const summary = { id: 'run-old', goal: 'Migrate the config loader', status: 'running' as const, createdAt: '2025-01-01T10:00:00.000Z', updatedAt: '2025-01-01T10:20:00.000Z', tokens: 9_000, costUsd: 0.2, steps: 12 };
    await view.notify('runs/resumable', { runs: [summary] });
    const run = new LiveRun('run-old');
    await view.notify('transcript/reset', { runId: 'run-old', events: run.durable((b) => b.runStarted('Migrate the config loader').agentStarted('o', 'orchestrator').modelTurn('o', { text: 'Starting.' })) });
    await view.notify('status/update', { driving: false, sandbox: { state: 'stopped' } });
    await view.settle();
    assert.equal(await view.page.locator('.resumable').isVisible(), false, 'the shown run is not listed twice');
    assert.match(await view.page.locator('.status-line').innerText(), /Not running \(window was reloaded\)/);
    assert.match(await view.page.locator('.composer').innerText(), /stopped when the window closed/);
    await view.page.getByRole('button', { name: 'Review changes' }).click();
    assert.deepEqual((await view.waitForRequest('review/open')).params, { runId: 'run-old' });

    await view.notify('transcript/reset', { runId: null, events: [] });
    await view.settle();
    assert.match(await view.page.locator('.resumable').innerText(), /Migrate the config loader/);
    await view.screenshot('chat-resumable-dark');
    await view.page.locator('.resumable').getByRole('button', { name: 'Resume' }).click();
    assert.deepEqual((await view.waitForRequest('run/resume')).params, { runId: 'run-old' });
  });

  it('after a reload in a short sidebar, the empty chat never draws over the runs offered for resuming', async () => {
    view = await harness().open({ view: 'chat', height: 360 });
    await view.handshake();
    const run = (n: number) => ({ id: `run-${n}`, goal: `Interrupted task number ${n}`, status: 'running' as const, createdAt: '2025-01-01T10:00:00.000Z', updatedAt: '2025-01-01T10:20:00.000Z', tokens: 9_000, costUsd: 0.2, steps: n });
    await view.notify('runs/resumable', { runs: [run(1), run(2), run(3)] });
    await view.notify('transcript/reset', { runId: null, events: [] });
    await view.settle();
    await view.screenshot('chat-resumable-short-dark');
    const box = (selector: string) => view.page.locator(selector).evaluate((el) => el.getBoundingClientRect().toJSON() as DOMRect);
    const [resumable, transcript, title, composer] = await Promise.all([box('.resumable'), box('.transcript'), box('.empty-state-title'), box('.composer')]);
    assert.ok(resumable.bottom <= transcript.top, 'the resumable list sits above the transcript');
    assert.ok(title.top >= transcript.top && title.top >= resumable.bottom, `"Give the team a task" starts below the list (title at ${title.top}, list ends at ${resumable.bottom})`);
    assert.ok(transcript.bottom <= composer.top, 'the composer keeps its room');
    assert.ok(await view.page.getByRole('button', { name: 'Resume' }).first().isVisible());
    assert.ok(await view.page.locator('textarea').isVisible());
  });

  it('an untrusted workspace disables runs and explains why', async () => {
    view = await harness().open({ view: 'chat' });
    await view.handshake(false);
    await view.settle();
    assert.equal(await view.page.locator('textarea').count(), 0);
    assert.match(await view.page.locator('.composer').innerText(), /Restricted Mode/);
    await view.page.getByRole('button', { name: 'Manage Workspace Trust' }).click();
    assert.deepEqual((await view.waitForRequest('action/invoke')).params, { action: 'manageTrust' });
  });
});

describe('chat webview model (no browser)', () => {
  // The bundle's endpoint loads its validators lazily (webview/shared/vscode-api.ts); the contract must hold meanwhile.
  it('handles host messages that arrive before the validators are loaded in order, each validated', async () => {
    const validate = await import('../../src/protocol/validate.ts');
    const { WebviewEndpoint } = await import('../../src/protocol/webview-endpoint.ts');
    let release!: () => void;
    const loaded = new Promise<void>((r) => (release = r));
    const posted: unknown[] = [];
    const seen: string[] = [];
    const rejected: string[] = [];
    const endpoint = new WebviewEndpoint({ post: (m) => posted.push(m) }, 'chat', { 'status/update': (p) => seen.push(p.sandbox.state) }, (r) => rejected.push(r.code), () => loaded.then(() => validate));
    const ready = endpoint.ready();
    assert.equal(posted.length, 1, 'the handshake leaves at once');
    const start = endpoint.request('run/start', { goal: 'x' });
    const bad = endpoint.request('run/start', { goal: '' });
    endpoint.receive({ kind: 'reply', id: 'chat-1', result: { ok: true, value: { protocol: 1, trusted: true } } });
    endpoint.receive({ kind: 'notify', method: 'status/update', params: { driving: false, sandbox: { state: 'starting' } } });
    endpoint.receive({ kind: 'notify', method: 'status/update', params: { driving: 'no', sandbox: { state: 'ready' } } });
    endpoint.receive({ kind: 'notify', method: 'status/update', params: { driving: false, sandbox: { state: 'ready' } } });
    assert.deepEqual([seen, rejected, posted.length], [[], [], 1], 'nothing is handled or sent unchecked');
    release();
    assert.deepEqual(await ready, { ok: true, value: { protocol: 1, trusted: true } });
    assert.deepEqual([seen, rejected], [['starting', 'ready'], ['bad_params']]);
    assert.equal((await bad).ok, false);
    assert.deepEqual((posted as { method: string }[]).map((m) => m.method), ['ui/ready', 'run/start']);
    endpoint.receive({ kind: 'reply', id: 'chat-2', result: { ok: true, value: { runId: 'run-1' } } });
    assert.deepEqual(await start, { ok: true, value: { runId: 'run-1' } });
  });

});
