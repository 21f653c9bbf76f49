import assert from 'node:assert/strict';
import type { RunSummary } from '../../src/core/store/run-summary.ts';
import { filterRuns, runDurationMs, upsertRuns } from '../../webview/history/model/filter.ts';
import { agentCosts, buildTrace, forkStep, stepCosts, traceRows } from '../../webview/history/model/trace-model.ts';
import { EventBuilder } from '../support/event-builder.ts';

function run(id: string, over: Partial<RunSummary> = {}): RunSummary {
  return { id, goal: `goal of ${id}`, status: 'completed', createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:01:00.000Z', tokens: 100, costUsd: 0.01, steps: 3, ...over };
}

const RUNS: RunSummary[] = [
  run('run-a', { goal: 'Fix the flaky login test', status: 'failed', createdAt: '2025-01-01T10:00:00.000Z' }),
  run('run-b', { goal: 'Add CSV export', verdict: 'pass', createdAt: '2025-01-02T10:00:00.000Z' }),
  run('run-c', { goal: 'Add CSV import', verdict: 'fail', status: 'halted', createdAt: '2025-01-03T10:00:00.000Z', forkOf: { runId: 'run-b', step: 2 } }),
];

const ids = (runs: RunSummary[]) => runs.map((r) => r.id);

describe('run history filter', () => {
  it('lists newest first and matches every word in the goal or id, case-insensitively', () => {
    assert.deepEqual(ids(filterRuns(RUNS, '')), ['run-c', 'run-b', 'run-a']);
    assert.deepEqual(ids(filterRuns(RUNS, 'csv')), ['run-c', 'run-b']);
    assert.deepEqual(ids(filterRuns(RUNS, 'CSV export')), ['run-b']);
    assert.deepEqual(ids(filterRuns(RUNS, 'run-a')), ['run-a']);
    assert.deepEqual(ids(filterRuns(RUNS, 'nothing-like-this')), []);
  });

  it('understands status:, verdict: and is:fork', () => {
    assert.deepEqual(ids(filterRuns(RUNS, 'status:fail')), ['run-a']);
    assert.deepEqual(ids(filterRuns(RUNS, 'verdict:pass')), ['run-b']);
    assert.deepEqual(ids(filterRuns(RUNS, 'verdict:none')), ['run-a']);
    assert.deepEqual(ids(filterRuns(RUNS, 'is:fork csv')), ['run-c']);
  });

  it('computes wall duration and upserts updates by id', () => {
    assert.equal(runDurationMs(run('x')), 60_000);
    assert.equal(runDurationMs(run('x', { updatedAt: 'garbage' })), 0);
    const next = upsertRuns(RUNS, [run('run-b', { status: 'running', goal: 'Add CSV export' }), run('run-d')]);
    assert.deepEqual(ids(next).sort(), ['run-a', 'run-b', 'run-c', 'run-d']);
    assert.equal(next.find((r) => r.id === 'run-b')?.status, 'running');
  });
});

function delegatedRun() {
  const b = new EventBuilder({ runId: 'run-t' });
  b.runStarted('Fix add()').agentStarted('orch', 'orchestrator');
  b.modelTurn('orch', { text: 'Delegating.', toolCalls: [{ id: 'd1', name: 'delegate', args: { agent: 'developer', task: 'fix add' } }], costUsd: 0.02 });
  b.delegate('orch', 'd1', { agentId: 'dev', role: 'developer', task: 'fix add' }, (x) => {
    x.modelTurn('dev', { text: 'Running tests.', toolCalls: [{ id: 't1', name: 'run_command', args: { command: 'npm test' } }], costUsd: 0.05, usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 300 } });
    x.tool('dev', 't1', 'run_command', { args: { command: 'npm test' }, output: 'ok', meta: { exitCode: 0 } });
  });
  b.modelTurn('orch', { text: 'Done.', costUsd: 0.01 });
  b.runFinished('completed', 'fixed');
  return b.build();
}

describe('trace view model', () => {
  it('shows orchestrator → delegate call → sub-agent → model and tool calls, expanded by default', () => {
    const trace = buildTrace('run-t', delegatedRun());
    const rows = traceRows(trace, new Map());
    assert.deepEqual(
      rows.map((r) => `${r.depth}:${r.span.kind}:${r.span.name}`),
      [
        '0:run:invoke_workflow crewbox',
        '1:agent:invoke_agent orchestrator',
        '2:model:chat claude-sonnet-4-5',
        '2:tool:execute_tool delegate',
        '3:agent:invoke_agent developer',
        '4:model:chat claude-sonnet-4-5',
        '4:tool:execute_tool run_command',
        '2:model:chat claude-sonnet-4-5',
      ],
    );
    for (const r of rows) {
      assert.ok(r.offset >= 0 && r.offset + r.width <= 1 + 1e-9, `${r.span.name} lies on the timeline`);
    }
  });

  it('collapsing a span hides its descendants', () => {
    const trace = buildTrace('run-t', delegatedRun());
    const delegate = [...trace.spans.values()].find((s) => s.kind === 'tool' && s.attributes.toolName === 'delegate')!;
    const rows = traceRows(trace, new Map([[delegate.id, false]]));
    assert.equal(rows.length, 5);
    assert.equal(rows.find((r) => r.span.id === delegate.id)?.expanded, false);
  });

  it('keeps the responses and prompts for the detail pane', () => {
    const trace = buildTrace('run-t', delegatedRun());
    assert.deepEqual([...trace.turns.values()].map((t) => t.text), ['Delegating.', 'Running tests.', 'Done.']);
    assert.equal(trace.agentStarts.get('dev')?.system, 'You are the developer.');
  });

  it('costs per agent (own and with delegates) and per step', () => {
    const trace = buildTrace('run-t', delegatedRun());
    const byRole = Object.fromEntries(agentCosts(trace).map((c) => [c.span.attributes.role, c]));
    assert.ok(Math.abs(byRole['orchestrator']!.own.costUsd - 0.03) < 1e-9);
    assert.ok(Math.abs(byRole['orchestrator']!.inclusive.costUsd - 0.08) < 1e-9);
    assert.equal(byRole['developer']!.own.cacheHitRatio, 0.75);
    assert.deepEqual(stepCosts(trace).map((s) => [s.attributes.step, s.attributes.costUsd]), [[1, 0.02], [2, 0.05], [3, 0.01]]);
  });

  it('offers forking from the step a span belongs to, not from the run itself', () => {
    const trace = buildTrace('run-t', delegatedRun());
    const tool = [...trace.spans.values()].find((s) => s.kind === 'tool' && s.attributes.toolName === 'run_command')!;
    assert.equal(forkStep(tool), 2);
    assert.equal(forkStep(trace.run!), undefined);
  });
});
