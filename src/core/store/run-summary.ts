/**
 * A run's one-line summary, as the run index keeps it: a pure fold over the
 * run's events, so the index can always be rebuilt from the logs.
 */
import { z } from 'zod';
import { RunStatus, Verdict } from '../events/schema.ts';
import type { RunEvent } from '../events/schema.ts';
import { StoreError } from './errors.ts';

export const RunSummary = z.object({
  id: z.string(),
  goal: z.string(),
  status: RunStatus,
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Input + output + cache read + cache write tokens over all model calls (turns and compactions). */
  tokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  verdict: Verdict.optional(),
  forkOf: z.object({ runId: z.string(), step: z.number().int().nonnegative() }).optional(),
  /** The highest step reached (step N begins with the run's N-th model turn). */
  steps: z.number().int().nonnegative(),
  /** The user discarded the run's proposed changes (`run.discarded`); absent otherwise. */
  discarded: z.literal(true).optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

/**
 * Status: the last of `run.finished` / `run.interrupted` / `run.resumed`
 * decides (a run resumed after finishing runs again):
 * - `run.finished` gives its status (completed / failed / halted);
 * - `run.interrupted` gives interrupted;
 * - otherwise the run is running, or waiting_user while an `ask_user.asked`
 *   has no `ask_user.answered`;
 * - a log whose process died without a `run.finished` still reads 'running':
 *   only the run lock (locks.ts) can tell a live run from a dead one.
 *
 * The verdict is the one the run finished with, else the latest agent
 * verdict so far. `discarded` is set once a `run.discarded` is in the log
 * (final: a later resume does not bring the proposed changes back).
 * Throws StoreError `empty_run` for an empty log.
 */
export function summarizeRun(events: readonly RunEvent[]): RunSummary {
  const first = events[0];
  const last = events.at(-1);
  if (!first || !last) throw new StoreError('empty_run', 'A run log without events cannot be summarised.');

  let goal = '';
  let createdAt = first.ts;
  let forkOf: RunSummary['forkOf'];
  let finished: RunSummary['status'] | undefined;
  let interrupted = false;
  let runVerdict: RunSummary['verdict'];
  let agentVerdict: RunSummary['verdict'];
  let tokens = 0;
  let costUsd = 0;
  let steps = 0;
  let discarded = false;
  const pendingQuestions = new Set<string>();

  for (const event of events) {
    steps = Math.max(steps, event.step);
    switch (event.type) {
      case 'run.started':
        goal = event.goal;
        createdAt = event.ts;
        forkOf = event.forkOf;
        break;
      case 'run.interrupted':
        interrupted = true;
        finished = undefined;
        break;
      case 'run.resumed':
        interrupted = false;
        finished = undefined;
        runVerdict = undefined;
        break;
      case 'run.finished':
        interrupted = false;
        finished = event.status;
        runVerdict = event.verdict;
        break;
      case 'agent.finished':
        if (event.verdict) agentVerdict = event.verdict;
        break;
      case 'model.turn':
      case 'context.compacted': {
        // Compaction's own summarising call counts too.
        const u = event.usage;
        if (u) tokens += u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
        costUsd += event.costUsd ?? 0;
        break;
      }
      case 'run.discarded':
        discarded = true;
        break;
      case 'ask_user.asked':
        pendingQuestions.add(event.callId);
        break;
      case 'ask_user.answered':
        pendingQuestions.delete(event.callId);
        break;
      default:
        break;
    }
  }

  const status: RunSummary['status'] =
    finished ?? (interrupted ? 'interrupted' : pendingQuestions.size > 0 ? 'waiting_user' : 'running');
  const verdict = runVerdict ?? agentVerdict;
  return {
    id: first.runId,
    goal,
    status,
    createdAt,
    updatedAt: last.ts,
    tokens,
    costUsd,
    ...(verdict ? { verdict } : {}),
    ...(forkOf ? { forkOf } : {}),
    steps,
    ...(discarded ? { discarded: true as const } : {}),
  };
}
