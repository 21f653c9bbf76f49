/**
 * Drives a run's agent tree to its next stopping point and writes the terminal
 * event once, here: finished, halted, failed, interrupted, or waiting for the
 * user. Infrastructure errors are typed and handled at this one boundary.
 */
import type { ErrorKind, HaltReason, RunStatus, Verdict } from '../events/schema.ts';
import { isModelError } from '../model/errors.ts';
import { driveAgent } from './agent-loop.ts';
import type { RunContext } from './run-context.ts';
import { RunStop } from './stop.ts';

export interface RunOutcome {
  runId: string;
  status: RunStatus;
  summary: string;
  verdict?: Verdict;
  haltReason?: HaltReason;
  error?: { kind: ErrorKind; message: string };
  question?: string;
}

/** Abort reason used when the wall-time budget runs out mid-tool. */
export const WALL_TIME_ABORT = Symbol('crewbox.wall-time');

export async function driveRun(ctx: RunContext): Promise<RunOutcome> {
  const runId = ctx.state.runId;
  const root = ctx.state.rootAgentId ? ctx.state.agents.get(ctx.state.rootAgentId) : undefined;
  if (!root) throw new Error(`Run ${runId} has no orchestrator agent.`);
  try {
    const result = await driveAgent(ctx, root);
    const status = result.verdict === 'fail' ? 'failed' : 'completed';
    const verdict = ctx.state.lastTesterVerdict;
    ctx.recorder.record({ type: 'run.finished', status, summary: result.summary, ...(verdict ? { verdict } : {}) });
    return { runId, status, summary: result.summary, ...(verdict ? { verdict } : {}) };
  } catch (e) {
    return stopped(ctx, e);
  }
}

function stopped(ctx: RunContext, e: unknown): RunOutcome {
  const runId = ctx.state.runId;
  let cause = e instanceof RunStop ? e.cause_ : undefined;
  if (cause?.kind === 'interrupted' && ctx.signal.reason === WALL_TIME_ABORT) {
    const limit = ctx.state.config.budgets.maxWallTimeMs;
    cause = { kind: 'halted', reason: 'max_wall_time', message: `Halted: the run reached its wall-time limit (${Math.round(limit / 1000)} s).` };
  }
  if (!cause) {
    const err = e instanceof Error ? e : new Error(String(e));
    cause = { kind: 'failed', error: err, message: err.message };
  }
  switch (cause.kind) {
    case 'waiting_user':
      return { runId, status: 'waiting_user', summary: '', question: ctx.state.openQuestion?.question ?? '' };
    case 'interrupted':
      ctx.recorder.record({ type: 'run.interrupted', reason: cause.reason });
      return { runId, status: 'interrupted', summary: `Interrupted: ${cause.reason}` };
    case 'halted':
      ctx.recorder.record({ type: 'run.finished', status: 'halted', summary: cause.message, haltReason: cause.reason });
      return { runId, status: 'halted', summary: cause.message, haltReason: cause.reason };
    case 'failed': {
      const kind: ErrorKind = cause.errorKind ?? (isModelError(cause.error) ? cause.error.kind : 'internal');
      const retryable = isModelError(cause.error) ? cause.error.retryable : false;
      try {
        ctx.recorder.record({ type: 'error', kind, message: cause.message, retryable });
        ctx.recorder.record({ type: 'run.finished', status: 'failed', summary: cause.message });
      } catch {
        // The log itself failed (disk full, removed): the outcome still says why.
      }
      return { runId, status: 'failed', summary: cause.message, error: { kind, message: cause.message } };
    }
  }
}
