/**
 * Chat Completions encoding of a resolved turn: SSE events for `stream: true`
 * (role chunk, content pieces, tool-call pieces, finish chunk, usage chunk when
 * asked for, [DONE]) or one JSON completion.
 */
import { ARGS_DELTA_SIZE, splitDeltas, TEXT_DELTA_SIZE, type ResolvedTurn } from './turn.ts';
import type { FakeErrorSpec } from './types.ts';

export const OPENAI_ID_PREFIX = 'call_';

interface Envelope {
  id: string;
  model: string;
  created: number;
}

export function openaiEvents(turn: ResolvedTurn, env: Envelope, includeUsage: boolean): string[] {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    sse({ id: env.id, object: 'chat.completion.chunk', created: env.created, model: env.model, choices, ...extra });
  const delta = (d: Record<string, unknown>, finish: string | null = null): string =>
    chunk([{ index: 0, delta: d, finish_reason: finish, logprobs: null }]);

  const events = [delta({ role: 'assistant', content: '' })];
  for (const piece of splitDeltas(turn.text, TEXT_DELTA_SIZE)) events.push(delta({ content: piece }));
  turn.toolCalls.forEach((call, index) => {
    events.push(delta({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
    for (const piece of splitDeltas(call.argsText, ARGS_DELTA_SIZE)) {
      events.push(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  events.push(delta({}, stopReasonOf(turn)));
  if (includeUsage) events.push(chunk([], { usage: wireUsage(turn) }));
  events.push('data: [DONE]\n\n');
  return events;
}

export function openaiCompletion(turn: ResolvedTurn, env: Envelope): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: turn.text === '' ? null : turn.text, refusal: null };
  if (turn.toolCalls.length > 0) {
    message['tool_calls'] = turn.toolCalls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.argsText },
    }));
  }
  return {
    id: env.id,
    object: 'chat.completion',
    created: env.created,
    model: env.model,
    choices: [{ index: 0, message, finish_reason: stopReasonOf(turn), logprobs: null }],
    usage: wireUsage(turn),
  };
}

export function openaiErrorBody(spec: FakeErrorSpec): Record<string, unknown> {
  return {
    error: { message: spec.message ?? `fake error ${spec.status}`, type: spec.type ?? null, param: null, code: spec.code ?? null },
  };
}

/** How OpenAI reports a failure after the 200 stream has started. */
export function openaiStreamError(spec: FakeErrorSpec): string {
  return sse(openaiErrorBody(spec));
}

function stopReasonOf(turn: ResolvedTurn): string {
  return turn.stopReason ?? (turn.toolCalls.length > 0 ? 'tool_calls' : 'stop');
}

/** prompt_tokens includes cached and cache-written tokens on this wire. */
function wireUsage(turn: ResolvedTurn): Record<string, unknown> {
  const u = turn.usage;
  const prompt = u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens, ...(u.cacheWriteTokens > 0 && { cache_write_tokens: u.cacheWriteTokens }) },
  };
}

function sse(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}
