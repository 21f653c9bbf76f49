/**
 * Which runs the chat offers for resuming after a reload or a crash: the
 * run index's view, corrected by the run lock (a log that still says
 * "running" while no process holds its lock was cut off).
 */
import type { RunSummary } from '../core/store/run-summary.ts';

export type IsLocked = (runId: string) => Promise<boolean>;

/**
 * Runs that stopped without finishing: interrupted, waiting for the user, or
 * "running" but unlocked. `exclude` is the run this window drives right now.
 * Keeps the index's order (newest first).
 */
export async function selectResumable(runs: readonly RunSummary[], isLocked: IsLocked, exclude?: string): Promise<RunSummary[]> {
  const picked = await Promise.all(
    runs.map(async (run): Promise<RunSummary | undefined> => {
      if (run.id === exclude) return undefined;
      if (run.status === 'interrupted' || run.status === 'waiting_user') return run;
      if (run.status === 'running' && !(await isLocked(run.id))) return { ...run, status: 'interrupted' };
      return undefined;
    }),
  );
  return picked.filter((r): r is RunSummary => r !== undefined);
}
