import assert from 'node:assert/strict';
import { createRedactor } from '../../src/core/redact.ts';
import type { OtlpAnyValue, OtlpSpan } from '../../src/core/trace/otlp.ts';
import { otlpSpanId, otlpTraceId, toOtlpJson } from '../../src/core/trace/otlp.ts';
import { buildSpans } from '../../src/core/trace/spans.ts';
import { EventBuilder, T0 } from '../support/event-builder.ts';

function sampleRun(runId = 'run-1'): EventBuilder {
  return new EventBuilder({ runId })
    .runStarted('Fix the bug')
    .agentStarted('orch', 'orchestrator', { model: { maxOutputTokens: 4096 } })
    .modelTurn('orch', { toolCalls: [{ id: 'd1', name: 'delegate' }], usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 900, cacheWriteTokens: 50 }, costUsd: 0.0125, ttftMs: 350 })
    .delegate('orch', 'd1', { agentId: 'dev', role: 'developer' }, (b) =>
      b
        .modelTurn('dev', { toolCalls: [{ id: 'c1', name: 'run_command' }] })
        .tool('dev', 'c1', 'run_command', { args: { command: 'npm test' }, isError: true, output: '1 failing', meta: { exitCode: 1 } })
        .modelTurn('dev', { toolCalls: [{ id: 'c2', name: 'read_file' }] })
        .toolStarted('dev', 'c2', 'read_file', { path: 'a.ts' }, true),
    );
}

function spansOf(doc: ReturnType<typeof toOtlpJson>): OtlpSpan[] {
  assert.equal(doc.resourceSpans.length, 1);
  assert.equal(doc.resourceSpans[0]!.scopeSpans.length, 1);
  return doc.resourceSpans[0]!.scopeSpans[0]!.spans;
}

function attr(span: OtlpSpan, key: string): OtlpAnyValue | undefined {
  return span.attributes.find((a) => a.key === key)?.value;
}

function stringAttr(span: OtlpSpan, key: string): string | undefined {
  const v = attr(span, key);
  return v && 'stringValue' in v ? v.stringValue : undefined;
}

function byAttr(spans: OtlpSpan[], key: string, value: string): OtlpSpan {
  const span = spans.find((s) => stringAttr(s, key) === value);
  assert.ok(span, `no span with ${key}=${value}`);
  return span;
}

function named(spans: OtlpSpan[], name: string): OtlpSpan {
  const span = spans.find((s) => s.name === name);
  assert.ok(span, `no span named ${name}; have ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

describe('toOtlpJson', () => {
  it('exports one OTLP span per trace span, under a crewbox resource and scope', () => {
    const events = sampleRun().build();
    const doc = toOtlpJson(events);
    const spans = spansOf(doc);
    assert.equal(spans.length, buildSpans(events).length);
    const resource = doc.resourceSpans[0]!.resource.attributes;
    assert.deepEqual(resource.find((a) => a.key === 'service.name')?.value, { stringValue: 'crewbox' });
    assert.deepEqual(resource.find((a) => a.key === 'crewbox.run.id')?.value, { stringValue: 'run-1' });
    assert.equal(doc.resourceSpans[0]!.scopeSpans[0]!.scope.name, 'crewbox');
    const custom = toOtlpJson(events, { serviceName: 'crewbox-cli', serviceVersion: '0.1.0' });
    assert.deepEqual(custom.resourceSpans[0]!.resource.attributes.slice(0, 2), [
      { key: 'service.name', value: { stringValue: 'crewbox-cli' } },
      { key: 'service.version', value: { stringValue: '0.1.0' } },
    ]);
  });

  it('derives valid, stable hex ids and links every parent', () => {
    const events = sampleRun().build();
    const spans = spansOf(toOtlpJson(events));
    const traceId = otlpTraceId('run-1');
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(traceId, '0'.repeat(32));
    const ids = new Set(spans.map((s) => s.spanId));
    assert.equal(ids.size, spans.length);
    for (const s of spans) {
      assert.equal(s.traceId, traceId);
      assert.match(s.spanId, /^[0-9a-f]{16}$/);
      if (s.parentSpanId !== undefined) {
        assert.match(s.parentSpanId, /^[0-9a-f]{16}$/);
        assert.ok(ids.has(s.parentSpanId), `${s.name} has a dangling parent`);
      }
    }
    assert.deepEqual(spans.filter((s) => s.parentSpanId === undefined).map((s) => s.name), ['invoke_workflow crewbox']);
    assert.equal(named(spans, 'invoke_agent developer').parentSpanId, named(spans, 'execute_tool delegate').spanId);
    assert.equal(named(spans, 'invoke_agent developer').spanId, otlpSpanId('run-1', 'agent:dev'));

    assert.deepEqual(toOtlpJson(sampleRun().build()), toOtlpJson(events), 'same log, same document');
    const other = spansOf(toOtlpJson(sampleRun('run-2').build()));
    assert.notEqual(other[0]!.traceId, traceId);
    assert.notEqual(named(other, 'invoke_agent developer').spanId, named(spans, 'invoke_agent developer').spanId);
  });

  it('writes times as decimal nanosecond strings', () => {
    const events = sampleRun().build();
    const spans = spansOf(toOtlpJson(events));
    const root = named(spans, 'invoke_workflow crewbox');
    assert.equal(root.startTimeUnixNano, `${T0 + 100}000000`);
    for (const s of spans) {
      assert.match(s.startTimeUnixNano, /^\d+$/);
      assert.match(s.endTimeUnixNano, /^\d+$/);
      assert.ok(BigInt(s.startTimeUnixNano) <= BigInt(s.endTimeUnixNano), s.name);
    }
    const chat = spans.filter((s) => s.name === 'chat claude-sonnet-4-5')[0]!;
    assert.equal(BigInt(chat.endTimeUnixNano) - BigInt(chat.startTimeUnixNano), 1_200_000_000n);
  });

  it('uses the GenAI semantic convention names, kinds and value types', () => {
    const spans = spansOf(toOtlpJson(sampleRun().build()));
    const root = named(spans, 'invoke_workflow crewbox');
    assert.deepEqual(attr(root, 'gen_ai.operation.name'), { stringValue: 'invoke_workflow' });
    assert.deepEqual(attr(root, 'gen_ai.conversation.id'), { stringValue: 'run-1' });
    assert.equal(root.kind, 1);

    const orch = named(spans, 'invoke_agent orchestrator');
    assert.equal(orch.kind, 1);
    assert.deepEqual(attr(orch, 'gen_ai.operation.name'), { stringValue: 'invoke_agent' });
    assert.deepEqual(attr(orch, 'gen_ai.agent.name'), { stringValue: 'orchestrator' });
    assert.deepEqual(attr(orch, 'gen_ai.agent.id'), { stringValue: 'orch' });
    assert.deepEqual(attr(orch, 'gen_ai.provider.name'), { stringValue: 'anthropic' });
    assert.deepEqual(attr(orch, 'gen_ai.request.max_tokens'), { intValue: '4096' });
    assert.deepEqual(attr(orch, 'crewbox.steps'), { intValue: '1' });

    const chat = byAttr(spans, 'crewbox.turn_id', 'turn-1');
    assert.equal(chat.name, 'chat claude-sonnet-4-5');
    assert.deepEqual(attr(chat, 'gen_ai.agent.id'), { stringValue: 'orch' });
    assert.equal(chat.kind, 3);
    assert.deepEqual(attr(chat, 'gen_ai.operation.name'), { stringValue: 'chat' });
    assert.deepEqual(attr(chat, 'gen_ai.request.model'), { stringValue: 'claude-sonnet-4-5' });
    assert.deepEqual(attr(chat, 'gen_ai.response.finish_reasons'), { arrayValue: { values: [{ stringValue: 'tool_use' }] } });
    // The convention's input_tokens include cached tokens; ours do not.
    assert.deepEqual(attr(chat, 'gen_ai.usage.input_tokens'), { intValue: '1050' });
    assert.deepEqual(attr(chat, 'gen_ai.usage.output_tokens'), { intValue: '20' });
    assert.deepEqual(attr(chat, 'gen_ai.usage.cache_read.input_tokens'), { intValue: '900' });
    assert.deepEqual(attr(chat, 'gen_ai.usage.cache_creation.input_tokens'), { intValue: '50' });
    assert.deepEqual(attr(chat, 'crewbox.usage.input_tokens'), { intValue: '100' });
    assert.deepEqual(attr(chat, 'crewbox.cost_usd'), { doubleValue: 0.0125 });
    assert.deepEqual(attr(chat, 'crewbox.ttft_ms'), { intValue: '350' });
    assert.deepEqual(attr(chat, 'crewbox.step'), { intValue: '1' });

    const cmd = named(spans, 'execute_tool run_command');
    assert.equal(cmd.kind, 1);
    assert.deepEqual(attr(cmd, 'gen_ai.operation.name'), { stringValue: 'execute_tool' });
    assert.deepEqual(attr(cmd, 'gen_ai.tool.name'), { stringValue: 'run_command' });
    assert.deepEqual(attr(cmd, 'gen_ai.tool.call.id'), { stringValue: 'c1' });
    assert.deepEqual(attr(cmd, 'gen_ai.tool.type'), { stringValue: 'function' });
    assert.deepEqual(attr(cmd, 'crewbox.tool.args'), { stringValue: '{"command":"npm test"}' });
    assert.deepEqual(attr(cmd, 'crewbox.tool.output'), { stringValue: '1 failing' });
    assert.deepEqual(attr(cmd, 'crewbox.tool.is_error'), { boolValue: true });
    assert.deepEqual(attr(cmd, 'crewbox.tool.exit_code'), { intValue: '1' });
  });

  it('maps ok, error and unfinished to OK, ERROR (with a message) and UNSET', () => {
    const spans = spansOf(toOtlpJson(sampleRun().build()));
    const failed = named(spans, 'execute_tool run_command');
    assert.deepEqual(failed.status, { code: 2, message: '1 failing' });
    assert.deepEqual(attr(failed, 'error.type'), { stringValue: 'tool_error' });
    assert.deepEqual(byAttr(spans, 'crewbox.turn_id', 'turn-1').status, { code: 1 });
    const crashed = named(spans, 'execute_tool read_file');
    assert.deepEqual(crashed.status, { code: 0 });
    assert.deepEqual(attr(crashed, 'crewbox.span.status'), { stringValue: 'unfinished' });
    assert.equal(attr(crashed, 'crewbox.tool.output'), undefined, 'absent values are left out, not sent empty');
  });

  it('exports span events with their log fields', () => {
    const events = sampleRun().interrupted('user pressed stop').build();
    const root = named(spansOf(toOtlpJson(events)), 'invoke_workflow crewbox');
    assert.equal(root.events.length, 1);
    const [ev] = root.events;
    assert.equal(ev!.name, 'run.interrupted');
    assert.equal(ev!.timeUnixNano, `${Date.parse(events.at(-1)!.ts)}000000`);
    assert.deepEqual(ev!.attributes.find((a) => a.key === 'crewbox.event.reason')?.value, { stringValue: 'user pressed stop' });
  });

  it('survives a JSON round trip unchanged (no undefined, no bigint)', () => {
    const doc = toOtlpJson(sampleRun().build());
    assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
  });

  it('redacts events before export when given a redactor', () => {
    const secret = 'hunter2-very-secret-value';
    const events = sampleRun().tool('dev', 'c3', 'run_command', { args: { command: `echo ${secret}` }, output: `token=${secret}` }).build();
    const plain = JSON.stringify(toOtlpJson(events));
    assert.ok(plain.includes(secret), 'precondition: the secret is in the log');
    const redacted = JSON.stringify(toOtlpJson(events, { redactor: createRedactor({ secrets: [secret] }) }));
    assert.ok(!redacted.includes(secret));
    assert.ok(redacted.includes('token=[REDACTED]'));
  });

  it('truncates long string attributes when asked', () => {
    const events = sampleRun().tool('dev', 'c3', 'read_file', { output: 'x'.repeat(5000) }).build();
    const doc = toOtlpJson(events, { maxAttributeLength: 100 });
    const c3 = byAttr(spansOf(doc), 'gen_ai.tool.call.id', 'c3');
    assert.equal(stringAttr(c3, 'crewbox.tool.output'), `${'x'.repeat(100)}…[truncated 4900 chars]`);
    assert.equal(stringAttr(c3, 'gen_ai.tool.name'), 'read_file');
  });
});
