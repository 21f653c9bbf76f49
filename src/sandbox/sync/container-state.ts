/**
 * What the container's /workspace is believed to hold, kept on the host so
 * the next open can send a delta instead of the whole tree.
 *
 *   .crewbox/sandbox-state.json  {"v":1,"holds":{"run":"<id>"}|null}
 *   .crewbox/sandbox-dirty.json  {"v":1,"run":"<id>","afterSeq":K,"paths":[…],"overflow":false}
 *   .crewbox/sandbox-stats.json  {"v":1,"entries":{"<path>":[size,mtimeMs,"<hash prefix>"]}}
 *
 * Contract:
 * - `holds: {run}` means: that run's files as of its last checkpoint, plus
 *   whatever changed since its last drain (the container tracks those).
 *   `null` means unknown (written before the container is changed, so a
 *   crash mid-restore leads to a full rebuild, never to a wrong delta).
 *   A belief is always verified against a listing before a delta is sent.
 * - The dirty record closes the window between draining a change list and
 *   appending its delta: written (without fsync: it only has to survive the
 *   process, not the machine) before the change is read, and stale once the
 *   run's log has a delta with seq > afterSeq.
 * - Stat records let the next process compare a listing with its belief
 *   without reading content. Each carries a prefix of the content hash it
 *   was taken for, so a record is only used for a path whose believed
 *   content is still that one (paths a run changed since are re-read).
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { sha256, type Manifest, type ManifestEntry } from '../store/manifest.ts';
import { writeFileAtomic } from '../../core/store/layout.ts';
import { isWorkspacePath, type SandboxStorePaths } from '../store/store-paths.ts';
import type { StatRecord, TrackedTree } from './tracked-tree.ts';

export interface HeldState {
  run: string;
}

export interface DirtyRecord {
  run: string;
  afterSeq: number;
  paths: string[];
  overflow: boolean;
}

export async function readHeldState(paths: SandboxStorePaths): Promise<HeldState | null> {
  const data = await readJson(paths.sandboxState);
  const holds = (data as { v?: unknown; holds?: unknown } | undefined)?.holds;
  if (typeof holds !== 'object' || holds === null) return null;
  const run = (holds as { run?: unknown }).run;
  return typeof run === 'string' && run !== '' ? { run } : null;
}

export async function writeHeldState(paths: SandboxStorePaths, holds: HeldState | null): Promise<void> {
  await writeFileAtomic(paths.sandboxState, `${JSON.stringify({ v: 1, holds })}\n`);
}

export async function writeDirty(paths: SandboxStorePaths, record: DirtyRecord): Promise<void> {
  await writeFile(paths.sandboxDirty, JSON.stringify({ v: 1, ...record }));
}

export async function readDirty(paths: SandboxStorePaths): Promise<DirtyRecord | undefined> {
  const r = (await readJson(paths.sandboxDirty)) as Partial<DirtyRecord> | undefined;
  if (!r || typeof r.run !== 'string' || !Number.isSafeInteger(r.afterSeq) || !Array.isArray(r.paths)) return undefined;
  return { run: r.run, afterSeq: r.afterSeq as number, paths: r.paths.filter((p): p is string => typeof p === 'string' && isWorkspacePath(p)), overflow: r.overflow === true };
}

export async function clearDirty(paths: SandboxStorePaths): Promise<void> {
  await unlink(paths.sandboxDirty).catch(() => undefined);
}

const HASH_PREFIX = 16;

/** Saves the tree's stat records (a cache: written without fsync; losing it costs re-reading). */
export async function writeContainerStats(paths: SandboxStorePaths, tree: TrackedTree): Promise<void> {
  const entries: Record<string, [number, number, string]> = {};
  for (const [p, st] of tree.stats) {
    const e = tree.manifest.get(p);
    if (e) entries[p] = [st.size, st.mtimeMs, contentHash(e).slice(0, HASH_PREFIX)];
  }
  await writeFile(paths.sandboxStats, JSON.stringify({ v: 1, entries })).catch(() => undefined);
}

/** The saved stat records that still describe `manifest`'s content. */
export async function readContainerStats(paths: SandboxStorePaths, manifest: Manifest): Promise<Map<string, StatRecord>> {
  const out = new Map<string, StatRecord>();
  const entries = ((await readJson(paths.sandboxStats)) as { entries?: unknown } | undefined)?.entries;
  if (typeof entries !== 'object' || entries === null) return out;
  for (const [p, value] of Object.entries(entries as Record<string, unknown>)) {
    if (!Array.isArray(value) || value.length !== 3) continue;
    const [size, mtimeMs, prefix] = value as unknown[];
    const e = manifest.get(p);
    if (e && typeof size === 'number' && typeof mtimeMs === 'number' && typeof prefix === 'string' && prefix.length === HASH_PREFIX && contentHash(e).startsWith(prefix)) {
      out.set(p, { size, mtimeMs });
    }
  }
  return out;
}

/** What a stat record vouches for: a file's content, or a link's target. */
function contentHash(entry: ManifestEntry): string {
  return entry.kind === 'file' ? entry.hash : sha256(entry.linkTarget);
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // damaged: treated as unknown, which only costs a full rebuild
  }
}
