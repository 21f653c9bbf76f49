/** Builders of run events (as EventInput) for store tests. */
import type { EventInput, RunConfig } from '../../src/core/events/schema.ts';

export const testConfig: RunConfig = {
  roles: {
    orchestrator: { provider: 'anthropic', model: 'claude-test' },
    developer: { provider: 'openai', model: 'gpt-test' },
    tester: { provider: 'openai', model: 'gpt-test' },
  },
  budgets: { maxStepsTotal: 50, maxStepsPerAgent: 20, maxTokens: 1_000_000, maxCostUsd: 5, maxWallTimeMs: 3_600_000 },
  requireTesterPass: true,
  network: false,
};

export function runStarted(goal = 'make the tests pass', extra: { forkOf?: { runId: string; step: number } } = {}): EventInput {
  return { type: 'run.started', step: 0, goal, config: testConfig, workspace: '/ws', ...extra };
}

export function modelTurn(step: number, opts: { input?: number; output?: number; cacheRead?: number; cacheWrite?: number; cost?: number; agentId?: string } = {}): EventInput {
  return {
    type: 'model.turn',
    step,
    agentId: opts.agentId ?? 'dev-1',
    turnId: `turn-${step}`,
    provider: 'openai',
    model: 'gpt-test',
    text: 'Reading the failing test first.',
    toolCalls: [{ id: `call-${step}`, name: 'read_file', argsText: '{"path":"src/a.ts"}' }],
    stopReason: 'tool_use',
    usage: { inputTokens: opts.input ?? 100, outputTokens: opts.output ?? 20, cacheReadTokens: opts.cacheRead ?? 0, cacheWriteTokens: opts.cacheWrite ?? 0 },
    costUsd: opts.cost ?? 0.001,
    durationMs: 800,
    attempts: 1,
  };
}

export function toolStarted(step: number, callId = `call-${step}`): EventInput {
  return { type: 'tool.started', step, agentId: 'dev-1', callId, name: 'read_file', args: { path: 'src/a.ts' }, readOnly: true };
}

export function toolCompleted(step: number, callId = `call-${step}`, output = 'export const a = 1;\n'): EventInput {
  return { type: 'tool.completed', step, agentId: 'dev-1', callId, name: 'read_file', isError: false, output, durationMs: 3 };
}

/** One step: a model turn, then its tool call started and completed. */
export function stepEvents(step: number): EventInput[] {
  return [modelTurn(step), toolStarted(step), toolCompleted(step)];
}
