/**
 * Read-side helpers over spans for the trace viewer and the CLI: the span
 * tree, per-agent and per-run summaries, and totals of a delegation subtree.
 */
import type { RunEvent } from '../events/schema.ts';
import { buildSpans, emptyTotals } from './spans.ts';
import type { AgentSpan, RunSpan, Span, SpanStatus, Totals } from './types.ts';

export interface TraceNode {
  span: Span;
  children: TraceNode[];
}

/** Nests spans under their parents (children in start order); returns the roots. */
export function traceTree(spans: readonly Span[]): TraceNode[] {
  const nodes = new Map<string, TraceNode>();
  for (const span of spans) nodes.set(span.id, { span, children: [] });
  const roots: TraceNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentId !== undefined ? nodes.get(node.span.parentId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  for (const node of nodes.values()) node.children.sort((a, b) => a.span.start - b.span.start);
  return roots;
}

function addTotals(into: Totals, from: Totals): void {
  into.usage.inputTokens += from.usage.inputTokens;
  into.usage.outputTokens += from.usage.outputTokens;
  into.usage.cacheReadTokens += from.usage.cacheReadTokens;
  into.usage.cacheWriteTokens += from.usage.cacheWriteTokens;
  into.costUsd += from.costUsd;
  into.steps += from.steps;
  into.toolCalls += from.toolCalls;
  into.toolErrors += from.toolErrors;
}

/**
 * Totals of every agent in a subtree: for a `delegate` tool node, what the
 * delegation cost; for an agent, its own work plus its delegates'. A run node
 * answers the run's totals (which also count work outside any agent).
 */
export function inclusiveTotals(node: TraceNode): Totals {
  if (node.span.kind === 'run') return structuredClone(node.span.attributes.totals);
  const sum = emptyTotals();
  const visit = (n: TraceNode): void => {
    if (n.span.kind === 'agent') addTotals(sum, n.span.attributes.totals);
    n.children.forEach(visit);
  };
  visit(node);
  const prompt = sum.usage.inputTokens + sum.usage.cacheReadTokens + sum.usage.cacheWriteTokens;
  sum.cacheHitRatio = prompt === 0 ? 0 : sum.usage.cacheReadTokens / prompt;
  return sum;
}

export interface AgentSummary {
  agentId: string;
  role: AgentSpan['attributes']['role'];
  parentAgentId?: string;
  model: string;
  status: SpanStatus;
  start: number;
  end: number;
  verdict?: AgentSpan['attributes']['verdict'];
  totals: Totals;
}

function agentSummary(span: AgentSpan): AgentSummary {
  const a = span.attributes;
  return {
    agentId: a.agentId,
    role: a.role,
    ...(a.parentAgentId !== undefined && { parentAgentId: a.parentAgentId }),
    model: a.model,
    status: span.status,
    start: span.start,
    end: span.end,
    ...(a.verdict !== undefined && { verdict: a.verdict }),
    totals: a.totals,
  };
}

/** One entry per agent span, in the order the agents started. */
export function summarizeByAgent(events: readonly RunEvent[]): AgentSummary[] {
  return buildSpans(events)
    .filter((s): s is AgentSpan => s.kind === 'agent')
    .map(agentSummary);
}

export interface RunSummary {
  runId: string;
  status: SpanStatus;
  outcome?: RunSpan['attributes']['outcome'];
  start: number;
  end: number;
  activeMs: number;
  interruptions: number;
  resumes: number;
  totals: Totals;
  agents: AgentSummary[];
}

/** The run at a glance; undefined for an empty log. */
export function summarizeRun(events: readonly RunEvent[]): RunSummary | undefined {
  const spans = buildSpans(events);
  const run = spans.find((s): s is RunSpan => s.kind === 'run');
  if (!run) return undefined;
  const a = run.attributes;
  return {
    runId: a.runId,
    status: run.status,
    ...(a.outcome !== undefined && { outcome: a.outcome }),
    start: run.start,
    end: run.end,
    activeMs: a.activeMs,
    interruptions: a.interruptions,
    resumes: a.resumes,
    totals: a.totals,
    agents: spans.filter((s): s is AgentSpan => s.kind === 'agent').map(agentSummary),
  };
}
