/**
 * A run's trace for the viewer: the spans folded from the run's log by the
 * core (buildSpans, traceTree), flattened into the rows of a collapsible
 * tree with their place on the run's timeline, plus the cost tables.
 *
 * Contract: rows list visible spans depth-first in start order; a span's
 * children are visible when it is expanded. By default the run and agent
 * spans are expanded and model/tool spans (which have no children, except
 * a `delegate` call holding its agent) are not; delegate calls start
 * expanded so the nesting orchestrator → sub-agent is visible at once.
 */
import type { EventOf, RunEvent } from '../../../src/core/events/schema.ts';
import { buildSpans } from '../../../src/core/trace/spans.ts';
import type { TraceNode } from '../../../src/core/trace/tree.ts';
import { inclusiveTotals, traceTree } from '../../../src/core/trace/tree.ts';
import type { AgentSpan, ModelSpan, RunSpan, Span, Totals } from '../../../src/core/trace/types.ts';

export interface TraceRow {
  span: Span;
  depth: number;
  hasChildren: boolean;
  expanded: boolean;
  /** Position on the run's timeline, as fractions of the run's wall time. */
  offset: number;
  width: number;
}

export interface TraceData {
  runId: string;
  run: RunSpan | undefined;
  roots: TraceNode[];
  spans: Map<string, Span>;
  nodes: Map<string, TraceNode>;
  /** model.turn events by turn id: the responses the model spans stand for. */
  turns: Map<string, EventOf<'model.turn'>>;
  /** agent.started events by agent id: the prompts. */
  agentStarts: Map<string, EventOf<'agent.started'>>;
  start: number;
  end: number;
}

export function buildTrace(runId: string, events: readonly RunEvent[]): TraceData {
  const spans = buildSpans(events);
  const roots = traceTree(spans);
  const nodes = new Map<string, TraceNode>();
  const visit = (n: TraceNode): void => {
    nodes.set(n.span.id, n);
    n.children.forEach(visit);
  };
  roots.forEach(visit);
  const turns = new Map<string, EventOf<'model.turn'>>();
  const agentStarts = new Map<string, EventOf<'agent.started'>>();
  for (const e of events) {
    if (e.type === 'model.turn') turns.set(e.turnId, e);
    else if (e.type === 'agent.started' && e.agentId !== undefined && !agentStarts.has(e.agentId)) agentStarts.set(e.agentId, e);
  }
  const run = spans.find((s): s is RunSpan => s.kind === 'run');
  const start = Math.min(...spans.map((s) => s.start));
  const end = Math.max(...spans.map((s) => s.end));
  return {
    runId,
    run,
    roots,
    spans: new Map(spans.map((s) => [s.id, s])),
    nodes,
    turns,
    agentStarts,
    start: Number.isFinite(start) ? start : 0,
    end: Number.isFinite(end) ? end : 0,
  };
}

export function expandedByDefault(span: Span): boolean {
  return span.kind === 'run' || span.kind === 'agent' || (span.kind === 'tool' && span.attributes.toolName === 'delegate');
}

/** The visible rows given the user's toggles (span id → expanded). */
export function traceRows(trace: TraceData, toggled: ReadonlyMap<string, boolean>): TraceRow[] {
  const total = Math.max(1, trace.end - trace.start);
  const rows: TraceRow[] = [];
  const walk = (node: TraceNode, depth: number): void => {
    const span = node.span;
    const expanded = toggled.get(span.id) ?? expandedByDefault(span);
    rows.push({
      span,
      depth,
      hasChildren: node.children.length > 0,
      expanded,
      offset: (span.start - trace.start) / total,
      width: Math.max(0, span.end - span.start) / total,
    });
    if (expanded) for (const child of node.children) walk(child, depth + 1);
  };
  trace.roots.forEach((r) => walk(r, 0));
  return rows;
}

export interface AgentCost {
  span: AgentSpan;
  /** The agent's own work. */
  own: Totals;
  /** Its own work plus its delegates'. */
  inclusive: Totals;
}

export function agentCosts(trace: TraceData): AgentCost[] {
  const out: AgentCost[] = [];
  for (const node of trace.nodes.values()) {
    if (node.span.kind !== 'agent') continue;
    out.push({ span: node.span, own: node.span.attributes.totals, inclusive: inclusiveTotals(node) });
  }
  return out.sort((a, b) => a.span.start - b.span.start);
}

/** Model calls in step order: the cost and latency of each step. */
export function stepCosts(trace: TraceData): ModelSpan[] {
  return [...trace.spans.values()].filter((s): s is ModelSpan => s.kind === 'model').sort((a, b) => a.attributes.step - b.attributes.step);
}

/** The step a "fork from here" starts from: the state after the span's step. */
export function forkStep(span: Span): number | undefined {
  switch (span.kind) {
    case 'run':
      return undefined;
    case 'agent':
    case 'model':
    case 'tool':
      return span.attributes.step;
  }
}
