/**
 * Finds what changed in the container's /workspace since the tree was last
 * in step with it, stores the new contents as blobs, and brings the tree up
 * to date. Costs in proportion to the change: the container's change list
 * names the paths, only those are read, and nothing is hashed that did not
 * change.
 *
 * Contract:
 * - Input is a drained change list, perhaps with the paths' snapshots. Paths outside the records (`.git`,
 *   `.crewbox`, escapes) and untracked paths the `.gitignore` rules ignore are
 *   dropped before anything is read.
 * - A path that reads back as a directory with none of its entries in the
 *   list (moved in whole, from a tracker that does not walk new directories)
 *   and an overflowed change list are resolved from one listing: size, mode
 *   and mtime first, content only for candidates. A changed `.gitignore` also
 *   triggers a listing, since it may reveal files that were ignored.
 * - Every blob named by the returned changes is durable or held in
 *   `deps.inline` (to be written with the delta line), and the tree already
 *   includes them; the caller records them (or, if it cannot, must stop
 *   using the tree: it is ahead of the records).
 */
import type { ContainerFiles, FileSnapshot, ListedEntry } from '../container-files.ts';
import type { BlobStore } from '../store/blobs.ts';
import type { InlineBlobs } from '../store/inline-blobs.ts';
import { LINK_MODE, permissionBits, sameEntry, sha256, type ManifestChange, type ManifestEntry } from '../store/manifest.ts';
import { ancestorsOf } from '../store/store-paths.ts';
import { isGitignorePath, type IgnoreRules } from './ignore-rules.ts';
import { compareListing, recordablePath, underAny, type TrackedTree } from './tracked-tree.ts';

export interface Drained {
  paths: string[];
  overflow: boolean;
  /** Snapshots taken after the drain (ContainerFiles `read`): used instead of reading those paths again. */
  files?: readonly FileSnapshot[];
}

export interface CaptureDeps {
  files: ContainerFiles;
  blobs: BlobStore;
  signal: AbortSignal;
  /** Holds small new contents for the caller to write with its delta line instead of storing them here. */
  inline?: InlineBlobs;
}

/** The drained paths worth reading (no I/O beyond loading the ignore rules). */
export async function relevantPaths(tree: TrackedTree, paths: readonly string[]): Promise<string[]> {
  const rules = await tree.ignoreRules();
  const kept = new Set<string>();
  for (const raw of paths) {
    const p = recordablePath(raw);
    if (p === undefined || kept.has(p)) continue;
    if (tree.manifest.has(p) || tree.hasDir(p) || !rules.ignores(p, false)) kept.add(p);
  }
  return [...kept];
}

export async function captureChanges(deps: CaptureDeps, tree: TrackedTree, drained: Drained): Promise<ManifestChange[]> {
  const all = new Map<string, ManifestChange>();
  const scanPrefixes = new Set<string>();
  let fullScan = drained.overflow;

  if (!fullScan) {
    const paths = await relevantPaths(tree, drained.paths);
    if (paths.length > 0) {
      const rules = await tree.ignoreRules();
      const snapshots = await snapshotsOf(deps, paths, drained.files);
      const batch: ManifestChange[] = [];
      const contents = new Map<string, Buffer>();
      // A directory whose entries came in the same list was walked by the tracker (the supervisor reports
      // every entry of a directory that appears); one without is scanned, in case it was moved in whole.
      const reportedWithin = new Set(paths.flatMap((p) => ancestorsOf(p)));
      for (const s of snapshots) {
        const scan = interpret(tree, rules, s, batch, contents);
        if (scan !== undefined && !reportedWithin.has(scan)) scanPrefixes.add(scan);
      }
      await commit(deps, tree, batch, contents, all);
      if (batch.some((c) => isGitignorePath(c.path))) fullScan = true;
    }
  }

  if (fullScan || scanPrefixes.size > 0) {
    const listing = await deps.files.listAll(deps.signal);
    const within = fullScan ? undefined : underAny(scanPrefixes);
    const result = await reconcileWithListing(deps, tree, listing, { within, forced: drained.overflow ? drained.paths : [] });
    for (const c of result?.changes ?? []) {
      all.delete(c.path);
      all.set(c.path, c);
    }
  }
  return [...all.values()];
}

/** The paths' snapshots: from those that came with the drain, reading only paths they lack. */
async function snapshotsOf(deps: CaptureDeps, paths: readonly string[], given: readonly FileSnapshot[] | undefined): Promise<FileSnapshot[]> {
  if (!given) return deps.files.readFiles([...paths], deps.signal);
  const byPath = new Map(given.map((f) => [f.path, f]));
  const missing = paths.filter((p) => !byPath.has(p));
  if (missing.length > 0) for (const f of await deps.files.readFiles(missing, deps.signal)) byPath.set(f.path, f);
  return paths.map((p) => byPath.get(p) as FileSnapshot);
}

export interface Reconciled {
  changes: ManifestChange[];
  /** Recorded paths found present and unchanged. */
  confirmed: number;
}

export interface ReconcileOptions {
  /** Only paths for which this holds (default: all). */
  within?: ((p: string) => boolean) | undefined;
  /** Paths to read even when their stat matches (known to have changed). */
  forced?: readonly string[];
  /** Give up (undefined, nothing read or changed) when more paths than this would have to be read. */
  maxCandidates?: number;
}

/**
 * Brings the tree in line with a listing of the container: stat comparison
 * first, content only for candidates; stores blobs and applies the changes
 * to the tree, and refreshes its stat records from the listing.
 */
export async function reconcileWithListing(deps: CaptureDeps, tree: TrackedTree, listing: readonly ListedEntry[], opts: ReconcileOptions = {}): Promise<Reconciled | undefined> {
  const rules = await tree.ignoreRules();
  const cmp = compareListing(tree, rules, listing, opts.within);
  const candidates = new Set(cmp.candidates);
  for (const raw of await relevantPaths(tree, opts.forced ?? [])) {
    if (cmp.listed.has(raw) && (!opts.within || opts.within(raw))) candidates.add(raw);
  }
  if (opts.maxCandidates !== undefined && candidates.size > opts.maxCandidates) return undefined;
  const batch: ManifestChange[] = cmp.gone.map((path) => ({ path, deleted: true }));
  const contents = new Map<string, Buffer>();
  if (candidates.size > 0) {
    for (const s of await deps.files.readFiles([...candidates], deps.signal)) {
      if (s.kind !== 'dir') interpret(tree, rules, s, batch, contents);
    }
  }
  const all = new Map<string, ManifestChange>();
  await commit(deps, tree, batch, contents, all);
  let confirmed = 0;
  for (const [p, entry] of cmp.listed) {
    if (!tree.manifest.has(p)) continue;
    tree.stats.set(p, { size: entry.size, mtimeMs: entry.mtimeMs });
    if (!all.has(p)) confirmed++;
  }
  return { changes: [...all.values()], confirmed };
}

/**
 * Turns one read-back path into changes against the tree (appended to
 * `batch`); returns the path when its subtree must be scanned.
 */
function interpret(tree: TrackedTree, rules: IgnoreRules, s: FileSnapshot, batch: ManifestChange[], contents: Map<string, Buffer>): string | undefined {
  const p = recordablePath(s.path);
  if (p === undefined) return undefined;
  const deleteBelow = (): void => {
    for (const q of tree.pathsUnder(p)) batch.push({ path: q, deleted: true });
  };
  if (s.kind === 'missing') {
    if (tree.manifest.has(p)) batch.push({ path: p, deleted: true });
    deleteBelow();
    return undefined;
  }
  if (s.kind === 'dir') {
    if (tree.manifest.has(p)) batch.push({ path: p, deleted: true });
    return tree.hasDir(p) || !rules.ignores(p, true) ? p : undefined;
  }
  let entry: ManifestEntry;
  if (s.kind === 'symlink') {
    if (!s.linkTarget) return undefined;
    entry = { kind: 'symlink', linkTarget: s.linkTarget, mode: LINK_MODE };
  } else {
    const content = s.content ?? Buffer.alloc(0);
    entry = { kind: 'file', hash: sha256(content), mode: permissionBits(s.mode), size: content.length };
    contents.set(entry.hash, content);
  }
  deleteBelow();
  if (!sameEntry(tree.manifest.get(p), entry)) batch.push({ path: p, entry });
  return undefined;
}

/**
 * Stores the batch's new blobs durably (or hands small ones to `deps.inline`),
 * then applies it to the tree and merges it into `all` (one change per path).
 */
async function commit(deps: CaptureDeps, tree: TrackedTree, batch: ManifestChange[], contents: Map<string, Buffer>, all: Map<string, ManifestChange>): Promise<void> {
  if (batch.length === 0) return;
  const stored: Array<readonly [string, Buffer]> = [];
  const seen = new Set<string>();
  for (const c of batch) {
    if ('deleted' in c || c.entry.kind !== 'file' || seen.has(c.entry.hash)) continue;
    const { hash } = c.entry;
    seen.add(hash);
    const data = contents.get(hash) as Buffer;
    // Already in objects/: putDurably only freshens it. New and small: written with the delta line.
    if (deps.inline && !deps.blobs.has(hash) && deps.inline.offer(hash, data)) continue;
    stored.push([hash, data]);
  }
  await deps.blobs.putDurably(stored);
  tree.apply(batch);
  for (const c of batch) {
    all.delete(c.path);
    all.set(c.path, c);
  }
}
