/**
 * The span model of a run trace (built by spans.ts, read by the trace viewer,
 * the CLI and the OTLP export). Times are milliseconds since the epoch.
 */
import type { HaltReason, ProviderName, Role, RunEventType, Usage, Verdict } from '../events/schema.ts';

export type SpanKind = 'run' | 'agent' | 'model' | 'tool';
export type SpanStatus = 'ok' | 'error' | 'unfinished';

/** A log event that is not a span of its own, attached to the span it concerns. */
export interface SpanEvent {
  name: RunEventType;
  time: number;
  seq: number;
  /** The event's scalar fields (strings, numbers, booleans). */
  attributes: Record<string, string | number | boolean>;
}

export interface Totals {
  usage: Usage;
  costUsd: number;
  /** Model turns (each begins a step; see schema.ts). */
  steps: number;
  toolCalls: number;
  toolErrors: number;
  /** Cache reads over all prompt tokens (input + cache read + cache write); 0 without prompts. */
  cacheHitRatio: number;
}

interface SpanBase {
  id: string;
  parentId: string | undefined;
  name: string;
  /** Milliseconds since the epoch. */
  start: number;
  end: number;
  status: SpanStatus;
  /** Set when status is 'error'. */
  statusMessage?: string;
  /** Low-cardinality error class when status is 'error': an ErrorKind, a HaltReason, 'failed' or 'tool_error'. */
  errorType?: string;
  events: SpanEvent[];
}

export interface RunSpan extends SpanBase {
  kind: 'run';
  attributes: {
    runId: string;
    goal: string;
    forkOf?: { runId: string; step: number };
    outcome?: 'completed' | 'failed' | 'halted';
    verdict?: Verdict;
    haltReason?: HaltReason;
    summary?: string;
    interruptions: number;
    resumes: number;
    /** Wall time minus the gaps between segments (a segment ends before each `run.resumed`). */
    activeMs: number;
    totals: Totals;
  };
}

export interface AgentSpan extends SpanBase {
  kind: 'agent';
  attributes: {
    agentId: string;
    role: Role;
    provider: ProviderName;
    model: string;
    maxOutputTokens?: number;
    task: string;
    step: number;
    parentAgentId?: string;
    parentCallId?: string;
    verdict?: Verdict;
    summary?: string;
    /** This agent's own work; delegated agents have their own totals. */
    totals: Totals;
  };
}

export interface ModelSpan extends SpanBase {
  kind: 'model';
  attributes: {
    agentId?: string;
    role?: Role;
    turnId: string;
    step: number;
    provider: ProviderName;
    model: string;
    stopReason: string;
    usage: Usage;
    costUsd: number;
    durationMs: number;
    ttftMs?: number;
    attempts: number;
    toolCallIds: string[];
  };
}

export interface ToolSpan extends SpanBase {
  kind: 'tool';
  attributes: {
    agentId?: string;
    role?: Role;
    step: number;
    callId: string;
    toolName: string;
    args: unknown;
    readOnly?: boolean;
    output?: string;
    isError?: boolean;
    exitCode?: number;
    durationMs?: number;
    meta?: Record<string, unknown>;
  };
}

export type Span = RunSpan | AgentSpan | ModelSpan | ToolSpan;
