/**
 * The run history and trace webview in headless Chromium, under the host's
 * CSP, driven through the protocol. Screenshots go to test-output/webview/.
 */
import assert from 'node:assert/strict';
import type { RunSummary } from '../../src/core/store/run-summary.ts';
import { EventBuilder } from '../support/event-builder.ts';
import type { ViewPage } from '../support/webview-harness.ts';
import { useWebviewHarness } from '../support/webview-harness.ts';

/** A run that lasted 3 m 30 s unless told otherwise. */
function summary(id: string, over: Partial<RunSummary> = {}): RunSummary {
  const createdAt = over.createdAt ?? '2025-01-01T10:00:00.000Z';
  const updatedAt = new Date(Date.parse(createdAt) + 210_000).toISOString();
  return { id, goal: `goal of ${id}`, status: 'completed', createdAt, updatedAt, tokens: 48_200, costUsd: 0.214, steps: 9, ...over };
}

const RUNS: RunSummary[] = [
  summary('run-fix-add', { goal: 'Fix the failing add() test', verdict: 'pass', createdAt: '2025-01-03T09:00:00.000Z' }),
  summary('run-csv', { goal: 'Add CSV export to the report page', status: 'failed', tokens: 120_400, costUsd: 0.91, createdAt: '2025-01-02T09:00:00.000Z' }),
  summary('run-docs', { goal: 'Update the README for the new CLI flags', status: 'interrupted', createdAt: '2025-01-01T09:00:00.000Z' }),
  summary('run-fork', { goal: 'Fix the failing add() test (second try)', status: 'halted', verdict: 'fail', forkOf: { runId: 'run-fix-add', step: 3 }, createdAt: '2025-01-04T09:00:00.000Z' }),
];

/** The log of run-fix-add: orchestrator → developer (a failing then a passing test run) → tester. */
function fixAddLog() {
  const b = new EventBuilder({ runId: 'run-fix-add', startMs: Date.parse('2025-01-03T09:00:00.000Z') });
  b.runStarted('Fix the failing add() test').agentStarted('orch', 'orchestrator', { task: 'Fix the failing add() test' });
  b.modelTurn('orch', { text: 'I will delegate the fix to the developer.', toolCalls: [{ id: 'd1', name: 'delegate', args: { agent: 'developer', task: 'Fix add()' } }], usage: { inputTokens: 3_000, outputTokens: 120, cacheReadTokens: 9_000 }, costUsd: 0.021, ttftMs: 420 });
  b.delegate('orch', 'd1', { agentId: 'dev', role: 'developer', task: 'Fix add()', summary: 'add() fixed; tests pass' }, (x) => {
    x.modelTurn('dev', { text: 'Running the tests first.', toolCalls: [{ id: 't1', name: 'run_command', args: { command: 'npm test' } }], costUsd: 0.012 });
    x.tool('dev', 't1', 'run_command', { args: { command: 'npm test' }, isError: true, output: 'not ok 1 - add(2, 3) === 5', meta: { exitCode: 1 }, durationMs: 1_800 });
    x.modelTurn('dev', { text: 'The operator is wrong.', toolCalls: [{ id: 'e1', name: 'edit_file', args: { path: 'src/math.js', old_string: 'a - b', new_string: 'a + b' } }], costUsd: 0.015 });
    x.tool('dev', 'e1', 'edit_file', { args: { path: 'src/math.js', old_string: 'a - b', new_string: 'a + b' }, output: 'edited src/math.js' });
    x.modelTurn('dev', { toolCalls: [{ id: 't2', name: 'run_command', args: { command: 'npm test' } }], costUsd: 0.011 });
    x.tool('dev', 't2', 'run_command', { args: { command: 'npm test' }, output: 'ok 1 - add(2, 3) === 5', meta: { exitCode: 0 }, durationMs: 1_500 });
  });
  b.modelTurn('orch', { toolCalls: [{ id: 'd2', name: 'delegate', args: { agent: 'tester', task: 'Verify add()' } }], costUsd: 0.009 });
  b.delegate('orch', 'd2', { agentId: 'tst', role: 'tester', task: 'Verify add()', summary: 'verified', verdict: 'pass' }, (x) => {
    x.modelTurn('tst', { toolCalls: [{ id: 't3', name: 'run_command', args: { command: 'npm test' } }], costUsd: 0.004 });
    x.tool('tst', 't3', 'run_command', { args: { command: 'npm test' }, output: 'ok 1', meta: { exitCode: 0 } });
  });
  b.modelTurn('orch', { text: 'Done: add() fixed and verified.', costUsd: 0.006 });
  return b.runFinished('completed', 'add() fixed and verified', { verdict: 'pass' }).build();
}

describe('history webview (Chromium)', function () {
  this.timeout(60_000);
  const harness = useWebviewHarness();
  let view: ViewPage;

  async function openList(theme: 'dark' | 'light' = 'dark') {
    view = await harness().open({ view: 'history', theme, width: 1100, height: 700 });
    assert.deepEqual(await view.handshake(), { view: 'history', protocol: 1 });
    const list = await view.waitForRequest('history/list');
    await view.reply(list, 'history/list', { runs: RUNS });
    await view.settle();
  }

  it('lists the runs newest first with state, duration, tokens, cost and verdict, and searches them', async () => {
    await openList();
    const rows = view.page.locator('.run-row');
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-run'))), ['run-fork', 'run-fix-add', 'run-csv', 'run-docs']);
    assert.match(await rows.nth(2).innerText(), /Add CSV export to the report page[\s\S]*failed\s+3 m 30 s\s+120k\s+\$0\.910\s+–/);
    await view.screenshot('history-list-dark');

    await view.page.locator('input.run-search').fill('fix');
    await view.settle();
    assert.equal(await rows.count(), 2);
    await view.page.locator('input.run-search').fill('status:failed');
    await view.settle();
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-run'))), ['run-csv']);
    assert.match(await view.page.locator('.run-count').innerText(), /1 of 4 runs/);

    await view.notify('history/update', { runs: [summary('run-new', { goal: 'A failing new run', status: 'failed', createdAt: '2025-01-05T09:00:00.000Z' })] });
    await view.settle();
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-run'))), ['run-new', 'run-csv']);
  });

  it('opens a run\'s trace: nested spans on a timeline, details with prompts, responses, tools and costs', async () => {
    await openList();
    await view.page.locator('.run-row[data-run="run-fix-add"]').click();
    const get = await view.waitForRequest('trace/get');
    assert.deepEqual(get.params, { runId: 'run-fix-add' });
    await view.reply(get, 'trace/get', { runId: 'run-fix-add', events: fixAddLog() });
    await view.settle();

    const names = await view.page.locator('.trace-row .trace-name-text').allInnerTexts();
    assert.deepEqual(names.slice(0, 5), ['invoke_workflow crewbox', 'invoke_agent orchestrator', 'chat claude-sonnet-4-5', 'execute_tool delegate', 'invoke_agent developer']);
    const indent = await view.page.locator('.trace-row .trace-label').evaluateAll((els) => els.slice(0, 5).map((e) => (e as HTMLElement).style.paddingLeft));
    assert.deepEqual(indent, ['0px', '14px', '28px', '28px', '42px']);
    const bars = await view.page.locator('.trace-bar').evaluateAll((els) => els.map((e) => Number.parseFloat((e as HTMLElement).style.left)));
    assert.ok(bars.every((x) => x >= 0 && x <= 100), 'bars lie on the timeline');
    assert.match(await view.page.locator('.trace-header').innerText(), /Fix the failing add\(\) test\s+completed · 7 steps/);
    assert.match(await view.page.locator('.cost-section').first().innerText(), /orchestrator \(orch\)[\s\S]*\$0\.036\s+\$0\.078/);

    // A failing tool call: its input, output and exit code.
    await view.page.locator('.trace-row', { hasText: 'execute_tool run_command' }).first().locator('.trace-name').click();
    await view.settle();
    const detail = view.page.locator('.span-detail');
    assert.match(await detail.innerText(), /Exit code\s+1[\s\S]*"command": "npm test"[\s\S]*not ok 1 - add\(2, 3\) === 5/);

    // A model call: response, tokens, cache hits, latency; fork from its step.
    await view.page.locator('.trace-row').nth(2).locator('.trace-name').click();
    await view.settle();
    assert.match(await detail.innerText(), /First token\s+420 ms[\s\S]*Cache hits\s+75%[\s\S]*Cost\s+\$0\.021[\s\S]*Response\s+I will delegate the fix to the developer\./);
    await view.screenshot('history-trace-dark');
    await detail.getByRole('button', { name: 'Fork from step 1' }).click();
    assert.deepEqual((await view.waitForRequest('run/fork')).params, { runId: 'run-fix-add', step: 1 });

    await view.page.getByRole('button', { name: 'Export OTLP' }).click();
    const exported = await view.waitForRequest('trace/export');
    assert.deepEqual(exported.params, { runId: 'run-fix-add' });
    await view.reply(exported, 'trace/export', { saved: true, location: '/home/me/run-fix-add.otlp.json' });
    await view.settle();
    assert.match(await view.page.locator('.notice-line').innerText(), /Trace exported to \/home\/me\/run-fix-add\.otlp\.json/);

    // Collapsing the orchestrator hides everything under it.
    await view.page.locator('.trace-row').nth(1).locator('.twisty').click();
    await view.settle();
    assert.equal(await view.page.locator('.trace-row').count(), 2);
  });

  it('opens a trace on the host\'s request (Open Trace) and shows a failed request as an error', async () => {
    await openList('light');
    await view.notify('trace/show', { runId: 'run-csv' });
    const get = await view.waitForRequest('trace/get');
    await view.replyError(get, { code: 'not_found', message: 'Run run-csv has no log on disk.', actions: ['showLogs'] });
    await view.settle();
    assert.match(await view.page.locator('.banner').innerText(), /Run run-csv has no log on disk\.\s+Show Logs/);
    await view.screenshot('history-error-light');
  });
});
