/**
 * The run history's search. A query is words separated by spaces; a run
 * matches when it matches every word:
 * - `status:<s>` (running, waiting_user, interrupted, completed, failed,
 *   halted; prefixes work: `status:fail`),
 * - `verdict:pass` / `verdict:fail` / `verdict:none`,
 * - `is:fork`,
 * - any other word: found in the goal or the run id (case-insensitive).
 * Results are newest first. Pure.
 */
import type { RunSummary } from '../../../src/core/store/run-summary.ts';

type Test = (run: RunSummary) => boolean;

function wordTest(word: string): Test {
  const colon = word.indexOf(':');
  const key = colon > 0 ? word.slice(0, colon) : '';
  const value = colon > 0 ? word.slice(colon + 1) : '';
  if (key === 'status' && value !== '') return (r) => r.status.startsWith(value);
  if (key === 'verdict' && value !== '') return (r) => (r.verdict ?? 'none').startsWith(value);
  if (key === 'is' && value === 'fork') return (r) => r.forkOf !== undefined;
  return (r) => r.goal.toLowerCase().includes(word) || r.id.toLowerCase().includes(word);
}

export function filterRuns(runs: readonly RunSummary[], query: string): RunSummary[] {
  const tests = query.toLowerCase().split(/\s+/).filter((w) => w !== '').map(wordTest);
  return runs
    .filter((r) => tests.every((t) => t(r)))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

/** Wall time from the run's first to its last event (includes time it spent stopped). */
export function runDurationMs(run: RunSummary): number {
  const ms = Date.parse(run.updatedAt) - Date.parse(run.createdAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : 0;
}

/** Inserts or replaces runs by id. */
export function upsertRuns(runs: readonly RunSummary[], updates: readonly RunSummary[]): RunSummary[] {
  const byId = new Map(runs.map((r) => [r.id, r]));
  for (const u of updates) byId.set(u.id, u);
  return [...byId.values()];
}
