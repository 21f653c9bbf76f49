/**
 * Messages API encoding of a resolved turn: named SSE events for `stream: true`
 * (message_start, a ping, one content block per text/tool call with its
 * deltas, message_delta, message_stop) or one JSON message.
 */
import { ARGS_DELTA_SIZE, splitDeltas, TEXT_DELTA_SIZE, type ResolvedTurn } from './turn.ts';
import type { FakeErrorSpec } from './types.ts';

export const ANTHROPIC_ID_PREFIX = 'toolu_';

interface Envelope {
  id: string;
  model: string;
}

export function anthropicEvents(turn: ResolvedTurn, env: Envelope): string[] {
  const u = turn.usage;
  const events = [
    sse('message_start', {
      type: 'message_start',
      message: {
        id: env.id,
        type: 'message',
        role: 'assistant',
        model: env.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: u.inputTokens,
          output_tokens: 1,
          cache_read_input_tokens: u.cacheReadTokens,
          cache_creation_input_tokens: u.cacheWriteTokens,
        },
      },
    }),
    sse('ping', { type: 'ping' }),
  ];
  let index = 0;
  if (turn.text !== '') {
    events.push(sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
    for (const text of splitDeltas(turn.text, TEXT_DELTA_SIZE)) {
      events.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text } }));
    }
    events.push(sse('content_block_stop', { type: 'content_block_stop', index }));
    index++;
  }
  for (const call of turn.toolCalls) {
    const block = { type: 'tool_use', id: call.id, name: call.name, input: {} };
    events.push(sse('content_block_start', { type: 'content_block_start', index, content_block: block }));
    for (const partial_json of splitDeltas(call.argsText, ARGS_DELTA_SIZE)) {
      events.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }));
    }
    events.push(sse('content_block_stop', { type: 'content_block_stop', index }));
    index++;
  }
  events.push(
    sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReasonOf(turn), stop_sequence: null },
      usage: { output_tokens: u.outputTokens },
    }),
    sse('message_stop', { type: 'message_stop' }),
  );
  return events;
}

/**
 * Non-streaming replies carry tool input as an object, so a raw-string args
 * that is not a JSON object cannot be expressed here; that is a test mistake.
 */
export function anthropicMessage(turn: ResolvedTurn, env: Envelope): Record<string, unknown> {
  const content: unknown[] = [];
  if (turn.text !== '') content.push({ type: 'text', text: turn.text, citations: null });
  for (const call of turn.toolCalls) {
    const input: unknown = JSON.parse(call.argsText);
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new Error(`fake provider: tool call ${call.name} args must be a JSON object on the non-streaming Anthropic wire`);
    }
    content.push({ type: 'tool_use', id: call.id, name: call.name, input });
  }
  const u = turn.usage;
  return {
    id: env.id,
    type: 'message',
    role: 'assistant',
    model: env.model,
    content,
    stop_reason: stopReasonOf(turn),
    stop_sequence: null,
    usage: {
      input_tokens: u.inputTokens,
      output_tokens: u.outputTokens,
      cache_read_input_tokens: u.cacheReadTokens,
      cache_creation_input_tokens: u.cacheWriteTokens,
    },
  };
}

export function anthropicErrorBody(spec: FakeErrorSpec): Record<string, unknown> {
  const error: Record<string, unknown> = { type: spec.type ?? 'api_error', message: spec.message ?? `fake error ${spec.status}` };
  if (spec.code !== undefined) error['details'] = { error_code: spec.code };
  return { type: 'error', error };
}

/** How Anthropic reports a failure after the 200 stream has started. */
export function anthropicStreamError(spec: FakeErrorSpec): string {
  return sse('error', anthropicErrorBody(spec));
}

function stopReasonOf(turn: ResolvedTurn): string {
  return turn.stopReason ?? (turn.toolCalls.length > 0 ? 'tool_use' : 'end_turn');
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
