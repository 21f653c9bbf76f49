/**
 * Collects `.crewbox/objects/` by itself, at most once per interval (default a
 * day): the CLI and the extension call `collectIfDue` when a sandbox session
 * closes, so a workspace's store does not grow without bound between manual
 * `crewbox sandbox gc` runs.
 *
 *   .crewbox/gc-state.json  {"v":1,"lastAt":<ms>,"report":{…}}
 *
 * Contract:
 * - Not due (collected within the interval, by any process): nothing is read
 *   beyond the state file.
 * - A run being driven (its lock held, by this process or another) makes it
 *   skip without recording anything, so the next close tries again. The
 *   collector's own grace period protects a run that starts meanwhile.
 * - The state is written before collecting, so two processes closing at once
 *   rarely both collect (and if they do, collecting is idempotent).
 * - A damaged or missing state file means "due".
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../../core/store/layout.ts';
import { activeRuns, collectGarbage, type GcOptions, type GcReport } from './gc.ts';
import { sandboxStorePaths } from './store-paths.ts';

export const DEFAULT_GC_INTERVAL_MS = 24 * 3600_000;

export interface ScheduleOptions extends GcOptions {
  intervalMs?: number;
}

export type ScheduledGc = { collected: false; reason: 'not_due' | 'runs_active' | 'no_store' } | { collected: true; report: GcReport };

export async function collectIfDue(workspace: string, opts: ScheduleOptions = {}): Promise<ScheduledGc> {
  const paths = sandboxStorePaths(workspace);
  if (!existsSync(paths.objects)) return { collected: false, reason: 'no_store' };
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? DEFAULT_GC_INTERVAL_MS;
  const last = await lastCollected(paths.gcState);
  if (last !== undefined && now() - last < interval) return { collected: false, reason: 'not_due' };
  if ((await activeRuns(workspace)).length > 0) return { collected: false, reason: 'runs_active' };
  await writeFileAtomic(paths.gcState, `${JSON.stringify({ v: 1, lastAt: now() })}\n`);
  const report = await collectGarbage(workspace, opts);
  await writeFileAtomic(paths.gcState, `${JSON.stringify({ v: 1, lastAt: now(), report })}\n`);
  return { collected: true, report };
}

async function lastCollected(file: string): Promise<number | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as { v?: unknown; lastAt?: unknown };
    return data.v === 1 && typeof data.lastAt === 'number' && Number.isFinite(data.lastAt) ? data.lastAt : undefined;
  } catch {
    return undefined;
  }
}
