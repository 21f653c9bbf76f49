/**
 * Runs the next pending tool call of an agent's last turn, with the resume
 * rules: a call with a durable `tool.started` but no result was cut off by a
 * crash; it is re-run only if read-only, otherwise the model is told its
 * outcome is unknown. A delegation resumes its child where the child stopped.
 */
import type { ToolCallRecord } from '../events/schema.ts';
import { SandboxToolError } from '../sandbox/port.ts';
import type { PreparedCall, ToolOutcome } from './deps.ts';
import type { AgentState } from './fold.ts';
import type { RunContext } from './run-context.ts';
import { RunStop } from './stop.ts';
import { runControlTool, isControlTool, resumeControlTool } from './control-tools.ts';
import { judgeRepeat, loopSignature } from './loop-detector.ts';
import { renderTemplate } from '../prompts/render.ts';
import unknownOutcomeTemplate from './prompts/unknown-outcome.njk';
import loopWarningTemplate from './prompts/loop-warning.njk';

const INTERRUPTED_BEFORE_START = 'Not run: the user interrupted the run before this call started.';

export async function runPendingCall(ctx: RunContext, agent: AgentState, call: ToolCallRecord): Promise<void> {
  const started = agent.started.get(call.id);
  if (started) {
    if (isControlTool(started.name)) return resumeControlTool(ctx, agent, call);
    if (!started.readOnly) {
      const recovered = await recoverCall(ctx, agent, call, started.args);
      if (recovered) return complete(ctx, agent, call, await withCheckpoint(ctx, recovered), 0);
      ctx.recorder.record({
        type: 'tool.completed',
        agentId: agent.id,
        callId: call.id,
        name: started.name,
        isError: true,
        output: renderTemplate(unknownOutcomeTemplate, { tool: started.name }),
        durationMs: 0,
        meta: { outcome: 'unknown' },
      });
      return;
    }
    // Read-only: running it again is harmless, and its result is needed.
    const again = ctx.deps.tools.prepare(agent.role, { ...call, argsText: JSON.stringify(started.args) });
    if (!again.ok) return complete(ctx, agent, call, { output: again.error, isError: true, meta: { invalid: true } }, 0);
    return executeTool(ctx, agent, call, again, { alreadyStarted: true });
  }

  if (ctx.signal.aborted) {
    complete(ctx, agent, call, { output: INTERRUPTED_BEFORE_START, isError: true, meta: { interrupted: true } }, 0);
    throw new RunStop({ kind: 'interrupted', reason: String(ctx.signal.reason ?? 'interrupted') });
  }

  const prepared = ctx.deps.tools.prepare(agent.role, call);
  if (!prepared.ok) {
    // The model can fix this: record the attempt and answer with what to fix.
    ctx.recorder.record({ type: 'tool.started', agentId: agent.id, callId: call.id, name: call.name, args: call.argsText, readOnly: true });
    complete(ctx, agent, call, { output: prepared.error, isError: true, meta: { invalid: true } }, 0);
    return;
  }
  if (isControlTool(call.name)) return runControlTool(ctx, agent, call, prepared.args);
  return executeTool(ctx, agent, call, prepared, { alreadyStarted: false });
}

async function executeTool(
  ctx: RunContext,
  agent: AgentState,
  call: ToolCallRecord,
  prepared: Extract<PreparedCall, { ok: true }>,
  opts: { alreadyStarted: boolean },
): Promise<void> {
  const { tool, args } = prepared;
  if (!tool.execute) throw new Error(`${tool.name} has no executor`);
  if (!opts.alreadyStarted) {
    ctx.recorder.record({ type: 'tool.started', agentId: agent.id, callId: call.id, name: tool.name, args, readOnly: tool.readOnly });
  }
  const t0 = ctx.deps.now();
  let outcome: ToolOutcome;
  try {
    outcome = await tool.execute(args as never, {
      sandbox: ctx.deps.sandbox,
      signal: ctx.signal,
      callId: sandboxCallKey(ctx, agent, call),
      onOutput: (stream, chunk) => ctx.recorder.emit({ type: 'tool.output', agentId: agent.id, callId: call.id, stream, chunk }),
    });
  } catch (e) {
    if (e instanceof SandboxToolError) {
      outcome = { output: e.message, isError: true, meta: { code: e.code } };
    } else if (ctx.signal.aborted) {
      outcome = { output: 'Interrupted by the user while running.', isError: true, meta: { interrupted: true } };
    } else {
      // Infrastructure (container gone, Docker down): the call stays
      // started-but-not-completed, and resume applies the rules above.
      throw new RunStop({ kind: 'failed', errorKind: 'sandbox', error: e instanceof Error ? e : new Error(String(e)), message: `The sandbox failed while running ${tool.name}: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  if (!tool.readOnly) outcome = await withCheckpoint(ctx, outcome);
  const durationMs = ctx.deps.now() - t0;
  const count = (ctx.state.loopCounts.get(loopSignature(tool.name, args, outcome.output)) ?? 0) + 1;
  const repeat = judgeRepeat(count);
  const note = repeat.kind === 'ok' ? undefined : renderTemplate(loopWarningTemplate, { tool: tool.name, count, halt: repeat.kind === 'halt' });
  complete(ctx, agent, call, outcome, durationMs, note);
  if (repeat.kind !== 'ok') ctx.recorder.record({ type: 'loop.warning', agentId: agent.id, signature: `${tool.name} ${JSON.stringify(args)}`.slice(0, 300), count });
  if (repeat.kind === 'halt') {
    throw new RunStop({ kind: 'halted', reason: 'loop', message: `Halted: ${tool.name} was called ${count} times with the same arguments and the same result.` });
  }
  if (ctx.signal.aborted) throw new RunStop({ kind: 'interrupted', reason: String(ctx.signal.reason ?? 'interrupted') });
}

export function complete(ctx: RunContext, agent: AgentState, call: ToolCallRecord, outcome: ToolOutcome, durationMs: number, note?: string): void {
  ctx.recorder.record({
    type: 'tool.completed',
    agentId: agent.id,
    callId: call.id,
    name: call.name,
    isError: outcome.isError,
    output: outcome.output,
    durationMs,
    ...(outcome.meta ? { meta: outcome.meta } : {}),
    ...(note ? { modelNote: note } : {}),
  });
}

/** Bounds the checkpoint after an interrupted command, which must still run. */
const CHECKPOINT_TIMEOUT_MS = 120_000;
const MAX_CHANGED_PATHS_IN_META = 50;

/**
 * Records what the tool changed in the workspace as part of the current step,
 * before its result is recorded (so a crash in between leaves the call
 * unfinished, and resume treats it by the rules above). It runs even when the
 * run was just interrupted: a killed command may have changed files.
 */
async function withCheckpoint(ctx: RunContext, outcome: ToolOutcome): Promise<ToolOutcome> {
  const runFiles = ctx.deps.runFiles;
  if (!runFiles) return outcome;
  try {
    const cp = await runFiles.checkpoint(ctx.state.runId, ctx.state.step, AbortSignal.timeout(CHECKPOINT_TIMEOUT_MS));
    return { ...outcome, meta: { ...outcome.meta, filesChanged: cp.filesChanged, changedPaths: cp.paths.slice(0, MAX_CHANGED_PATHS_IN_META) } };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    throw new RunStop({ kind: 'failed', errorKind: 'sandbox', error: err, message: `Could not checkpoint the workspace: ${err.message}` });
  }
}

/**
 * The key under which the sandbox journals a call. Model call ids are not
 * unique across agents (and some servers reuse "call_0" every turn), so the
 * key adds the run, the agent and the agent's turn: unique within the run,
 * and the same again when a resumed run re-sends the call.
 */
export function sandboxCallKey(ctx: RunContext, agent: AgentState, call: ToolCallRecord): string {
  return `${ctx.state.runId}/${agent.id}/t${agent.steps}/${call.id}`;
}

/**
 * A side-effecting call cut off by the host's crash: ask the tool whether the
 * sandbox knows its outcome (run_command: the container's journal). Anything
 * short of a definite answer (no record, no recover step, an error) means the
 * outcome is unknown; the call is never run again.
 */
async function recoverCall(ctx: RunContext, agent: AgentState, call: ToolCallRecord, args: unknown): Promise<ToolOutcome | undefined> {
  const prepared = ctx.deps.tools.prepare(agent.role, { ...call, argsText: JSON.stringify(args) });
  if (!prepared.ok || !prepared.tool.recover) return undefined;
  try {
    return await prepared.tool.recover(prepared.args as never, {
      sandbox: ctx.deps.sandbox,
      signal: ctx.signal,
      callId: sandboxCallKey(ctx, agent, call),
      onOutput: (stream, chunk) => ctx.recorder.emit({ type: 'tool.output', agentId: agent.id, callId: call.id, stream, chunk }),
    });
  } catch (e) {
    ctx.deps.logger.warn('could not recover a call cut off by a crash', { callId: call.id, error: e instanceof Error ? e.message : String(e) });
    return undefined;
  }
}
