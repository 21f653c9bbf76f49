import assert from 'node:assert/strict';
import type { RunEvent } from '../../src/core/events/schema.ts';
import { buildSpans } from '../../src/core/trace/spans.ts';
import type { AgentSpan, ModelSpan, RunSpan, Span, ToolSpan } from '../../src/core/trace/types.ts';
import { inclusiveTotals, summarizeByAgent, summarizeRun, traceTree } from '../../src/core/trace/tree.ts';
import { EventBuilder, T0 } from '../support/event-builder.ts';

function byId(spans: Span[], id: string): Span {
  const span = spans.find((s) => s.id === id);
  assert.ok(span, `no span ${id}; have ${spans.map((s) => s.id).join(', ')}`);
  return span;
}
const run = (spans: Span[]) => spans.find((s): s is RunSpan => s.kind === 'run')!;
const agent = (spans: Span[], id: string) => byId(spans, `agent:${id}`) as AgentSpan;
const tool = (spans: Span[], callId: string) => byId(spans, `tool:${callId}`) as ToolSpan;
const model = (spans: Span[], turnId: string) => byId(spans, `model:${turnId}`) as ModelSpan;
const timeOf = (events: RunEvent[], seq: number) => Date.parse(events[seq - 1]!.ts);

function assertParentsFirst(spans: Span[]): void {
  const seen = new Set<string>();
  for (const s of spans) {
    if (s.parentId !== undefined) assert.ok(seen.has(s.parentId), `${s.id} listed before its parent ${s.parentId}`);
    seen.add(s.id);
  }
}

/** Orchestrator reads a file, delegates to a developer (who edits), then to a tester (who passes). */
function delegationRun(): EventBuilder {
  return new EventBuilder()
    .runStarted('Fix the bug')
    .agentStarted('orch', 'orchestrator')
    .modelTurn('orch', { toolCalls: [{ id: 'c1', name: 'read_file' }], usage: { inputTokens: 1000, outputTokens: 50, cacheWriteTokens: 2000 }, costUsd: 0.02 })
    .tool('orch', 'c1', 'read_file', { args: { path: 'src/a.ts' }, readOnly: true, output: 'export const a = 1;' })
    .modelTurn('orch', { toolCalls: [{ id: 'd1', name: 'delegate' }], usage: { inputTokens: 200, outputTokens: 80, cacheReadTokens: 3000 }, costUsd: 0.01 })
    .delegate('orch', 'd1', { agentId: 'dev', role: 'developer', task: 'fix a.ts' }, (b) =>
      b
        .modelTurn('dev', { toolCalls: [{ id: 'c2', name: 'edit_file' }], usage: { inputTokens: 500, outputTokens: 300 }, costUsd: 0.05, ttftMs: 400, attempts: 2 })
        .tool('dev', 'c2', 'edit_file', { args: { path: 'src/a.ts' } })
        .modelTurn('dev', { toolCalls: [{ id: 'c3', name: 'run_command' }], usage: { inputTokens: 600, outputTokens: 20 }, costUsd: 0.01 })
        .tool('dev', 'c3', 'run_command', { args: { command: 'npm test' }, isError: true, output: 'exit 1: 1 failing', meta: { exitCode: 1 } })
        .modelTurn('dev', { usage: { inputTokens: 700, outputTokens: 40 }, costUsd: 0.01 }),
    )
    .modelTurn('orch', { toolCalls: [{ id: 'd2', name: 'delegate' }] })
    .delegate('orch', 'd2', { agentId: 'qa', role: 'tester', verdict: 'pass', summary: 'tests pass' }, (b) =>
      b.modelTurn('qa', { toolCalls: [{ id: 'c4', name: 'run_command' }] }).tool('qa', 'c4', 'run_command', { meta: { exitCode: 0 } }).modelTurn('qa'),
    )
    .modelTurn('orch')
    .agentFinished('orch', 'fixed')
    .runFinished('completed', 'fixed', { verdict: 'pass' });
}

describe('buildSpans', () => {
  it('returns no spans for an empty log', () => {
    assert.deepEqual(buildSpans([]), []);
  });

  it('nests a delegated agent inside the delegate tool span of its parent', () => {
    const spans = buildSpans(delegationRun().build());
    assertParentsFirst(spans);
    const r = run(spans);
    assert.equal(r.id, 'run:run-1');
    assert.equal(r.parentId, undefined);
    assert.equal(agent(spans, 'orch').parentId, r.id);
    assert.equal(tool(spans, 'd1').parentId, 'agent:orch');
    assert.equal(agent(spans, 'dev').parentId, 'tool:d1');
    assert.equal(tool(spans, 'c2').parentId, 'agent:dev');
    assert.equal(model(spans, 'turn-3').parentId, 'agent:dev');
    assert.equal(agent(spans, 'qa').parentId, 'tool:d2');
    assert.equal(tool(spans, 'c4').parentId, 'agent:qa');
    // The delegate call encloses the child agent in time.
    const d1 = tool(spans, 'd1');
    const dev = agent(spans, 'dev');
    assert.ok(d1.start <= dev.start && dev.end <= d1.end);
    assert.equal(spans.length, 1 + 3 + 9 + 6);
    assert.equal(new Set(spans.map((s) => s.id)).size, spans.length);
  });

  it('names spans the GenAI way and records per-span attributes', () => {
    const events = delegationRun().build();
    const spans = buildSpans(events);
    assert.equal(agent(spans, 'dev').name, 'invoke_agent developer');
    assert.equal(tool(spans, 'c2').name, 'execute_tool edit_file');
    assert.equal(run(spans).name, 'invoke_workflow crewbox');

    const m = model(spans, 'turn-3');
    assert.equal(m.name, 'chat claude-sonnet-4-5');
    const turn = events.find((e) => e.type === 'model.turn' && e.turnId === 'turn-3')!;
    assert.equal(m.end, Date.parse(turn.ts));
    assert.equal(m.start, Date.parse(turn.ts) - 1200);
    assert.deepEqual(
      { ...m.attributes },
      {
        agentId: 'dev',
        role: 'developer',
        turnId: 'turn-3',
        step: 3,
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        stopReason: 'tool_use',
        usage: { inputTokens: 500, outputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 0 },
        costUsd: 0.05,
        durationMs: 1200,
        ttftMs: 400,
        attempts: 2,
        toolCallIds: ['c2'],
      },
    );

    const c3 = tool(spans, 'c3');
    assert.equal(c3.status, 'error');
    assert.equal(c3.statusMessage, 'exit 1: 1 failing');
    assert.equal(c3.errorType, 'tool_error');
    assert.equal(c3.attributes.exitCode, 1);
    assert.equal(c3.attributes.role, 'developer');
    assert.equal(c3.attributes.step, 4);
    assert.deepEqual(c3.attributes.args, { command: 'npm test' });
    assert.equal(c3.end - c3.start, 300);

    const c1 = tool(spans, 'c1');
    assert.equal(c1.status, 'ok');
    assert.equal(c1.attributes.readOnly, true);
    assert.equal(c1.attributes.output, 'export const a = 1;');

    assert.equal(agent(spans, 'qa').attributes.verdict, 'pass');
    assert.equal(run(spans).status, 'ok');
    assert.equal(run(spans).attributes.verdict, 'pass');
  });

  it('aggregates tokens, cost, steps and cache hits per agent and per run', () => {
    const events = delegationRun().build();
    const spans = buildSpans(events);
    const orch = agent(spans, 'orch').attributes.totals;
    assert.deepEqual(orch.usage, { inputTokens: 1000 + 200 + 1000 + 1000, outputTokens: 50 + 80 + 100 + 100, cacheReadTokens: 3000, cacheWriteTokens: 2000 });
    assert.equal(orch.steps, 4);
    assert.equal(orch.toolCalls, 3);
    assert.equal(orch.toolErrors, 0);
    assert.equal(orch.cacheHitRatio, 3000 / (3200 + 3000 + 2000));

    const dev = agent(spans, 'dev').attributes.totals;
    assert.equal(dev.steps, 3);
    assert.equal(dev.toolCalls, 2);
    assert.equal(dev.toolErrors, 1);
    assert.ok(Math.abs(dev.costUsd - 0.07) < 1e-12);
    assert.equal(dev.cacheHitRatio, 0);

    const total = run(spans).attributes.totals;
    assert.equal(total.steps, 9);
    assert.equal(total.steps, events.at(-1)!.step, 'the run step counter equals the number of model turns');
    assert.equal(total.toolCalls, 3 + 2 + 1);
    assert.equal(total.usage.outputTokens, 330 + 360 + 200);
    const summed = summarizeByAgent(events).reduce((n, a) => n + a.totals.costUsd, 0);
    assert.ok(Math.abs(total.costUsd - summed) < 1e-12);
  });

  it('counts compaction usage in the agent and run totals but not as a step', () => {
    const events = new EventBuilder()
      .runStarted()
      .agentStarted('orch', 'orchestrator')
      .modelTurn('orch', { usage: { inputTokens: 100, outputTokens: 10 }, costUsd: 0.001 })
      .compacted('orch', { usage: { inputTokens: 5000, outputTokens: 400 }, costUsd: 0.02 })
      .build();
    const spans = buildSpans(events);
    const t = agent(spans, 'orch').attributes.totals;
    assert.equal(t.steps, 1);
    assert.equal(t.usage.inputTokens, 5100);
    assert.ok(Math.abs(t.costUsd - 0.021) < 1e-12);
    assert.equal(run(spans).attributes.totals.usage.outputTokens, 410);
    assert.equal(agent(spans, 'orch').events[0]!.name, 'context.compacted');
  });

  it('keeps a tool that started but never completed (crash), as unfinished, ending where the process died', () => {
    const b = new EventBuilder()
      .runStarted()
      .agentStarted('orch', 'orchestrator')
      .modelTurn('orch', { toolCalls: [{ id: 'c1', name: 'run_command' }] })
      .toolStarted('orch', 'c1', 'run_command', { command: 'npm test' });
    const lastAlive = b.now;
    b.wait(60_000) // the process is gone
      .resumed()
      .modelTurn('orch')
      .agentFinished('orch')
      .runFinished();
    const spans = buildSpans(b.build());
    const c1 = tool(spans, 'c1');
    assert.equal(c1.status, 'unfinished');
    assert.equal(c1.end, lastAlive);
    assert.equal(c1.attributes.output, undefined);
    assert.equal(agent(spans, 'orch').status, 'ok');
    assert.equal(run(spans).status, 'ok');
  });

  it('completes a tool whose result arrives after the resume', () => {
    const b = new EventBuilder()
      .runStarted()
      .agentStarted('orch', 'orchestrator')
      .modelTurn('orch', { toolCalls: [{ id: 'c1', name: 'run_command' }] })
      .toolStarted('orch', 'c1', 'run_command')
      .wait(5_000)
      .resumed()
      .toolCompleted('orch', 'c1', 'run_command', { output: 'from the sandbox journal' });
    const spans = buildSpans(b.build());
    const c1 = tool(spans, 'c1');
    assert.equal(c1.status, 'ok');
    assert.equal(c1.end, b.now);
    assert.equal(c1.attributes.output, 'from the sandbox journal');
  });

  it('gives a re-issued call its own span and leaves the abandoned one unfinished', () => {
    const events = new EventBuilder()
      .runStarted()
      .agentStarted('orch', 'orchestrator')
      .modelTurn('orch', { toolCalls: [{ id: 'c1', name: 'run_command' }] })
      .toolStarted('orch', 'c1', 'run_command')
      .resumed()
      .tool('orch', 'c1', 'run_command')
      .build();
    const spans = buildSpans(events).filter((s): s is ToolSpan => s.kind === 'tool');
    assert.deepEqual(spans.map((s) => [s.id, s.status]), [['tool:c1', 'unfinished'], ['tool:c1#2', 'ok']]);
    assert.equal(run(buildSpans(events)).attributes.totals.toolCalls, 2);
  });

  it('keeps the open spans of a live (or crashed) run, ending at the last event and never before their children', () => {
    const b = new EventBuilder()
      .runStarted()
      .agentStarted('orch', 'orchestrator')
      .modelTurn('orch', { toolCalls: [{ id: 'd1', name: 'delegate' }] })
      .toolStarted('orch', 'd1', 'delegate', { agent: 'developer' })
      .agentStarted('dev', 'developer', { parentAgentId: 'orch', parentCallId: 'd1' })
      .modelTurn('dev', { toolCalls: [{ id: 'c1', name: 'run_command' }] })
      .toolStarted('dev', 'c1', 'run_command');
    const events = b.build();
    const spans = buildSpans(events);
    for (const s of spans) assert.equal(s.status, s.kind === 'model' ? 'ok' : 'unfinished', s.id);
    for (const id of ['tool:c1', 'agent:dev', 'tool:d1', 'agent:orch', 'run:run-1']) assert.equal(byId(spans, id).end, b.now, id);
  });

  it('stretches an unfinished delegate call over a child that went on after a resume', () => {
    const b = new EventBuilder()
      .runStarted()
      .agentStarted('orch', 'orchestrator')
      .modelTurn('orch', { toolCalls: [{ id: 'd1', name: 'delegate' }] })
      .toolStarted('orch', 'd1', 'delegate')
      .agentStarted('dev', 'developer', { parentAgentId: 'orch', parentCallId: 'd1' })
      .wait(10_000)
      .resumed()
      .modelTurn('dev')
      .agentFinished('dev');
    const spans = buildSpans(b.build());
    assert.equal(agent(spans, 'dev').status, 'ok');
    assert.equal(tool(spans, 'd1').status, 'unfinished');
    assert.equal(tool(spans, 'd1').end, agent(spans, 'dev').end);
  });

  it('records interruptions and resumes on the run span and excludes downtime from active time', () => {
    const b = new EventBuilder({ tickMs: 100 })
      .runStarted()
      .agentStarted('orch', 'orchestrator')
      .modelTurn('orch', { durationMs: 1000 })
      .interrupted('user pressed stop');
    const firstSegment = b.now - T0 - 100; // run.started is at T0 + 100
    b.wait(3_600_000).resumed('carry on');
    const resumedAt = b.now;
    b.modelTurn('orch', { durationMs: 2000 }).agentFinished('orch').runFinished();
    const events = b.build();
    const r = run(buildSpans(events));
    assert.equal(r.status, 'ok');
    assert.equal(r.attributes.interruptions, 1);
    assert.equal(r.attributes.resumes, 1);
    assert.equal(r.attributes.activeMs, firstSegment + (b.now - resumedAt));
    assert.equal(r.end - r.start, r.attributes.activeMs + 3_600_000 + 100);
    assert.deepEqual(
      r.events.map((e) => [e.name, e.attributes['reason'] ?? e.attributes['message']]),
      [['run.interrupted', 'user pressed stop'], ['run.resumed', 'carry on']],
    );
  });

  it('reopens a finished run that is resumed with a follow-up', () => {
    const events = new EventBuilder()
      .runStarted()
      .agentStarted('orch', 'orchestrator')
      .modelTurn('orch')
      .runFinished('halted', 'budget spent', { haltReason: 'max_cost' })
      .resumed('one more thing')
      .modelTurn('orch')
      .build();
    const r = run(buildSpans(events));
    assert.equal(r.status, 'unfinished');
    assert.equal(r.attributes.outcome, undefined);
    assert.equal(r.errorType, undefined);
    assert.equal(r.end, timeOf(events, events.length));
  });

  it('marks a halted run as an error with its reason', () => {
    const events = new EventBuilder().runStarted().agentStarted('orch', 'orchestrator').modelTurn('orch').runFinished('halted', 'too expensive', { haltReason: 'max_cost' }).build();
    const r = run(buildSpans(events));
    assert.equal(r.status, 'error');
    assert.equal(r.errorType, 'max_cost');
    assert.equal(r.statusMessage, 'too expensive');
    assert.equal(r.attributes.outcome, 'halted');
  });

  it('marks an agent that stopped on an error event as error, unless the run resumed after it', () => {
    const b = new EventBuilder().runStarted().agentStarted('orch', 'orchestrator').modelTurn('orch').error('orch', 'auth', 'invalid x-api-key');
    const failed = agent(buildSpans(b.build()), 'orch');
    assert.equal(failed.status, 'error');
    assert.equal(failed.statusMessage, 'invalid x-api-key');
    assert.equal(failed.errorType, 'auth');
    assert.equal(failed.events.at(-1)!.name, 'error');

    b.resumed().modelTurn('orch');
    assert.equal(agent(buildSpans(b.build()), 'orch').status, 'unfinished');
  });

  it('attaches retries to the model call they delayed, and unresolved ones to the agent', () => {
    const events = new EventBuilder()
      .runStarted()
      .agentStarted('orch', 'orchestrator')
      .modelRetry('orch', 1, 'overloaded')
      .modelRetry('orch', 2, 'rate_limit')
      .modelTurn('orch', { attempts: 3 })
      .modelRetry('orch', 1, 'server')
      .build();
    const spans = buildSpans(events);
    assert.deepEqual(model(spans, 'turn-1').events.map((e) => e.attributes['errorKind']), ['overloaded', 'rate_limit']);
    assert.deepEqual(agent(spans, 'orch').events.map((e) => e.attributes['errorKind']), ['server']);
  });

  it('attaches ask_user events to the ask_user call and user messages to the agent', () => {
    const events = new EventBuilder()
      .runStarted()
      .agentStarted('orch', 'orchestrator')
      .modelTurn('orch', { toolCalls: [{ id: 'q1', name: 'ask_user' }] })
      .toolStarted('orch', 'q1', 'ask_user', { question: 'Which file?' })
      .event({ type: 'ask_user.asked', agentId: 'orch', callId: 'q1', question: 'Which file?' })
      .event({ type: 'ask_user.answered', agentId: 'orch', callId: 'q1', answer: 'a.ts' })
      .toolCompleted('orch', 'q1', 'ask_user', { output: 'a.ts' })
      .userMessage('also update the docs', 'orch')
      .build();
    const spans = buildSpans(events);
    assert.deepEqual(tool(spans, 'q1').events.map((e) => e.name), ['ask_user.asked', 'ask_user.answered']);
    assert.equal(tool(spans, 'q1').events[1]!.attributes['answer'], 'a.ts');
    assert.deepEqual(agent(spans, 'orch').events.map((e) => e.name), ['user.message']);
  });

  it('ignores ephemeral events and folds in seq order whatever the input order', () => {
    const events = delegationRun().build();
    const live: RunEvent = { v: 1, runId: 'run-1', seq: 3, ts: events[2]!.ts, step: 1, agentId: 'orch', type: 'model.delta', text: 'hel' };
    const shuffled = [...events].reverse();
    shuffled.splice(5, 0, live);
    assert.deepEqual(buildSpans(shuffled), buildSpans(events));
  });

  it('places a completion whose start is missing from the log by its duration', () => {
    const b = new EventBuilder().runStarted().agentStarted('orch', 'orchestrator').toolCompleted('orch', 'c9', 'read_file', { durationMs: 700 });
    const c9 = tool(buildSpans(b.build()), 'c9');
    assert.equal(c9.status, 'ok');
    assert.equal(c9.end - c9.start, 700);
    assert.equal(c9.parentId, 'agent:orch');
  });
});

describe('trace tree helpers', () => {
  it('nests spans under their parents in start order', () => {
    const spans = buildSpans(delegationRun().build());
    const roots = traceTree(spans);
    assert.equal(roots.length, 1);
    const [root] = roots;
    assert.equal(root!.span.kind, 'run');
    const orch = root!.children[0]!;
    assert.equal(orch.span.id, 'agent:orch');
    assert.deepEqual(
      orch.children.map((n) => n.span.id),
      ['model:turn-1', 'tool:c1', 'model:turn-2', 'tool:d1', 'model:turn-6', 'tool:d2', 'model:turn-9'],
    );
    const d1 = orch.children.find((n) => n.span.id === 'tool:d1')!;
    assert.deepEqual(d1.children.map((n) => n.span.id), ['agent:dev']);
    let count = 0;
    const visit = (n: (typeof roots)[number]): void => {
      count += 1;
      n.children.forEach(visit);
    };
    visit(root!);
    assert.equal(count, spans.length);
  });

  it('sums a delegation subtree with inclusiveTotals', () => {
    const spans = buildSpans(delegationRun().build());
    const orch = traceTree(spans)[0]!.children[0]!;
    const d1 = orch.children.find((n) => n.span.id === 'tool:d1')!;
    const dev = agent(spans, 'dev').attributes.totals;
    assert.deepEqual(inclusiveTotals(d1), dev);
    const all = inclusiveTotals(orch);
    assert.equal(all.steps, 9);
    assert.deepEqual(inclusiveTotals(traceTree(spans)[0]!), run(spans).attributes.totals);
  });

  it('summarises agents and the run', () => {
    const events = delegationRun().build();
    const agents = summarizeByAgent(events);
    assert.deepEqual(agents.map((a) => [a.agentId, a.role, a.parentAgentId, a.status, a.verdict]), [
      ['orch', 'orchestrator', undefined, 'ok', undefined],
      ['dev', 'developer', 'orch', 'ok', undefined],
      ['qa', 'tester', 'orch', 'ok', 'pass'],
    ]);
    const summary = summarizeRun(events)!;
    assert.equal(summary.runId, 'run-1');
    assert.equal(summary.status, 'ok');
    assert.equal(summary.outcome, 'completed');
    assert.equal(summary.totals.steps, 9);
    assert.deepEqual(summary.agents, agents);
    assert.equal(summarizeRun([]), undefined);
  });
});
