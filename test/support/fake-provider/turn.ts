/**
 * A responder's turn with every default filled in, ready for either wire
 * encoder. Defaults are derived from the request only (never from server
 * state), so a resumed client gets the same ids as the first attempt did.
 */
import type { Usage } from '../../../src/core/model/types.ts';
import type { FakeRequest, FakeTurnContent } from './types.ts';

export interface ResolvedToolCall {
  id: string;
  name: string;
  argsText: string;
}

export interface ResolvedTurn {
  text: string;
  toolCalls: ResolvedToolCall[];
  usage: Usage;
  /** The responder's stop reason, if it chose one; encoders supply their wire's default. */
  stopReason: string | undefined;
}

export function resolveTurn(turn: FakeTurnContent, req: FakeRequest, idPrefix: string): ResolvedTurn {
  const assistantTurns = req.messages.filter((m) => m.role === 'assistant').length;
  const text = turn.text ?? '';
  const toolCalls = (turn.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `${idPrefix}${assistantTurns}_${i}`,
    name: c.name,
    argsText: typeof c.args === 'string' ? c.args : JSON.stringify(c.args),
  }));
  const produced = text.length + toolCalls.reduce((n, c) => n + c.name.length + c.argsText.length, 0);
  const usage: Usage = {
    inputTokens: Math.ceil(req.rawBody.length / 4),
    outputTokens: Math.max(1, Math.ceil(produced / 4)),
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    ...turn.usage,
  };
  return { text, toolCalls, usage, stopReason: turn.stopReason };
}

/** Small pieces so consumers see real incremental streaming (several deltas per text). */
export function splitDeltas(text: string, size: number): string[] {
  const chars = Array.from(text); // code points, so no piece splits a surrogate pair
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(''));
  return pieces;
}

export const TEXT_DELTA_SIZE = 4;
export const ARGS_DELTA_SIZE = 6;
