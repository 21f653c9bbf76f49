/**
 * What the run history needs from `.crewbox/` beyond the RunController's
 * listing and log reading: summaries folded from logs, run locks, the OTLP
 * export and rollback forks. Knows nothing of `vscode`; the heavy modules
 * load on first use (loadHeavy).
 *
 * Contract:
 * - `otlpJson` is exactly what `crewbox trace RUN_ID --otlp` prints for the
 *   same log (same function, same options).
 * - `fork` does what `crewbox rollback RUN_ID --to STEP` does (the log's
 *   prefix through `step` and the file checkpoints up to it; the original is
 *   untouched), and also records the fork in the run index so the history
 *   lists it before its first drive (the runtime indexes a run only when a
 *   drive closes). A failed index write is logged, not thrown: the fork exists.
 * - Failures are the stores' typed errors (failures.ts turns them into replies).
 */
import type { RunEvent } from '../../core/events/schema.ts';
import type { Logger } from '../../core/log/logger.ts';
import type { RunSummary } from '../../core/store/run-summary.ts';
import { loadHeavy } from '../load-heavy.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface HistoryStore {
  isRunLocked(runId: string): Promise<boolean>;
  /** Throws StoreError `empty_run` for an empty log. */
  summarize(events: readonly RunEvent[]): Promise<RunSummary>;
  otlpJson(events: readonly RunEvent[]): Promise<string>;
  /** Returns the new run's id. */
  fork(runId: string, step: number): Promise<string>;
}

/** The service name the CLI exports with (src/cli/commands/trace.ts). */
const OTLP_SERVICE_NAME = 'crewbox';

export function createHistoryStore(workspace: string, env: Env, logger: Logger): HistoryStore {
  return {
    isRunLocked: async (runId) => (await loadHeavy()).isRunLocked(workspace, runId),
    summarize: async (events) => (await loadHeavy()).summarizeRun(events),
    otlpJson: async (events) => JSON.stringify((await loadHeavy()).toOtlpJson(events, { serviceName: OTLP_SERVICE_NAME })),
    fork: async (runId, step) => {
      const { createRuntime, UnavailableSandbox, CheckpointStore, readRunLog, crewboxPaths, summarizeRun, RunIndex } = await loadHeavy();
      // Forking reads and writes only .crewbox/; no container is needed.
      const forkId = await createRuntime({ workspace, sandbox: new UnavailableSandbox(), env, logger }).fork(runId, step);
      const checkpoints = new CheckpointStore(workspace);
      if (await checkpoints.hasRun(runId)) await checkpoints.forkCheckpoints(runId, step, forkId);
      try {
        const { events } = await readRunLog(crewboxPaths(workspace).runEvents(forkId));
        if (events.length > 0) await (await RunIndex.open(workspace)).upsert(summarizeRun(events));
      } catch (e) {
        logger.warn('the fork was created but not added to the run index', { runId: forkId, error: e });
      }
      return forkId;
    },
  };
}
