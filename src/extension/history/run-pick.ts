/** How a run reads in a quick pick (Open Trace without a run in the chat). Knows nothing of `vscode`. */
import type { RunSummary } from '../../core/store/run-summary.ts';

export interface RunPickItem {
  label: string;
  description: string;
  detail: string;
  runId: string;
}

const MAX_GOAL = 120;

export function runPickItem(r: RunSummary): RunPickItem {
  const goal = r.goal.replace(/\s+/g, ' ').trim();
  return {
    label: goal.length > MAX_GOAL ? `${goal.slice(0, MAX_GOAL - 1)}…` : goal || r.id,
    description: `${r.status.replace('_', ' ')}${r.verdict ? ` · tester ${r.verdict}` : ''}`,
    detail: `${r.id} · ${r.createdAt.slice(0, 16).replace('T', ' ')} · ${r.tokens} tokens · $${r.costUsd.toFixed(4)}`,
    runId: r.id,
  };
}
