/**
 * Blob collection for `.crewbox/objects/` (mark and sweep): deletes blobs,
 * packs and snapshots that no record of any run refers to.
 *
 * Roots (marked): the snapshot of every run's base.json, every path of every
 * run's checkpoints.jsonl, the host index (the next run's snapshot reuses its
 * hashes without storing them again), and every snapshot written within the
 * grace period (a run being created writes its snapshot before its base).
 *
 * Contract (safe against runs in other processes):
 * - Nothing younger than `graceMs` (default 1 h) is deleted, referenced or
 *   not: a run writes blobs before the records that name them, and a put
 *   that finds a blob already stored freshens it (BlobStore.freshen), so a
 *   blob about to be named again is young. Each candidate's age is checked
 *   again just before it is deleted (as in git, a blob freshened between
 *   that check and the unlink is still lost: a window of microseconds, only
 *   for content no record names that a run stores again at that moment).
 * - A pack goes only when none of its blobs is marked (packs are not
 *   rewritten); its index first, so readers never see an index without its
 *   pack. A pack left without an index (a crash mid-write) and temp files
 *   go once they are older than the grace period.
 * - A run whose records cannot be read stops the collection (its blobs might
 *   be needed): nothing is deleted, and the error says which run.
 * - The caller should not collect while a run is driven (runs/<id>/run.lock
 *   held); `activeRuns` finds those. The grace period is what protects a run
 *   that starts meanwhile.
 */
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { assertRunId, crewboxPaths } from '../../core/store/layout.ts';
import { isRunLocked } from '../../core/store/locks.ts';
import { CheckpointStore } from './checkpoints.ts';
import { listPacks } from './packs.ts';
import { isHash, sandboxStorePaths } from './store-paths.ts';

export const DEFAULT_GC_GRACE_MS = 3600_000;

export interface GcOptions {
  graceMs?: number;
  /** Report what would go without deleting anything. */
  dryRun?: boolean;
  now?: () => number;
}

export interface GcReport {
  looseDeleted: number;
  packsDeleted: number;
  snapshotsDeleted: number;
  tempsDeleted: number;
  bytesFreed: number;
  /** Blobs still stored (loose and packed) after the collection. */
  blobsKept: number;
}

/** Runs of the workspace a live process is driving (collect after they stop). */
export async function activeRuns(workspace: string): Promise<string[]> {
  const out: string[] = [];
  for (const runId of runIds(workspace)) if (await isRunLocked(workspace, runId)) out.push(runId);
  return out;
}

export async function collectGarbage(workspace: string, opts: GcOptions = {}): Promise<GcReport> {
  const paths = sandboxStorePaths(workspace);
  const graceMs = opts.graceMs ?? DEFAULT_GC_GRACE_MS;
  const now = opts.now ?? Date.now;
  const cutoff = now() - graceMs;
  const isOld = (file: string): { old: boolean; size: number } => {
    const st = statSync(file, { throwIfNoEntry: false });
    return st === undefined ? { old: false, size: 0 } : { old: st.mtimeMs < cutoff, size: st.size };
  };
  const report: GcReport = { looseDeleted: 0, packsDeleted: 0, snapshotsDeleted: 0, tempsDeleted: 0, bytesFreed: 0, blobsKept: 0 };
  const remove = (file: string): boolean => {
    const { old, size } = isOld(file);
    if (!old) return false;
    if (!opts.dryRun) {
      try {
        unlinkSync(file);
      } catch {
        return false; // gone meanwhile
      }
    }
    report.bytesFreed += size;
    return true;
  };

  // Mark.
  const store = new CheckpointStore(workspace);
  const marked = new Set<string>();
  const liveSnapshots = new Set<string>();
  for (const runId of runIds(workspace)) {
    if (!(await store.hasRun(runId))) continue; // a core-only run, or one being created (its snapshot is young)
    const base = await store.readBase(runId);
    liveSnapshots.add(base.snapshot);
    for (const delta of await store.readDeltas(runId)) {
      for (const c of delta.changes) if (!('deleted' in c) && c.entry.kind === 'file') marked.add(c.entry.hash);
    }
  }
  const snapshotFiles = safeReaddir(paths.snapshots).filter((n) => n.endsWith('.json') && isHash(n.slice(0, -5)));
  for (const name of snapshotFiles) {
    const hash = name.slice(0, -5);
    if (!liveSnapshots.has(hash) && isOld(path.join(paths.snapshots, name)).old) continue;
    for (const entry of (await store.readSnapshot(hash)).values()) if (entry.kind === 'file') marked.add(entry.hash);
  }
  for (const hash of hostIndexHashes(paths.hostIndex)) marked.add(hash);

  // Sweep: snapshots, packs, loose blobs, temp files.
  for (const name of snapshotFiles) {
    if (!liveSnapshots.has(name.slice(0, -5)) && remove(path.join(paths.snapshots, name))) report.snapshotsDeleted++;
  }
  const packDir = path.join(paths.objects, 'pack');
  const indexed = new Set<string>();
  for (const pack of listPacks(packDir)) {
    indexed.add(path.basename(pack.pack));
    if (pack.hashes.some((h) => marked.has(h)) || !isOld(pack.pack).old || !isOld(pack.index).old) {
      report.blobsKept += pack.hashes.length;
      continue;
    }
    if (remove(pack.index)) {
      remove(pack.pack);
      report.packsDeleted++;
    }
  }
  for (const name of safeReaddir(packDir)) {
    const leftover = name.endsWith('.tmp') || (name.endsWith('.pack') && !indexed.has(name));
    if (leftover && remove(path.join(packDir, name))) report.tempsDeleted++;
  }
  for (const fan of safeReaddir(paths.objects)) {
    if (!/^[0-9a-f]{2}$/.test(fan)) continue;
    const dir = path.join(paths.objects, fan);
    for (const name of safeReaddir(dir)) {
      const file = path.join(dir, name);
      if (name.endsWith('.tmp')) {
        if (remove(file)) report.tempsDeleted++;
        continue;
      }
      const hash = fan + name;
      if (!isHash(hash)) continue;
      if (marked.has(hash) || !remove(file)) report.blobsKept++;
      else report.looseDeleted++;
    }
  }
  return report;
}

/** Directory names under runs/ that are valid run ids. */
function runIds(workspace: string): string[] {
  return safeReaddir(crewboxPaths(workspace).runsDir).filter((name) => {
    try {
      assertRunId(name);
      return true;
    } catch {
      return false;
    }
  });
}

/** Hashes the host index vouches for (a damaged index names none: it is only a cache). */
function hostIndexHashes(file: string): string[] {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { entries?: Record<string, unknown> };
    const out: string[] = [];
    for (const value of Object.values(data.entries ?? {})) {
      const hash = Array.isArray(value) ? value[4] : undefined;
      if (typeof hash === 'string' && isHash(hash)) out.push(hash);
    }
    return out;
  } catch {
    return [];
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
