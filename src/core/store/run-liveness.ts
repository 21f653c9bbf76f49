/**
 * The run index as readers should see it: a log that still says "running"
 * while no process holds the run's lock was cut off (crash, kill, reload),
 * so it reads as interrupted. Shared by the CLI and the extension.
 */
import type { RunSummary } from './run-summary.ts';

export type IsRunLocked = (runId: string) => Promise<boolean>;

export function withLiveStatus(runs: readonly RunSummary[], isLocked: IsRunLocked): Promise<RunSummary[]> {
  return Promise.all(
    runs.map(async (run) => (run.status === 'running' && !(await isLocked(run.id)) ? { ...run, status: 'interrupted' as const } : run)),
  );
}
