/**
 * One model call for an agent. Contract: the model turn (text and tool calls)
 * is written to the log before this returns and is durable before any of its
 * tools runs: it is synced together with the next event, which is always a
 * synced record (the first call's tool.started or result, a nudge, the run's
 * end) made before anything acts on the turn; so no tool runs from an
 * unrecorded turn and no completed turn is ever sampled again. Token deltas
 * are emitted live only.
 */
import type { EventOf, ToolCallRecord } from '../events/schema.ts';
import { isModelError } from '../model/errors.ts';
import type { ModelRequest } from '../model/types.ts';
import type { AgentState } from './fold.ts';
import type { RunContext } from './run-context.ts';
import { RunStop } from './stop.ts';
import { compactIfNeeded } from './compaction.ts';

const DEFAULT_MAX_OUTPUT_TOKENS = 8192;

export function requestFor(ctx: RunContext, agent: AgentState): ModelRequest {
  return {
    model: agent.model.model,
    system: agent.system,
    messages: agent.messages,
    tools: ctx.deps.tools.specs(agent.role),
    maxOutputTokens: agent.model.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    cache: true,
  };
}

export async function sampleTurn(ctx: RunContext, agent: AgentState): Promise<EventOf<'model.turn'>> {
  try {
    return await callOnce(ctx, agent);
  } catch (e) {
    // The provider says the prompt no longer fits: compact and try once more.
    if (isModelError(e) && e.kind === 'context_too_long') {
      await compactIfNeeded(ctx, agent, { force: true });
      try {
        return await callOnce(ctx, agent);
      } catch (again) {
        throw toRunStop(ctx, again);
      }
    }
    throw toRunStop(ctx, e);
  }
}

async function callOnce(ctx: RunContext, agent: AgentState): Promise<EventOf<'model.turn'>> {
  const { deps, recorder } = ctx;
  const step = ctx.state.step + 1;
  const toolIds = new Map<number, string>();
  const result = await ctx.models.call(agent.model.provider, requestFor(ctx, agent), ctx.signal, {
    onPart(part) {
      if (part.type === 'text-delta') recorder.emit({ type: 'model.delta', agentId: agent.id, text: part.text, step });
      else if (part.type === 'tool-call-start') {
        toolIds.set(part.index, part.id);
        recorder.emit({ type: 'model.tool_delta', agentId: agent.id, index: part.index, callId: part.id, name: part.name, argsDelta: '', step });
      } else if (part.type === 'tool-call-delta') {
        recorder.emit({ type: 'model.tool_delta', agentId: agent.id, index: part.index, callId: toolIds.get(part.index), argsDelta: part.argsDelta, step });
      }
    },
    onRetry(info) {
      recorder.record({
        type: 'model.retry',
        agentId: agent.id,
        attempt: info.attempt,
        errorKind: isKnownKind(info.errorKind) ? info.errorKind : 'internal',
        delayMs: info.delayMs,
        ...(info.status !== undefined ? { status: info.status } : {}),
      });
    },
  });
  const toolCalls: ToolCallRecord[] = result.toolCalls.map((c, i) => ({ ...c, id: c.id || `${agent.id}-s${step}-c${i}` }));
  return recorder.record({
    type: 'model.turn',
    step,
    agentId: agent.id,
    turnId: `${agent.id}-t${agent.steps + 1}`,
    provider: agent.model.provider,
    model: agent.model.model,
    text: result.text,
    toolCalls,
    stopReason: result.stopReason,
    usage: result.usage,
    costUsd: deps.priceOf(agent.model.model, result.usage),
    durationMs: result.durationMs,
    ...(result.ttftMs !== undefined ? { ttftMs: result.ttftMs } : {}),
    attempts: result.attempts,
  }, { syncWithNext: true }) as EventOf<'model.turn'>;
}

const KINDS = new Set(['auth', 'rate_limit', 'overloaded', 'context_too_long', 'bad_request', 'network', 'timeout', 'server', 'circuit_open', 'aborted', 'sandbox', 'internal']);
function isKnownKind(k: string): k is EventOf<'error'>['kind'] {
  return KINDS.has(k);
}

function toRunStop(ctx: RunContext, e: unknown): RunStop {
  if (e instanceof RunStop) return e;
  if (ctx.signal.aborted || (isModelError(e) && e.kind === 'aborted')) {
    return new RunStop({ kind: 'interrupted', reason: String(ctx.signal.reason ?? 'interrupted') });
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return new RunStop({ kind: 'failed', error: err, message: err.message });
}
