/**
 * A run's spans as an OTLP/JSON ExportTraceServiceRequest (the body of
 * `POST /v1/traces` with `Content-Type: application/json`), named after the
 * OpenTelemetry GenAI semantic conventions; our own extras live under
 * `crewbox.*`.
 *
 * Contract:
 * - Deterministic: the same log gives the same document. The trace id is
 *   derived from the run id and each span id from (run id, span id), so a
 *   re-export replaces rather than duplicates.
 * - Ids are lowercase hex (32 for traces, 16 for spans), as OTLP/JSON requires
 *   (not the base64 of the protobuf JSON mapping). Times and int64 values are
 *   decimal strings, so nanoseconds keep full precision.
 * - Status: ok → OK, error → ERROR with a message, unfinished → UNSET plus
 *   `crewbox.span.status = "unfinished"`. We set OK because the log tells us
 *   the operation did complete, which an UNSET span would not say.
 */
import { createHash } from 'node:crypto';
import type { RunEvent } from '../events/schema.ts';
import type { Redactor } from '../redact.ts';
import { buildSpans } from './spans.ts';
import type { Span, SpanEvent, SpanStatus, Totals } from './types.ts';

export type OtlpAnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: OtlpAnyValue[] } };

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  events: { timeUnixNano: string; name: string; attributes: OtlpKeyValue[] }[];
  status: { code: number; message?: string };
}

export interface OtlpExportTraceServiceRequest {
  resourceSpans: {
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[];
  }[];
}

export interface OtlpOptions {
  /** `service.name` of the resource; default "crewbox". */
  serviceName?: string;
  serviceVersion?: string;
  /** Applied to every event before export (logs are redacted when written; this guards older logs). */
  redactor?: Redactor;
  /** Longer string values are cut to this many characters and marked; default unlimited. */
  maxAttributeLength?: number;
}

const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_CLIENT = 3;
const STATUS_CODE: Record<SpanStatus, number> = { unfinished: 0, ok: 1, error: 2 };
const SCOPE_NAME = 'crewbox';

function hexId(seed: string, hexChars: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, hexChars);
}

export function otlpTraceId(runId: string): string {
  return hexId(`trace\0${runId}`, 32);
}

export function otlpSpanId(runId: string, spanId: string): string {
  return hexId(`span\0${runId}\0${spanId}`, 16);
}

function unixNano(ms: number): string {
  // Via whole microseconds: ms × 1e6 exceeds 2^53, so the product is taken in BigInt.
  return (BigInt(Math.round(ms * 1000)) * 1000n).toString();
}

type AttrValue = string | number | boolean | readonly string[] | undefined;

class Attributes {
  readonly list: OtlpKeyValue[] = [];
  constructor(private readonly maxLength: number) {}

  private text(s: string): string {
    return s.length <= this.maxLength ? s : `${s.slice(0, this.maxLength)}…[truncated ${s.length - this.maxLength} chars]`;
  }

  /** Integers go out as intValue, other numbers as doubleValue; undefined is skipped. */
  set(key: string, value: AttrValue): this {
    if (value === undefined) return this;
    let v: OtlpAnyValue;
    if (typeof value === 'string') v = { stringValue: this.text(value) };
    else if (typeof value === 'boolean') v = { boolValue: value };
    else if (typeof value === 'number') v = Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
    else v = { arrayValue: { values: value.map((s) => ({ stringValue: this.text(s) })) } };
    this.list.push({ key, value: v });
    return this;
  }

  /** Aggregates of a run or agent span (its own work and its sub-agents'). */
  totals(t: Totals): this {
    return this.set('crewbox.steps', t.steps)
      .set('crewbox.cost_usd', t.costUsd)
      .set('crewbox.usage.input_tokens', t.usage.inputTokens)
      .set('crewbox.usage.output_tokens', t.usage.outputTokens)
      .set('crewbox.usage.cache_read_tokens', t.usage.cacheReadTokens)
      .set('crewbox.usage.cache_write_tokens', t.usage.cacheWriteTokens)
      .set('crewbox.cache_hit_ratio', t.cacheHitRatio)
      .set('crewbox.tool_calls', t.toolCalls)
      .set('crewbox.tool_errors', t.toolErrors);
  }

  /** Non-string structured values are recorded as JSON text. */
  json(key: string, value: unknown): this {
    if (value === undefined) return this;
    return this.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
}

function spanAttributes(span: Span, runId: string, maxLength: number): Attributes {
  const at = new Attributes(maxLength).set('gen_ai.conversation.id', runId).set('crewbox.span.status', span.status);
  switch (span.kind) {
    case 'run': {
      const a = span.attributes;
      return at
        .set('gen_ai.operation.name', 'invoke_workflow')
        .set('gen_ai.workflow.name', 'crewbox')
        .set('crewbox.run.goal', a.goal)
        .set('crewbox.run.outcome', a.outcome)
        .set('crewbox.run.verdict', a.verdict)
        .set('crewbox.run.halt_reason', a.haltReason)
        .set('crewbox.run.fork_of.run_id', a.forkOf?.runId)
        .set('crewbox.run.fork_of.step', a.forkOf?.step)
        .set('crewbox.run.interruptions', a.interruptions)
        .set('crewbox.run.resumes', a.resumes)
        .set('crewbox.run.active_ms', a.activeMs)
        .totals(a.totals);
    }
    case 'agent': {
      const a = span.attributes;
      return at
        .set('gen_ai.operation.name', 'invoke_agent')
        .set('gen_ai.provider.name', a.provider)
        .set('gen_ai.request.model', a.model)
        .set('gen_ai.request.max_tokens', a.maxOutputTokens)
        .set('gen_ai.agent.name', a.role)
        .set('gen_ai.agent.id', a.agentId)
        .set('crewbox.agent.task', a.task)
        .set('crewbox.agent.parent_id', a.parentAgentId)
        .set('crewbox.agent.verdict', a.verdict)
        .set('crewbox.agent.summary', a.summary)
        .set('crewbox.step', a.step)
        .totals(a.totals);
    }
    case 'model': {
      const a = span.attributes;
      const u = a.usage;
      return at
        .set('gen_ai.operation.name', 'chat')
        .set('gen_ai.provider.name', a.provider)
        .set('gen_ai.request.model', a.model)
        .set('gen_ai.response.finish_reasons', [a.stopReason])
        // Our inputTokens exclude cache reads and writes; the convention's input_tokens include them.
        .set('gen_ai.usage.input_tokens', u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens)
        .set('gen_ai.usage.output_tokens', u.outputTokens)
        .set('gen_ai.usage.cache_read.input_tokens', u.cacheReadTokens)
        .set('gen_ai.usage.cache_creation.input_tokens', u.cacheWriteTokens)
        .set('gen_ai.agent.name', a.role)
        .set('gen_ai.agent.id', a.agentId)
        .set('crewbox.turn_id', a.turnId)
        .set('crewbox.step', a.step)
        .set('crewbox.cost_usd', a.costUsd)
        .set('crewbox.usage.input_tokens', u.inputTokens)
        .set('crewbox.usage.cache_read_tokens', u.cacheReadTokens)
        .set('crewbox.usage.cache_write_tokens', u.cacheWriteTokens)
        .set('crewbox.ttft_ms', a.ttftMs)
        .set('crewbox.attempts', a.attempts)
        .set('crewbox.duration_ms', a.durationMs)
        .set('crewbox.tool_call_ids', a.toolCallIds);
    }
    case 'tool': {
      const a = span.attributes;
      return at
        .set('gen_ai.operation.name', 'execute_tool')
        .set('gen_ai.tool.name', a.toolName)
        .set('gen_ai.tool.call.id', a.callId)
        .set('gen_ai.tool.type', 'function')
        .set('gen_ai.agent.name', a.role)
        .set('gen_ai.agent.id', a.agentId)
        .set('crewbox.step', a.step)
        .json('crewbox.tool.args', a.args)
        .set('crewbox.tool.read_only', a.readOnly)
        .set('crewbox.tool.output', a.output)
        .set('crewbox.tool.is_error', a.isError)
        .set('crewbox.tool.exit_code', a.exitCode)
        .set('crewbox.tool.duration_ms', a.durationMs)
        .json('crewbox.tool.meta', a.meta);
    }
  }
}

function spanEvent(e: SpanEvent, maxLength: number): OtlpSpan['events'][number] {
  const at = new Attributes(maxLength);
  for (const [key, value] of Object.entries(e.attributes)) at.set(`crewbox.event.${key}`, value);
  return { timeUnixNano: unixNano(e.time), name: e.name, attributes: at.set('crewbox.event.seq', e.seq).list };
}

function toOtlpSpan(span: Span, runId: string, traceId: string, maxLength: number): OtlpSpan {
  const attributes = spanAttributes(span, runId, maxLength);
  if (span.status === 'error') attributes.set('error.type', span.errorType ?? '_OTHER');
  return {
    traceId,
    spanId: otlpSpanId(runId, span.id),
    ...(span.parentId !== undefined && { parentSpanId: otlpSpanId(runId, span.parentId) }),
    name: span.name,
    kind: span.kind === 'model' ? SPAN_KIND_CLIENT : SPAN_KIND_INTERNAL,
    startTimeUnixNano: unixNano(span.start),
    endTimeUnixNano: unixNano(span.end),
    attributes: attributes.list,
    events: span.events.map((e) => spanEvent(e, maxLength)),
    status: {
      code: STATUS_CODE[span.status],
      ...(span.status === 'error' && span.statusMessage !== undefined && { message: span.statusMessage }),
    },
  };
}

/** One run's log as an OTLP/JSON export request (see the module contract). */
export function toOtlpJson(events: readonly RunEvent[], options: OtlpOptions = {}): OtlpExportTraceServiceRequest {
  const log = options.redactor ? options.redactor.redactDeep(events) : events;
  const spans = buildSpans(log);
  const runId = log[0]?.runId ?? '';
  const traceId = otlpTraceId(runId);
  const maxLength = options.maxAttributeLength ?? Infinity;
  const resource = new Attributes(maxLength)
    .set('service.name', options.serviceName ?? 'crewbox')
    .set('service.version', options.serviceVersion)
    .set('crewbox.run.id', runId);
  return {
    resourceSpans: [
      {
        resource: { attributes: resource.list },
        scopeSpans: [
          {
            scope: { name: SCOPE_NAME, ...(options.serviceVersion !== undefined && { version: options.serviceVersion }) },
            spans: spans.map((s) => toOtlpSpan(s, runId, traceId, maxLength)),
          },
        ],
      },
    ],
  };
}
