/**
 * The tools the runtime itself answers: `finish` (with the tester's verdict
 * rule and the tester-pass gate), `delegate` (a sub-agent with a fresh
 * context) and `ask_user` (a durable pause).
 */
import { basename } from 'node:path';
import type { Role, ToolCallRecord } from '../events/schema.ts';
import { systemPromptFor } from '../agents/roles.ts';
import { renderTemplate } from '../prompts/render.ts';
import type { AgentState } from './fold.ts';
import { childForPendingDelegate } from './fold.ts';
import type { RunContext } from './run-context.ts';
import { RunStop } from './stop.ts';
import { complete } from './call-runner.ts';
import { driveAgent } from './agent-loop.ts';
import gateTemplate from './prompts/tester-gate.njk';
import delegateResultTemplate from './prompts/delegate-result.njk';

const CONTROL = new Set(['finish', 'delegate', 'ask_user']);
export const isControlTool = (name: string): boolean => CONTROL.has(name);

interface FinishArgs { summary: string; verdict?: 'pass' | 'fail' }
interface DelegateArgs { agent: 'developer' | 'tester'; task: string }
interface AskArgs { question: string }

export async function runControlTool(ctx: RunContext, agent: AgentState, call: ToolCallRecord, args: unknown): Promise<void> {
  switch (call.name) {
    case 'finish':
      return finish(ctx, agent, call, args as FinishArgs);
    case 'delegate':
      ctx.recorder.record({ type: 'tool.started', agentId: agent.id, callId: call.id, name: call.name, args, readOnly: false });
      return delegate(ctx, agent, call, args as DelegateArgs, undefined);
    case 'ask_user':
      ctx.recorder.record({ type: 'tool.started', agentId: agent.id, callId: call.id, name: call.name, args, readOnly: true });
      return ask(ctx, agent, call, args as AskArgs);
  }
}

/** A control call that was started before a crash or pause. */
export async function resumeControlTool(ctx: RunContext, agent: AgentState, call: ToolCallRecord): Promise<void> {
  const started = agent.started.get(call.id)!;
  switch (started.name) {
    case 'finish':
      return finish(ctx, agent, call, started.args as FinishArgs);
    case 'delegate':
      return delegate(ctx, agent, call, started.args as DelegateArgs, childForPendingDelegate(ctx.state, agent));
    case 'ask_user': {
      const open = ctx.state.openQuestion;
      if (open && open.callId === call.id) throw new RunStop({ kind: 'waiting_user' });
      return ask(ctx, agent, call, started.args as AskArgs);
    }
  }
}

/** Why this agent may not finish yet, or undefined. */
function finishRefusal(ctx: RunContext, agent: AgentState, args: FinishArgs): string | undefined {
  if (agent.role === 'tester' && !args.verdict) {
    return 'The tester must finish with a verdict: call finish again with verdict "pass" or "fail".';
  }
  if (agent.role === 'orchestrator' && args.verdict !== 'fail' && ctx.state.config.requireTesterPass) {
    const { lastChangeSeq, lastTesterPassSeq } = ctx.state;
    if (lastChangeSeq > 0 && lastTesterPassSeq < lastChangeSeq) {
      return renderTemplate(gateTemplate, { testedBefore: lastTesterPassSeq > 0 });
    }
  }
  return undefined;
}

function finish(ctx: RunContext, agent: AgentState, call: ToolCallRecord, args: FinishArgs): void {
  if (!agent.started.has(call.id)) {
    ctx.recorder.record({ type: 'tool.started', agentId: agent.id, callId: call.id, name: 'finish', args, readOnly: true });
  }
  const refusal = finishRefusal(ctx, agent, args);
  if (refusal) return complete(ctx, agent, call, { output: refusal, isError: true, meta: { refused: true } }, 0);
  // The completed `finish` is the commit point (the fold marks the agent
  // finished from it); agent.finished follows for readers of the log.
  complete(ctx, agent, call, { output: 'Finished.', isError: false, meta: { verdict: args.verdict ?? null } }, 0);
  ctx.recorder.record({ type: 'agent.finished', agentId: agent.id, summary: args.summary, ...(args.verdict ? { verdict: args.verdict } : {}) });
}

async function delegate(ctx: RunContext, parent: AgentState, call: ToolCallRecord, args: DelegateArgs, existing: AgentState | undefined): Promise<void> {
  const child = existing ?? startChild(ctx, parent, call, args.agent, args.task);
  const t0 = ctx.deps.now();
  const result = await driveAgent(ctx, child);
  complete(
    ctx,
    parent,
    call,
    {
      output: renderTemplate(delegateResultTemplate, { agent: args.agent, summary: result.summary, verdict: result.verdict ?? '' }),
      isError: false,
      meta: { agent: args.agent, childAgentId: child.id, verdict: result.verdict ?? null },
    },
    ctx.deps.now() - t0,
  );
}

function startChild(ctx: RunContext, parent: AgentState, call: ToolCallRecord, role: Role, task: string): AgentState {
  const id = `${role}-${ctx.state.agents.size + 1}`;
  const model = ctx.state.config.roles[role];
  ctx.recorder.record({
    type: 'agent.started',
    agentId: id,
    role,
    parentAgentId: parent.id,
    parentCallId: call.id,
    task,
    model,
    system: systemPromptFor(role, { workspaceName: basename(ctx.state.workspace) || 'workspace', requireTesterPass: ctx.state.config.requireTesterPass }),
  });
  return ctx.state.agents.get(id)!;
}

function ask(ctx: RunContext, agent: AgentState, call: ToolCallRecord, args: AskArgs): never {
  ctx.recorder.record({ type: 'ask_user.asked', agentId: agent.id, callId: call.id, question: args.question });
  throw new RunStop({ kind: 'waiting_user' });
}
