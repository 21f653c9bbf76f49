/**
 * Opening a run for driving: the run lock, the recovered log, the folded state,
 * the recorder and the run's AbortController. Closing releases all of them and
 * refreshes the run index.
 */
import { writeFileSync, openSync, fsyncSync, closeSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../events/schema.ts';
import { EventLog } from '../store/event-log.ts';
import { ensureCrewboxDir, crewboxPaths, syncDirSync } from '../store/layout.ts';
import { acquireRunLock } from '../store/locks.ts';
import { StoreError } from '../store/errors.ts';
import type { RuntimeDeps } from './deps.ts';
import { foldRun, type RunState } from './fold.ts';
import { RunRecorder, type RunListener } from './recorder.ts';
import type { RunContext } from './run-context.ts';
import { updateRunIndex } from './index-sync.ts';

export interface RunSession {
  state: RunState;
  recorder: RunRecorder;
  controller: AbortController;
  ctx: RunContext;
  close(): Promise<void>;
}

export async function openRunSession(deps: RuntimeDeps, runId: string, onEvent?: RunListener): Promise<RunSession> {
  const { paths } = await ensureCrewboxDir(deps.workspace);
  const controller = new AbortController();
  const release = await acquireRunLock(deps.workspace, runId, {
    // Another process took the run over: stop driving it at once.
    onCompromised: (err) => controller.abort(err.message),
  });
  try {
    const { log, events, recovery } = await EventLog.open(paths.runEvents(runId), runId, { now: () => new Date(deps.now()) });
    const state = foldRun(events);
    state.runId = runId;
    const recorder = new RunRecorder(log, state, (v) => deps.redact(v), deps.now);
    if (onEvent) recorder.subscribe(onEvent);
    if (recovery) {
      deps.logger.warn('run log recovered', { runId, summary: recovery.summary });
      if (state.lastSeq > 0) recorder.record({ type: 'error', kind: 'internal', message: recovery.summary, retryable: false });
    }
    const ctx: RunContext = { deps, models: deps.modelsForRun(), recorder, state, signal: controller.signal };
    let closed = false;
    return {
      state,
      recorder,
      controller,
      ctx,
      async close() {
        if (closed) return;
        closed = true;
        log.close();
        try {
          if (state.lastSeq > 0) await updateRunIndex(deps.workspace, state);
        } catch (e) {
          deps.logger.warn('run index update failed', { runId, error: e instanceof Error ? e.message : String(e) });
        } finally {
          await release();
        }
      },
    };
  } catch (e) {
    await release();
    throw e;
  }
}

/**
 * Writes a rollback fork's log: the original's prefix with the new run id, and
 * `forkOf` on its run.started. Timestamps and seq numbers are kept, so wall
 * time and traces of the shared prefix read as they happened.
 */
export async function writeForkLog(deps: RuntimeDeps, forkId: string, prefix: RunEvent[], forkOf: { runId: string; step: number }): Promise<void> {
  await ensureCrewboxDir(deps.workspace);
  const file = crewboxPaths(deps.workspace).runEvents(forkId);
  mkdirSync(path.dirname(file), { recursive: true });
  const lines = prefix.map((e) => JSON.stringify(e.type === 'run.started' ? { ...e, runId: forkId, forkOf } : { ...e, runId: forkId }));
  const fd = openSync(file, 'wx');
  try {
    writeFileSync(fd, lines.length ? `${lines.join('\n')}\n` : '');
    fsyncSync(fd);
  } catch (e) {
    throw new StoreError('write_failed', `Could not write the fork's log ${file}: ${e instanceof Error ? e.message : String(e)}`, { path: file });
  } finally {
    closeSync(fd);
  }
  syncDirSync(path.dirname(file));
}

