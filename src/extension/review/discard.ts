/**
 * Discard Run: records in the run's own append-only log that its proposed
 * changes were discarded (`run.discarded`), then refreshes its index entry.
 * No `vscode`; part of the heavy bundle (reached through heavy.ts).
 *
 * Contract:
 * - Appends under the run lock, as a driving process does, so it never
 *   interleaves with a drive in another window or the CLI: a run driven
 *   elsewhere fails with StoreError `run_locked`.
 * - The run must exist (StoreError `not_found` otherwise); its log is never
 *   created here. Discarding twice appends once.
 * - Nothing in the workspace changes: proposed changes only ever reach it
 *   through apply.
 */
import { EventLog, readRunLog } from '../../core/store/event-log.ts';
import { crewboxPaths } from '../../core/store/layout.ts';
import { acquireRunLock } from '../../core/store/locks.ts';
import { RunIndex } from '../../core/store/run-index.ts';
import { summarizeRun, type RunSummary } from '../../core/store/run-summary.ts';

export async function discardRun(workspace: string, runId: string): Promise<RunSummary> {
  const file = crewboxPaths(workspace).runEvents(runId);
  await readRunLog(file); // throws not_found for an unknown run, before anything is created
  const release = await acquireRunLock(workspace, runId);
  try {
    const { log, events } = await EventLog.open(file, runId);
    try {
      if (!events.some((e) => e.type === 'run.discarded')) events.push(log.append({ type: 'run.discarded', step: log.lastStep }));
    } finally {
      log.close();
    }
    const summary = summarizeRun(events);
    await (await RunIndex.open(workspace)).upsert(summary);
    return summary;
  } finally {
    await release();
  }
}
