/** Keeps the run index (the small lowdb file) in step with a run's state. */
import { RunIndex } from '../store/run-index.ts';
import type { RunState } from './fold.ts';
import { totalTokens } from './fold.ts';

export async function updateRunIndex(workspace: string, s: RunState): Promise<void> {
  const index = await RunIndex.open(workspace);
  await index.upsert({
    id: s.runId,
    goal: s.goal,
    status: s.status,
    createdAt: s.createdAt,
    updatedAt: new Date(s.lastEventMs || Date.now()).toISOString(),
    tokens: totalTokens(s.usage),
    costUsd: s.costUsd,
    steps: s.step,
    ...(s.lastTesterVerdict ? { verdict: s.lastTesterVerdict } : {}),
    ...(s.forkOf ? { forkOf: s.forkOf } : {}),
  });
}
