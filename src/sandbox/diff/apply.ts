/**
 * Applies a run's proposed change to the HOST workspace — the only code that
 * writes the user's files.
 *
 * Contract:
 * - Per file, the host must still hold what the run started from (same
 *   content, or same link target; absent for additions); otherwise the file
 *   is refused with a reason and left alone, unless `force`. A file already
 *   in its proposed state is skipped, so applying twice is harmless.
 * - Never forced: writing under `.git` or `.crewbox`, through a parent that
 *   is a symbolic link (it could lead anywhere), or over a directory.
 * - `paths` limits the change to those files or directories (matching
 *   either side of a rename; a rename applies as a unit).
 * - Writes are atomic per file (a temp file in the same directory, synced,
 *   renamed over the target); deletions prune directories they leave empty.
 *   Unrelated files are never touched. Order: deletions, renames, then
 *   modifications and additions (so a file can become a directory).
 * - Modes: an unchanged executable bit keeps the host file's mode; a changed
 *   one is set or cleared where the file is readable; new files take the
 *   mode they had in the sandbox.
 */
import { lstat, mkdir, open, readFile, readdir, readlink, rename, rmdir, symlink, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { errnoCode } from '../../core/store/errors.ts';
import { syncDirSync } from '../../core/store/layout.ts';
import type { BlobStore } from '../store/blobs.ts';
import { CheckpointStore } from '../store/checkpoints.ts';
import { sha256, type Manifest, type ManifestEntry } from '../store/manifest.ts';
import { ancestorsOf, isExcludedPath, isHostSafePath } from '../store/store-paths.ts';
import { compareManifests, type ChangeKind, type ProposedFile } from './proposed-change.ts';

export interface ApplyOptions {
  /** Only these files or directories (workspace-relative). */
  paths?: string[];
  force?: boolean;
  /** Apply the run's files as of this step (default: latest). */
  step?: number;
}

export interface AppliedFile {
  path: string;
  oldPath?: string;
  kind: ChangeKind;
}

export interface ApplyResult {
  applied: AppliedFile[];
  conflicts: Array<{ path: string; reason: string }>;
  skipped: Array<{ path: string; reason: string }>;
}

/** One file's change: what the host should hold now (`old`) and after (`next`), at `oldPath` / `path`. */
interface Unit {
  path: string;
  oldPath: string | undefined;
  kind: ChangeKind;
  old: ManifestEntry | undefined;
  next: ManifestEntry | undefined;
}

type HostState = { kind: 'missing' } | { kind: 'dir' } | { kind: 'other' } | { kind: 'file'; hash: string; mode: number } | { kind: 'symlink'; linkTarget: string };

export async function applyChange(workspace: string, runId: string, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const store = new CheckpointStore(workspace);
  const blobs = store.blobs; // knows the inline blobs of the logs the store reads
  const { base, latest } = await store.touchedAt(runId, opts.step);
  const change = await compareManifests(base, latest, blobs, { hunks: false });
  const result: ApplyResult = { applied: [], conflicts: [], skipped: [] };

  const filters = (opts.paths ?? []).map((p) => p.replace(/^(\.\/)+/, '').replace(/\/+$/, ''));
  const matchedFilters = new Set<string>();
  const selected = (u: Unit): boolean => {
    if (filters.length === 0) return true;
    let hit = false;
    for (const f of filters) {
      if ([u.path, u.oldPath].some((p) => p !== undefined && (f === '' || f === '.' || p === f || p.startsWith(`${f}/`)))) {
        matchedFilters.add(f);
        hit = true;
      }
    }
    return hit;
  };

  const units = toUnits(change.files, base, latest);
  const ordered = [...units.filter((u) => u.kind === 'deleted'), ...units.filter((u) => u.kind === 'renamed'), ...units.filter((u) => u.kind === 'modified' || u.kind === 'added')];
  const root = path.resolve(workspace);
  const dirsToSync = new Set<string>();
  for (const unit of ordered) {
    if (!selected(unit)) {
      result.skipped.push({ path: unit.path, reason: 'not selected' });
      continue;
    }
    const outcome = await applyUnit(root, blobs, unit, opts.force === true, dirsToSync);
    if (outcome.status === 'applied') result.applied.push(unit.oldPath !== undefined && unit.kind === 'renamed' ? { path: unit.path, oldPath: unit.oldPath, kind: unit.kind } : { path: unit.path, kind: unit.kind });
    else if (outcome.status === 'conflict') result.conflicts.push({ path: unit.path, reason: outcome.reason });
    else result.skipped.push({ path: unit.path, reason: outcome.reason });
  }
  for (const f of filters) if (!matchedFilters.has(f)) result.skipped.push({ path: f, reason: 'no proposed change matches this path' });
  for (const dir of dirsToSync) {
    try {
      syncDirSync(dir);
    } catch {
      // The directory was pruned after the write that marked it; nothing left to sync.
    }
  }
  return result;
}

/** Proposed files as units; a path that changed kind (file ⇄ symlink) is one unit replacing the old with the new. */
function toUnits(files: readonly ProposedFile[], base: Manifest, latest: Manifest): Unit[] {
  const units: Unit[] = [];
  const typeChanged = new Set(files.filter((f) => f.kind === 'added' && base.has(f.path)).map((f) => f.path));
  for (const f of files) {
    if (typeChanged.has(f.path)) {
      if (f.kind === 'added') units.push({ path: f.path, oldPath: f.path, kind: 'modified', old: base.get(f.path), next: latest.get(f.path) });
      continue;
    }
    const oldPath = f.kind === 'added' ? undefined : (f.oldPath ?? f.path);
    units.push({ path: f.path, oldPath, kind: f.kind, old: oldPath === undefined ? undefined : base.get(oldPath), next: f.kind === 'deleted' ? undefined : latest.get(f.path) });
  }
  return units;
}

type Outcome = { status: 'applied' } | { status: 'conflict'; reason: string } | { status: 'skipped'; reason: string };

async function applyUnit(root: string, blobs: BlobStore, unit: Unit, force: boolean, dirsToSync: Set<string>): Promise<Outcome> {
  for (const p of [unit.path, unit.oldPath]) {
    if (p !== undefined && (!isHostSafePath(p) || isExcludedPath(p))) return { status: 'conflict', reason: 'refused: Crewbox never writes this path on the host (.git, .crewbox or not a plain relative path)' };
  }
  const abs = (p: string): string => path.join(root, ...p.split('/'));
  try {
    for (const p of new Set([unit.path, unit.oldPath])) {
      const blocked = p === undefined ? undefined : await blockedParent(root, p);
      if (blocked?.kind === 'symlink') return { status: 'conflict', reason: blocked.reason };
    }
    const target = await hostState(abs(unit.path));
    const source = unit.oldPath !== undefined && unit.oldPath !== unit.path ? await hostState(abs(unit.oldPath)) : undefined;

    if (unit.next && matches(target, unit.next, true) && (!source || source.kind === 'missing')) return { status: 'skipped', reason: 'already up to date on the host' };
    if (!unit.next && target.kind === 'missing') return { status: 'skipped', reason: 'already deleted on the host' };
    if (target.kind === 'dir') return { status: 'conflict', reason: 'is a directory on the host' };

    if (!force) {
      const expectedAtTarget = unit.kind === 'renamed' ? undefined : unit.old;
      const atSource = source && unit.old ? drift(source, unit.old) : undefined;
      const why = drift(target, expectedAtTarget) ?? (atSource && `${unit.oldPath as string} (renamed from): ${atSource}`);
      if (why) return { status: 'conflict', reason: `${why} since the run started; use force to overwrite` };
    }
    if (unit.next) {
      const blocked = await blockedParent(root, unit.path);
      if (blocked) return { status: 'conflict', reason: blocked.reason };
      const hostMode = target.kind === 'file' ? target.mode : undefined;
      await writeEntry(abs(unit.path), unit.next, modeFor(unit, hostMode), blobs);
      dirsToSync.add(path.dirname(abs(unit.path)));
    }
    const removeAt = unit.next ? (unit.kind === 'renamed' ? unit.oldPath : undefined) : unit.path;
    if (removeAt !== undefined && (await hostState(abs(removeAt))).kind !== 'missing') {
      await unlink(abs(removeAt));
      dirsToSync.add(await pruneEmptyParents(root, removeAt));
    }
    return { status: 'applied' };
  } catch (e) {
    const code = errnoCode(e);
    return { status: 'conflict', reason: `could not write it on the host: ${code ?? (e instanceof Error ? e.message : String(e))}` };
  }
}

/** Why the host no longer holds `expected` (undefined: it does). `expected` undefined means the path must be absent. */
function drift(host: HostState, expected: ManifestEntry | undefined): string | undefined {
  if (!expected) return host.kind === 'missing' ? undefined : 'it was created on the host';
  if (host.kind === 'missing') return 'it was deleted on the host';
  if (!matches(host, expected, false)) return expected.kind === 'symlink' && host.kind === 'symlink' ? 'its link target changed on the host' : 'its content changed on the host';
  return undefined;
}

function matches(host: HostState, entry: ManifestEntry, withExecBit: boolean): boolean {
  if (entry.kind === 'symlink') return host.kind === 'symlink' && host.linkTarget === entry.linkTarget;
  if (host.kind !== 'file' || host.hash !== entry.hash) return false;
  return !withExecBit || ((host.mode & 0o111) !== 0) === ((entry.mode & 0o111) !== 0);
}

async function hostState(abs: string): Promise<HostState> {
  let st;
  try {
    st = await lstat(abs);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return { kind: 'missing' };
    throw e;
  }
  if (st.isDirectory()) return { kind: 'dir' };
  if (st.isSymbolicLink()) return { kind: 'symlink', linkTarget: await readlink(abs) };
  if (!st.isFile()) return { kind: 'other' };
  return { kind: 'file', hash: sha256(await readFile(abs)), mode: st.mode & 0o777 };
}

/** A parent of `rel` on the host that is a symlink (never written through) or a file (cannot hold it). */
async function blockedParent(root: string, rel: string): Promise<{ kind: 'symlink' | 'file'; reason: string } | undefined> {
  for (const dir of ancestorsOf(rel)) {
    const st = await lstat(path.join(root, ...dir.split('/'))).catch(() => undefined);
    if (!st) return undefined; // missing from here down: created as plain directories
    if (st.isSymbolicLink()) return { kind: 'symlink', reason: `refused: its parent ${dir} is a symbolic link on the host` };
    if (!st.isDirectory()) return { kind: 'file', reason: `its parent ${dir} is a file on the host` };
  }
  return undefined;
}

function modeFor(unit: Unit, hostMode: number | undefined): number {
  const next = unit.next as ManifestEntry;
  if (next.kind === 'symlink') return 0o777;
  if (hostMode === undefined) return next.mode;
  const wasExec = unit.old?.kind === 'file' && (unit.old.mode & 0o111) !== 0;
  const isExec = (next.mode & 0o111) !== 0;
  if (unit.old?.kind === 'file' && wasExec === isExec) return hostMode;
  return isExec ? hostMode | ((hostMode & 0o444) >> 2) : hostMode & ~0o111;
}

async function writeEntry(abs: string, entry: ManifestEntry, mode: number, blobs: BlobStore): Promise<void> {
  const dir = path.dirname(abs);
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(abs)}.crewbox-${randomBytes(4).toString('hex')}.tmp`);
  try {
    if (entry.kind === 'symlink') {
      await symlink(entry.linkTarget, temp);
    } else {
      const handle = await open(temp, 'wx', mode);
      try {
        await handle.writeFile(await blobs.read(entry.hash));
        await handle.chmod(mode);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await rename(temp, abs);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}

/** Removes directories a deletion left empty, up to (not including) the root; returns the deepest directory still standing. */
async function pruneEmptyParents(root: string, rel: string): Promise<string> {
  for (const dir of ancestorsOf(rel).reverse()) {
    const abs = path.join(root, ...dir.split('/'));
    const left = await readdir(abs).catch(() => ['?']);
    if (left.length > 0) return abs;
    await rmdir(abs).catch(() => undefined);
  }
  return root;
}

