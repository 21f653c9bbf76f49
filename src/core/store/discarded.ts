/**
 * Whether a run's proposed changes were discarded (its log holds a
 * `run.discarded`). A discarded run is neither applied nor continued; a run
 * without a log is not discarded.
 */
import { readRunLog } from './event-log.ts';
import { crewboxPaths } from './layout.ts';

export async function isDiscarded(workspace: string, runId: string): Promise<boolean> {
  try {
    const { events } = await readRunLog(crewboxPaths(workspace).runEvents(runId));
    return events.some((e) => e.type === 'run.discarded');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'not_found') return false;
    throw e;
  }
}
