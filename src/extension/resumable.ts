/**
 * Which runs the chat offers for resuming after a reload or a crash: the
 * run index's view, corrected by the run lock (a log that still says
 * "running" while no process holds its lock was cut off).
 */
import type { RunSummary } from '../core/store/run-summary.ts';
import { withLiveStatus, type IsRunLocked } from '../core/store/run-liveness.ts';

export type IsLocked = IsRunLocked;

/**
 * Runs that stopped without finishing: interrupted, waiting for the user, or
 * "running" but unlocked. `exclude` is the run this window drives right now.
 * Keeps the index's order (newest first).
 */
export async function selectResumable(runs: readonly RunSummary[], isLocked: IsLocked, exclude?: string): Promise<RunSummary[]> {
  const live = await withLiveStatus(runs.filter((r) => r.id !== exclude), isLocked);
  return live.filter((r) => r.status === 'interrupted' || r.status === 'waiting_user');
}
