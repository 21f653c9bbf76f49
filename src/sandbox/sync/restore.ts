/**
 * Makes the container's /workspace hold a target manifest, in bulk: either a
 * delta from what it is believed to hold (one listing, one delete call, one
 * tar of what differs) or, when nothing is believed, a clear and one tar of
 * everything.
 *
 * Contract:
 * - A belief is only as good as its check against a listing: paths whose
 *   kind, size, mode or stat record disagree, recorded paths that are gone,
 *   unrecorded ones the rules do not ignore, and paths known to have changed
 *   are `pending` (content unknown) and always re-sent or removed. A fresh,
 *   empty container thus receives everything.
 * - Untracked paths the rules ignore (node_modules, build output) are left in
 *   place by a delta, as git leaves them on checkout, unless the target's
 *   rules would show them; a full rebuild clears them. Directories a delta
 *   empties are removed (manifests do not record empty directories, so a
 *   rebuilt container would not have them either).
 * - On return the target tree's stat records describe the container's files:
 *   the tar's mtime for what was sent, the listing for what was verified.
 */
import type { ContainerFiles, ListedEntry } from '../container-files.ts';
import type { BlobStore } from '../store/blobs.ts';
import { sameEntry, type Manifest, type ManifestEntry } from '../store/manifest.ts';
import { ancestorsOf } from '../store/store-paths.ts';
import type { RunFilesProgress } from '../../core/sandbox/run-files.ts';
import type { IgnoreRules } from './ignore-rules.ts';
import { packEntries, tarMtime } from './tar.ts';
import { compareListing, recordablePath, underAny, type TrackedTree } from './tracked-tree.ts';

export interface RestoreDeps {
  files: ContainerFiles;
  blobs: BlobStore;
  signal: AbortSignal;
  now: () => Date;
  onProgress?: (p: RunFilesProgress) => void;
}

export interface HeldView {
  manifest: Manifest;
  rules: IgnoreRules;
  /** Paths (or directories) whose content in the container is unknown. */
  pending: ReadonlySet<string>;
}

export interface RestoreResult {
  mode: 'delta' | 'full';
  sent: number;
  deleted: number;
}

/** Clears /workspace and copies the whole target in with one tar. */
export async function rebuild(deps: RestoreDeps, target: TrackedTree): Promise<RestoreResult> {
  const entries = sortedEntries(target.manifest, [...target.manifest.keys()]);
  deps.onProgress?.({ phase: 'copy-in', message: `Copying ${entries.length} files into the sandbox`, done: 0, total: entries.length });
  await deps.files.clear(deps.signal);
  await putEntries(deps, target, entries);
  deps.onProgress?.({ phase: 'copy-in', message: 'Workspace copied into the sandbox', done: entries.length, total: entries.length });
  return { mode: 'full', sent: entries.length, deleted: 0 };
}

interface ListingIndex {
  /** Recordable files and links by path. */
  nodes: Map<string, ListedEntry>;
  /** Recordable directories. */
  dirs: Set<string>;
  /** Directories holding something never recorded (`.git`, `.crewbox`): never removed. */
  keep: Set<string>;
}

function indexListing(listing: readonly ListedEntry[]): ListingIndex {
  const nodes = new Map<string, ListedEntry>();
  const dirs = new Set<string>();
  const keep = new Set<string>();
  for (const entry of listing) {
    const p = recordablePath(entry.path);
    if (p === undefined) {
      for (const a of ancestorsOf(entry.path)) keep.add(a);
    } else if (entry.kind === 'dir') {
      dirs.add(p);
    } else {
      nodes.set(p, entry);
    }
  }
  return { nodes, dirs, keep };
}

/**
 * Directories the delta leaves empty (their files deleted, none sent), so a
 * rollback does not leave behind the directories later steps created;
 * topmost ones only (deletion is recursive).
 */
function emptiedDirs(index: ListingIndex, deletions: ReadonlySet<string>, target: Manifest): string[] {
  const removed = underAny(deletions);
  const alive = new Set(index.keep);
  for (const p of index.nodes.keys()) if (!removed(p)) for (const a of ancestorsOf(p)) alive.add(a);
  for (const p of target.keys()) for (const a of ancestorsOf(p)) alive.add(a);
  const dead = [...index.dirs].filter((d) => !alive.has(d) && !removed(d));
  const deadSet = new Set(dead);
  return dead.filter((d) => !ancestorsOf(d).some((a) => deadSet.has(a)));
}

/**
 * The paths where the container may differ from a belief (a tree with stat
 * records): new or changed by stat, gone, or known to have changed. No
 * content is read.
 */
export function unknownPaths(believed: TrackedTree, rules: IgnoreRules, listing: readonly ListedEntry[], known: readonly string[]): Set<string> {
  const cmp = compareListing(believed, rules, listing);
  const out = new Set([...cmp.candidates, ...cmp.gone]);
  for (const raw of known) {
    const p = recordablePath(raw);
    if (p !== undefined) out.add(p);
  }
  return out;
}

/** Deletes what the target lacks and sends one tar of what differs from the (verified) belief. */
export async function sendDelta(deps: RestoreDeps, target: TrackedTree, held: HeldView, listing: readonly ListedEntry[]): Promise<RestoreResult> {
  const index = indexListing(listing);
  const { nodes, dirs } = index;
  const unknown = underAny(held.pending);
  const targetRules = await target.ignoreRules();
  const deletions = new Set<string>();
  for (const p of nodes.keys()) {
    if (target.manifest.has(p)) continue;
    if (held.manifest.has(p) || unknown(p) || !targetRules.ignores(p, false)) deletions.add(p);
  }
  const sends = new Set<string>();
  for (const [p, entry] of target.manifest) {
    if (unknown(p) || !nodes.has(p) || !sameEntry(held.manifest.get(p), entry)) sends.add(p);
  }
  // A file where the target needs a directory, or a directory where it needs a file, goes first.
  for (const p of sends) {
    if (dirs.has(p)) deletions.add(p);
    for (const a of ancestorsOf(p)) if (nodes.has(a)) deletions.add(a);
  }
  if (deletions.size > 0) {
    const removed = underAny(deletions);
    for (const p of target.manifest.keys()) if (removed(p)) sends.add(p);
  }
  for (const d of emptiedDirs(index, deletions, target.manifest)) deletions.add(d);

  deps.onProgress?.({ phase: 'restore', message: `Updating the sandbox workspace: ${sends.size} to write, ${deletions.size} to remove`, done: 0, total: sends.size + deletions.size });
  if (deletions.size > 0) await deps.files.deletePaths([...deletions].sort(), deps.signal);
  for (const [p, entry] of nodes) {
    if (!sends.has(p) && target.manifest.has(p) && !unknown(p)) target.stats.set(p, { size: entry.size, mtimeMs: entry.mtimeMs });
  }
  await putEntries(deps, target, sortedEntries(target.manifest, [...sends]));
  deps.onProgress?.({ phase: 'restore', message: 'Sandbox workspace up to date', done: sends.size + deletions.size, total: sends.size + deletions.size });
  return { mode: 'delta', sent: sends.size, deleted: deletions.size };
}

async function putEntries(deps: RestoreDeps, target: TrackedTree, entries: Array<[string, ManifestEntry]>): Promise<void> {
  if (entries.length === 0) return;
  const mtime = tarMtime(deps.now());
  await deps.files.putTar(packEntries(entries, deps.blobs, { mtime, signal: deps.signal }), deps.signal);
  // What extraction leaves behind (tar keeps mtimes, links included); if an engine does not, the records
  // merely disagree with the next listing and those paths are read.
  for (const [p, entry] of entries) {
    const size = entry.kind === 'file' ? entry.size : Buffer.byteLength(entry.linkTarget);
    target.stats.set(p, { size, mtimeMs: mtime.getTime() });
  }
}

function sortedEntries(manifest: Manifest, paths: string[]): Array<[string, ManifestEntry]> {
  return paths.sort().map((p) => [p, manifest.get(p) as ManifestEntry]);
}
