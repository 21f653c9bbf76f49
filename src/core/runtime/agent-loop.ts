/**
 * One agent's think→act loop: model call → validated tool calls → results fed
 * back, until the agent calls `finish`. The loop is written as "continue from
 * whatever the durable state says", so a fresh agent, a resumed one and a
 * rolled-back fork all go through the same code.
 */
import type { AgentState } from './fold.ts';
import type { RunContext } from './run-context.ts';
import { RunStop } from './stop.ts';
import { runPendingCall } from './call-runner.ts';
import { sampleTurn } from './sampling.ts';
import { checkBudgets } from './budget-guard.ts';
import { compactIfNeeded } from './compaction.ts';
import { renderTemplate } from '../prompts/render.ts';
import nudgeTemplate from './prompts/nudge-no-tool.njk';

export interface AgentResult {
  summary: string;
  verdict: 'pass' | 'fail' | undefined;
}

export async function driveAgent(ctx: RunContext, agent: AgentState): Promise<AgentResult> {
  for (;;) {
    if (agent.finished) return agent.finished;
    if (agent.pending.length > 0) {
      await runPendingCall(ctx, agent, agent.pending[0]!);
      continue;
    }
    if (ctx.signal.aborted) throw new RunStop({ kind: 'interrupted', reason: String(ctx.signal.reason ?? 'interrupted') });
    checkBudgets(ctx, agent);
    await compactIfNeeded(ctx, agent);
    const turn = await sampleTurn(ctx, agent);
    if (turn.toolCalls.length === 0) {
      // A turn with no tool call would end the loop silently; every role ends
      // through `finish`, so tell the model that (it costs a step, which the
      // step budget bounds).
      ctx.recorder.record({
        type: 'user.message',
        agentId: agent.id,
        origin: 'runtime',
        text: renderTemplate(nudgeTemplate, { role: agent.role }),
      });
    }
  }
}
