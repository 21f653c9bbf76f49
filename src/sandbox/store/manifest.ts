/**
 * A manifest is a workspace's file tree as data: path → entry, for regular
 * files (by content hash) and symbolic links (by target). Directories are
 * implied by their contents; empty directories are not recorded (as in git).
 *
 * Serialised compactly and deterministically (sorted by path, one tuple per
 * entry, no keys), so that equal trees give equal text and the text's hash
 * names the snapshot:
 *   {"v":1,"entries":[["src/a.ts","f",420,1234,"<sha256>"],["bin","l",511,0,"../tools/bin"]]}
 *
 * Bulk manifests are validated by hand rather than with zod: a 20,000-entry
 * snapshot is parsed on every proposed diff and every resume, and a tuple
 * check in a loop costs a fraction of a schema walk.
 */
import { createHash } from 'node:crypto';
import { isHash, isWorkspacePath } from './store-paths.ts';

export interface FileEntry {
  kind: 'file';
  hash: string;
  /** Permission bits (e.g. 0o644, 0o755). */
  mode: number;
  size: number;
}

export interface LinkEntry {
  kind: 'symlink';
  /** The target as stored in the link (never resolved). */
  linkTarget: string;
  mode: number;
}

export type ManifestEntry = FileEntry | LinkEntry;
export type Manifest = Map<string, ManifestEntry>;

/** What a checkpoint records for one path. */
export type ManifestChange = { path: string; entry: ManifestEntry } | { path: string; deleted: true };

export const LINK_MODE = 0o777;

export function permissionBits(mode: number): number {
  return mode & 0o777;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sameEntry(a: ManifestEntry | undefined, b: ManifestEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind === 'file' && b.kind === 'file') return a.hash === b.hash && a.mode === b.mode;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.linkTarget === b.linkTarget;
  return false;
}

export function serializeManifest(manifest: Manifest): string {
  const paths = [...manifest.keys()].sort();
  const tuples = paths.map((p) => {
    const e = manifest.get(p) as ManifestEntry;
    return e.kind === 'file' ? [p, 'f', e.mode, e.size, e.hash] : [p, 'l', e.mode, 0, e.linkTarget];
  });
  return JSON.stringify({ v: 1, entries: tuples });
}

export class ManifestFormatError extends Error {
  override readonly name = 'ManifestFormatError';
}

export function parseManifest(text: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ManifestFormatError(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof data !== 'object' || data === null || (data as { v?: unknown }).v !== 1) throw new ManifestFormatError('unknown manifest version');
  const entries = (data as { entries?: unknown }).entries;
  if (!Array.isArray(entries)) throw new ManifestFormatError('no entries');
  const manifest: Manifest = new Map();
  for (const tuple of entries as unknown[]) {
    const [p, entry] = entryOfTuple(tuple);
    manifest.set(p, entry);
  }
  return manifest;
}

function entryOfTuple(tuple: unknown): [string, ManifestEntry] {
  if (!Array.isArray(tuple) || tuple.length !== 5) throw new ManifestFormatError('malformed entry');
  const [p, kind, mode, size, ref] = tuple as unknown[];
  if (typeof p !== 'string' || !isWorkspacePath(p)) throw new ManifestFormatError(`bad path ${JSON.stringify(p)}`);
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new ManifestFormatError(`bad mode for ${p}`);
  if (kind === 'f') {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new ManifestFormatError(`bad size for ${p}`);
    // Length only: the full hex check happens where a hash becomes a path (BlobStore.pathOf).
    if (typeof ref !== 'string' || ref.length !== 64) throw new ManifestFormatError(`bad hash for ${p}`);
    return [p, { kind: 'file', hash: ref, mode, size }];
  }
  if (kind === 'l') {
    if (typeof ref !== 'string' || ref === '') throw new ManifestFormatError(`bad link target for ${p}`);
    return [p, { kind: 'symlink', linkTarget: ref, mode }];
  }
  throw new ManifestFormatError(`bad kind for ${p}`);
}

const HEADER = Buffer.from('{"v":1,"entries":[');
/** Between two tuples: `],["` (a `"` inside a path is always escaped, so this never occurs within one). */
const BETWEEN = Buffer.from('],["');

/**
 * The entries of `paths` in a serialised manifest, found by binary search
 * over its sorted tuples: only the tuples visited are decoded. For callers
 * that need a few entries of a large snapshot (a run's change touches tens of
 * paths out of 20,000).
 */
export function lookupEntries(serialized: Buffer, paths: Iterable<string>): Manifest {
  if (!serialized.subarray(0, HEADER.length).equals(HEADER)) throw new ManifestFormatError('unknown manifest version');
  const found: Manifest = new Map();
  if (serialized[HEADER.length] !== 0x5b) return found; // no entries
  const starts = [HEADER.length];
  for (let i = serialized.indexOf(BETWEEN, HEADER.length); i !== -1; i = serialized.indexOf(BETWEEN, i + BETWEEN.length)) starts.push(i + 2);
  const tupleAt = (k: number): [string, ManifestEntry] => {
    const end = k + 1 < starts.length ? (starts[k + 1] as number) - 1 : serialized.length - 2;
    try {
      return entryOfTuple(JSON.parse(serialized.toString('utf8', starts[k], end)));
    } catch (e) {
      throw e instanceof ManifestFormatError ? e : new ManifestFormatError('malformed entry');
    }
  };
  for (const p of paths) {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const [q, entry] = tupleAt(mid);
      if (q === p) {
        found.set(p, entry);
        break;
      }
      if (q < p) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  return found;
}

/** The change record as a checkpoint line stores it: `{path, hash, mode, size}`, `{path, linkTarget, mode}` or `{path, deleted: true}`. */
export type StoredChange =
  | { path: string; hash: string; mode: number; size: number }
  | { path: string; linkTarget: string; mode: number }
  | { path: string; deleted: true };

export function toStoredChange(change: ManifestChange): StoredChange {
  if ('deleted' in change) return { path: change.path, deleted: true };
  const e = change.entry;
  return e.kind === 'file' ? { path: change.path, hash: e.hash, mode: e.mode, size: e.size } : { path: change.path, linkTarget: e.linkTarget, mode: e.mode };
}

/** Inverse of toStoredChange; undefined when the record is malformed. */
export function fromStoredChange(raw: unknown): ManifestChange | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const p = r.path;
  if (typeof p !== 'string' || !isWorkspacePath(p)) return undefined;
  if (r.deleted === true) return { path: p, deleted: true };
  const mode = r.mode;
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o777) return undefined;
  if (typeof r.hash === 'string' && isHash(r.hash) && typeof r.size === 'number' && Number.isSafeInteger(r.size) && r.size >= 0) {
    return { path: p, entry: { kind: 'file', hash: r.hash, mode, size: r.size } };
  }
  if (typeof r.linkTarget === 'string' && r.linkTarget !== '') return { path: p, entry: { kind: 'symlink', linkTarget: r.linkTarget, mode } };
  return undefined;
}

export function applyChanges(manifest: Manifest, changes: readonly ManifestChange[]): void {
  for (const c of changes) {
    if ('deleted' in c) manifest.delete(c.path);
    else manifest.set(c.path, c.entry);
  }
}

/** Paths whose entry differs between two manifests: `upserts` exist in `to`; `removals` exist only in `from`. */
export function diffManifests(from: Manifest, to: Manifest): { upserts: string[]; removals: string[] } {
  const upserts: string[] = [];
  const removals: string[] = [];
  for (const [p, entry] of to) if (!sameEntry(from.get(p), entry)) upserts.push(p);
  for (const p of from.keys()) if (!to.has(p)) removals.push(p);
  return { upserts, removals };
}

/** The changes that turn `from` into `to` (deletions first). */
export function changesBetween(from: Manifest, to: Manifest): ManifestChange[] {
  const { upserts, removals } = diffManifests(from, to);
  return [...removals.map((path): ManifestChange => ({ path, deleted: true })), ...upserts.map((path): ManifestChange => ({ path, entry: to.get(path) as ManifestEntry }))];
}
