/**
 * Trace spans as a pure fold over a run's event log: run → agent → model
 * calls and tool calls, where a `delegate` tool span contains the agent it
 * started. The trace viewer, the CLI summary and the OTLP export all read
 * these spans.
 *
 * Contract:
 * - Input is one run's log (ephemeral events are ignored, order is by seq).
 * - Output lists every span after its parent; ids are unique and stable for
 *   the same log.
 * - A span whose closing event never arrived (a crash, an interruption, a
 *   live run) still appears, with status 'unfinished' (or 'error' when an
 *   `error` event was recorded against it). It ends when the process last
 *   showed life while the span was active: the last event before the next
 *   `run.resumed` (or the end of the log), and never before its children.
 */
import type { RunEvent, Usage } from '../events/schema.ts';
import { EPHEMERAL_EVENT_TYPES } from '../events/schema.ts';
import type { AgentSpan, ModelSpan, RunSpan, Span, SpanEvent, ToolSpan, Totals } from './types.ts';

export type * from './types.ts';

const BASE_FIELDS = new Set(['v', 'type', 'runId', 'seq', 'ts']);

function scalarFields(e: RunEvent): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(e)) {
    if (BASE_FIELDS.has(k)) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

export function emptyTotals(): Totals {
  return {
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    costUsd: 0,
    steps: 0,
    toolCalls: 0,
    toolErrors: 0,
    cacheHitRatio: 0,
  };
}

function addUsage(t: Totals, u: Usage, costUsd: number): void {
  t.usage.inputTokens += u.inputTokens;
  t.usage.outputTokens += u.outputTokens;
  t.usage.cacheReadTokens += u.cacheReadTokens;
  t.usage.cacheWriteTokens += u.cacheWriteTokens;
  t.costUsd += costUsd;
}

function settleRatio(t: Totals): void {
  const prompt = t.usage.inputTokens + t.usage.cacheReadTokens + t.usage.cacheWriteTokens;
  t.cacheHitRatio = prompt === 0 ? 0 : t.usage.cacheReadTokens / prompt;
}

/** Event times in ms; an unparsable `ts` takes the previous event's time. */
function eventTimes(log: readonly RunEvent[]): number[] {
  let last = 0;
  return log.map((e) => {
    const t = Date.parse(e.ts);
    if (!Number.isNaN(t)) last = t;
    return last;
  });
}

/** For each event, the time of the last event of its segment (segments end before each `run.resumed`). */
function segmentEnds(log: readonly RunEvent[], times: readonly number[]): number[] {
  const ends = new Array<number>(log.length);
  let end = times[times.length - 1] ?? 0;
  for (let i = log.length - 1; i >= 0; i--) {
    if (log[i + 1]?.type === 'run.resumed') end = times[i]!;
    ends[i] = end;
  }
  return ends;
}

function activeTime(log: readonly RunEvent[], times: readonly number[]): number {
  let total = 0;
  let segmentStart = times[0] ?? 0;
  for (let i = 0; i < log.length; i++) {
    if (log[i + 1] === undefined || log[i + 1]!.type === 'run.resumed') {
      total += Math.max(0, times[i]! - segmentStart);
      segmentStart = times[i + 1] ?? 0;
    }
  }
  return total;
}

const OPEN = Number.NaN;

class SpanFolder {
  readonly spans: Span[] = [];
  private readonly ids = new Set<string>();
  private readonly agents = new Map<string, AgentSpan>();
  private readonly tools = new Map<string, ToolSpan>();
  private readonly lastActive = new Map<Span, number>();
  private readonly failed = new Map<Span, { message: string; kind: string }>();
  private readonly pendingRetries = new Map<string, SpanEvent[]>();
  readonly run: RunSpan;

  constructor(private readonly log: readonly RunEvent[], private readonly times: readonly number[]) {
    const first = log[0]!;
    this.run = this.add({
      kind: 'run',
      id: `run:${first.runId}`,
      parentId: undefined,
      name: 'invoke_workflow crewbox',
      start: times[0]!,
      end: OPEN,
      status: 'unfinished',
      events: [],
      attributes: { runId: first.runId, goal: '', interruptions: 0, resumes: 0, activeMs: 0, totals: emptyTotals() },
    });
  }

  private add<S extends Span>(span: S): S {
    let id = span.id;
    for (let n = 2; this.ids.has(id); n++) id = `${span.id}#${n}`;
    span.id = id;
    this.ids.add(id);
    this.spans.push(span);
    return span;
  }

  private touch(span: Span, index: number): void {
    this.lastActive.set(span, index);
  }

  private ownerOf(e: RunEvent): AgentSpan | RunSpan {
    return (e.agentId !== undefined ? this.agents.get(e.agentId) : undefined) ?? this.run;
  }

  private attach(span: Span, e: RunEvent, index: number): void {
    span.events.push({ name: e.type, time: this.times[index]!, seq: e.seq, attributes: scalarFields(e) });
    this.touch(span, index);
  }

  apply(e: RunEvent, i: number): void {
    const t = this.times[i]!;
    const run = this.run;
    switch (e.type) {
      case 'run.started':
        run.start = t;
        run.attributes.goal = e.goal;
        if (e.forkOf) run.attributes.forkOf = e.forkOf;
        this.touch(run, i);
        return;
      case 'run.resumed': {
        // The run goes on: an earlier finish is no longer its outcome, and
        // errors before the resume were survived (they stay as span events).
        run.attributes.resumes += 1;
        run.end = OPEN;
        run.status = 'unfinished';
        delete run.statusMessage;
        delete run.errorType;
        delete run.attributes.outcome;
        delete run.attributes.summary;
        delete run.attributes.verdict;
        delete run.attributes.haltReason;
        this.failed.clear();
        this.attach(run, e, i);
        return;
      }
      case 'run.interrupted':
        run.attributes.interruptions += 1;
        this.attach(run, e, i);
        return;
      case 'run.finished':
        run.end = t;
        run.status = e.status === 'completed' ? 'ok' : 'error';
        if (e.status !== 'completed') {
          run.statusMessage = e.summary;
          run.errorType = e.haltReason ?? e.status;
        }
        run.attributes.outcome = e.status;
        run.attributes.summary = e.summary;
        if (e.verdict) run.attributes.verdict = e.verdict;
        if (e.haltReason) run.attributes.haltReason = e.haltReason;
        this.touch(run, i);
        return;
      case 'agent.started':
        return this.agentStarted(e, i);
      case 'agent.finished': {
        const agent = e.agentId !== undefined ? this.agents.get(e.agentId) : undefined;
        if (!agent) return this.attach(run, e, i);
        agent.end = t;
        agent.status = 'ok';
        agent.attributes.summary = e.summary;
        if (e.verdict) agent.attributes.verdict = e.verdict;
        this.touch(agent, i);
        return;
      }
      case 'model.turn':
        return this.modelTurn(e, i);
      case 'model.retry': {
        const key = e.agentId ?? '';
        const retries = this.pendingRetries.get(key) ?? [];
        retries.push({ name: e.type, time: t, seq: e.seq, attributes: scalarFields(e) });
        this.pendingRetries.set(key, retries);
        this.touch(this.ownerOf(e), i);
        return;
      }
      case 'tool.started':
        return this.toolStarted(e, i);
      case 'tool.completed':
        return this.toolCompleted(e, i);
      case 'ask_user.asked':
      case 'ask_user.answered':
        return this.attach(this.tools.get(e.callId) ?? this.ownerOf(e), e, i);
      case 'context.compacted': {
        const owner = this.ownerOf(e);
        if (e.usage) {
          addUsage(run.attributes.totals, e.usage, e.costUsd ?? 0);
          if (owner.kind === 'agent') addUsage(owner.attributes.totals, e.usage, e.costUsd ?? 0);
        }
        return this.attach(owner, e, i);
      }
      case 'error': {
        const owner = this.ownerOf(e);
        this.failed.set(owner, { message: e.message, kind: e.kind });
        return this.attach(owner, e, i);
      }
      case 'user.message':
      case 'budget.warning':
      case 'loop.warning':
        return this.attach(this.ownerOf(e), e, i);
      case 'run.discarded':
        return this.attach(run, e, i);
      case 'model.delta':
      case 'model.tool_delta':
      case 'tool.output':
        return;
    }
  }

  private agentStarted(e: Extract<RunEvent, { type: 'agent.started' }>, i: number): void {
    const agentId = e.agentId ?? `${e.role}@${e.seq}`;
    const existing = this.agents.get(agentId);
    // A repeated start of a still-open agent (a resumed runtime re-announcing it) continues its span.
    if (existing && Number.isNaN(existing.end)) return this.attach(existing, e, i);
    const parent =
      (e.parentCallId !== undefined ? this.tools.get(e.parentCallId) : undefined) ??
      (e.parentAgentId !== undefined ? this.agents.get(e.parentAgentId) : undefined) ??
      this.run;
    const span = this.add<AgentSpan>({
      kind: 'agent',
      id: `agent:${agentId}`,
      parentId: parent.id,
      name: `invoke_agent ${e.role}`,
      start: this.times[i]!,
      end: OPEN,
      status: 'unfinished',
      events: [],
      attributes: {
        agentId,
        role: e.role,
        provider: e.model.provider,
        model: e.model.model,
        ...(e.model.maxOutputTokens !== undefined && { maxOutputTokens: e.model.maxOutputTokens }),
        task: e.task,
        step: e.step,
        ...(e.parentAgentId !== undefined && { parentAgentId: e.parentAgentId }),
        ...(e.parentCallId !== undefined && { parentCallId: e.parentCallId }),
        totals: emptyTotals(),
      },
    });
    this.agents.set(agentId, span);
    this.touch(span, i);
  }

  private modelTurn(e: Extract<RunEvent, { type: 'model.turn' }>, i: number): void {
    const owner = this.ownerOf(e);
    const t = this.times[i]!;
    const span = this.add<ModelSpan>({
      kind: 'model',
      id: `model:${e.turnId}`,
      parentId: owner.id,
      name: `chat ${e.model}`,
      start: t - e.durationMs,
      end: t,
      status: 'ok',
      events: this.pendingRetries.get(e.agentId ?? '') ?? [],
      attributes: {
        ...(owner.kind === 'agent' && { agentId: owner.attributes.agentId, role: owner.attributes.role }),
        turnId: e.turnId,
        step: e.step,
        provider: e.provider,
        model: e.model,
        stopReason: e.stopReason,
        usage: { ...e.usage },
        costUsd: e.costUsd,
        durationMs: e.durationMs,
        ...(e.ttftMs !== undefined && { ttftMs: e.ttftMs }),
        attempts: e.attempts,
        toolCallIds: e.toolCalls.map((c) => c.id),
      },
    });
    this.pendingRetries.delete(e.agentId ?? '');
    for (const totals of owner.kind === 'agent' ? [owner.attributes.totals, this.run.attributes.totals] : [this.run.attributes.totals]) {
      addUsage(totals, e.usage, e.costUsd);
      totals.steps += 1;
    }
    this.touch(span, i);
    this.touch(owner, i);
  }

  private countTool(owner: AgentSpan | RunSpan, field: 'toolCalls' | 'toolErrors'): void {
    this.run.attributes.totals[field] += 1;
    if (owner.kind === 'agent') owner.attributes.totals[field] += 1;
  }

  private newToolSpan(e: RunEvent & { callId: string; name: string }, i: number, start: number): ToolSpan {
    const owner = this.ownerOf(e);
    const span = this.add<ToolSpan>({
      kind: 'tool',
      id: `tool:${e.callId}`,
      parentId: owner.id,
      name: `execute_tool ${e.name}`,
      start,
      end: OPEN,
      status: 'unfinished',
      events: [],
      attributes: {
        ...(owner.kind === 'agent' && { agentId: owner.attributes.agentId, role: owner.attributes.role }),
        step: e.step,
        callId: e.callId,
        toolName: e.name,
        args: undefined,
      },
    });
    this.tools.set(e.callId, span);
    this.countTool(owner, 'toolCalls');
    this.touch(owner, i);
    return span;
  }

  private toolStarted(e: Extract<RunEvent, { type: 'tool.started' }>, i: number): void {
    const span = this.newToolSpan(e, i, this.times[i]!);
    span.attributes.args = e.args;
    span.attributes.readOnly = e.readOnly;
    this.touch(span, i);
  }

  private toolCompleted(e: Extract<RunEvent, { type: 'tool.completed' }>, i: number): void {
    const t = this.times[i]!;
    const open = this.tools.get(e.callId);
    // A completion without a start (a log cut at the front) is placed by its duration.
    const span = open && Number.isNaN(open.end) ? open : this.newToolSpan(e, i, t - e.durationMs);
    span.end = t;
    span.status = e.isError ? 'error' : 'ok';
    const a = span.attributes;
    a.output = e.output;
    a.isError = e.isError;
    a.durationMs = e.durationMs;
    if (e.meta) {
      a.meta = e.meta;
      if (typeof e.meta['exitCode'] === 'number') a.exitCode = e.meta['exitCode'];
    }
    if (e.isError) {
      span.statusMessage = e.output.slice(0, 200);
      span.errorType = 'tool_error';
      this.countTool(this.ownerOf(e), 'toolErrors');
    }
    this.touch(span, i);
  }

  finish(): Span[] {
    for (const [agentId, retries] of this.pendingRetries) {
      const owner = this.agents.get(agentId) ?? this.run;
      owner.events.push(...retries);
    }
    // An open run lasts to its last event, whatever that event concerned.
    if (Number.isNaN(this.run.end)) this.touch(this.run, this.log.length - 1);
    const ends = segmentEnds(this.log, this.times);
    const childEnd = new Map<string, number>();
    // Children come after their parents, so a reverse walk settles children first.
    for (let k = this.spans.length - 1; k >= 0; k--) {
      const span = this.spans[k]!;
      if (Number.isNaN(span.end)) {
        const own = ends[this.lastActive.get(span) ?? 0] ?? span.start;
        span.end = Math.max(own, childEnd.get(span.id) ?? -Infinity, span.start);
        const failure = this.failed.get(span);
        span.status = failure === undefined ? 'unfinished' : 'error';
        if (failure !== undefined) {
          span.statusMessage = failure.message;
          span.errorType = failure.kind;
        }
      }
      if (span.parentId !== undefined) childEnd.set(span.parentId, Math.max(childEnd.get(span.parentId) ?? -Infinity, span.end));
      if (span.kind === 'run' || span.kind === 'agent') settleRatio(span.attributes.totals);
    }
    this.run.attributes.activeMs = activeTime(this.log, this.times);
    return this.spans;
  }
}

/** Folds one run's log into spans (see the module contract). An empty log has no spans. */
export function buildSpans(events: readonly RunEvent[]): Span[] {
  const log = events.filter((e) => !EPHEMERAL_EVENT_TYPES.has(e.type)).sort((a, b) => a.seq - b.seq);
  if (log.length === 0) return [];
  const folder = new SpanFolder(log, eventTimes(log));
  log.forEach((e, i) => folder.apply(e, i));
  return folder.finish();
}
