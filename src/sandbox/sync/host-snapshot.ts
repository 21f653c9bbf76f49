/**
 * Hashes the host workspace into a manifest, storing each file's content as a
 * blob, incrementally: `.crewbox/host-index.json` remembers, per path, the
 * (size, mtime, ctime, inode) a hash was computed for, so later runs re-read
 * only files that changed on the host.
 *
 * Contract:
 * - Only host files are read; nothing in the workspace is written.
 * - A cached hash is trusted only when size, mtime, ctime and inode all match
 *   and the file was not modified within RACY_MS of when it was hashed
 *   (a write in the same clock tick could otherwise go unseen — git's "racy
 *   clean" problem); its blob must still be in the store.
 * - Every blob named by the returned manifest is durable when this returns
 *   (new contents go into one pack; see BlobBatch).
 */
import { lstatSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, isStoreError } from '../../core/store/errors.ts';
import { writeFileAtomic } from '../../core/store/layout.ts';
import type { BlobBatch, BlobStore } from '../store/blobs.ts';
import { forEachChunked } from '../store/concurrency.ts';
import { sha256, type Manifest } from '../store/manifest.ts';
import { isHash, sandboxStorePaths } from '../store/store-paths.ts';
import { listHostFiles, type HostEntry, type ListHostOptions } from './host-files.ts';

export interface HostSnapshotStats {
  files: number;
  /** Files whose content was read and hashed this time. */
  hashed: number;
  /** Files whose hash came from the index. */
  reused: number;
  bytesHashed: number;
  source: 'git' | 'walk';
}

export interface HostSnapshot {
  manifest: Manifest;
  stats: HostSnapshotStats;
}

export interface SnapshotHostOptions extends ListHostOptions {
  /** Hash function for buffered files (tests count calls); sha256 hex by default. */
  hash?: (data: Buffer) => string;
  onProgress?: (done: number, total: number) => void;
  /** Wall clock (ms) recorded as the index time; tests move it to make files look old. */
  now?: () => number;
}

/** [size, mtimeMs, ctimeMs, ino, hash] */
type IndexEntry = [number, number, number, number, string];

interface HostIndex {
  v: 1;
  /** Wall-clock ms when the listing these stats come from started. */
  time: number;
  entries: Record<string, IndexEntry>;
}

const RACY_MS = 2000;
/** Files above this are streamed into the store rather than read whole. */
const STREAM_THRESHOLD = 4 * 1024 * 1024;
/** Files handled between yields to the event loop. */
const CHUNK = 200;

export async function snapshotHost(workspace: string, blobs: BlobStore, opts: SnapshotHostOptions = {}): Promise<HostSnapshot> {
  const indexFile = sandboxStorePaths(workspace).hostIndex;
  const previous = await readIndex(indexFile);
  const started = (opts.now ?? Date.now)();
  const listing = await listHostFiles(workspace, opts);
  const root = path.resolve(workspace);
  const hash = opts.hash ?? sha256;
  const manifest: Manifest = new Map();
  const next: HostIndex = { v: 1, time: started, entries: {} };
  const stats: HostSnapshotStats = { files: listing.entries.length, hashed: 0, reused: 0, bytesHashed: 0, source: listing.source };
  let done = 0;
  const batch = blobs.batch();

  const visit = async (entry: HostEntry): Promise<void> => {
    if (entry.kind === 'symlink') {
      manifest.set(entry.path, { kind: 'symlink', linkTarget: entry.linkTarget as string, mode: entry.mode });
    } else {
      const cached = previous && trusted(previous, entry, RACY_MS);
      if (cached && blobs.has(cached)) {
        manifest.set(entry.path, { kind: 'file', hash: cached, mode: entry.mode, size: entry.size });
        next.entries[entry.path] = [entry.size, entry.mtimeMs, entry.ctimeMs, entry.ino, cached];
        stats.reused++;
      } else {
        const stored = await storeFile(path.join(root, entry.path), entry, blobs, batch, hash);
        if (stored) {
          manifest.set(entry.path, { kind: 'file', hash: stored.hash, mode: entry.mode, size: stored.size });
          stats.hashed++;
          stats.bytesHashed += stored.size;
          if (stored.stable) next.entries[entry.path] = [entry.size, entry.mtimeMs, entry.ctimeMs, entry.ino, stored.hash];
        }
      }
    }
    done++;
    if (opts.onProgress && (done % CHUNK === 0 || done === listing.entries.length)) opts.onProgress(done, listing.entries.length);
  };
  try {
    await forEachChunked(listing.entries, CHUNK, visit, opts.signal);
  } catch (e) {
    batch.abort();
    throw e;
  }
  await batch.commit();
  if (stats.hashed > 0 || !previous || Object.keys(previous.entries).length !== Object.keys(next.entries).length) {
    // A lost cache only costs re-hashing next time.
    await mkdir(path.dirname(indexFile), { recursive: true })
      .then(() => writeFileAtomic(indexFile, JSON.stringify(next)))
      .catch(() => undefined);
  }
  return { manifest, stats };
}

function trusted(index: HostIndex, entry: HostEntry, racyMs: number): string | undefined {
  const cached = index.entries[entry.path];
  if (!cached) return undefined;
  const [size, mtimeMs, ctimeMs, ino, hash] = cached;
  if (size !== entry.size || mtimeMs !== entry.mtimeMs || ctimeMs !== entry.ctimeMs || ino !== entry.ino) return undefined;
  if (mtimeMs >= index.time - racyMs || ctimeMs >= index.time - racyMs) return undefined;
  return hash;
}

/**
 * Reads, hashes and stores one file; `stable` when it did not change while
 * being read. Undefined if it vanished. Small files go through synchronous
 * calls (see forEachChunked) into the batch; large ones are streamed into
 * loose blobs.
 */
async function storeFile(abs: string, entry: HostEntry, blobs: BlobStore, batch: BlobBatch, hash: (data: Buffer) => string): Promise<{ hash: string; size: number; stable: boolean } | undefined> {
  try {
    let result: { hash: string; size: number };
    if (entry.size > STREAM_THRESHOLD) {
      result = await blobs.putFile(abs, 'deferred');
    } else {
      const data = readFileSync(abs);
      const h = hash(data);
      batch.add(h, data);
      result = { hash: h, size: data.length };
    }
    const after = lstatSync(abs);
    const stable = after.size === entry.size && after.mtimeMs === entry.mtimeMs && after.ctimeMs === entry.ctimeMs && after.size === result.size;
    return { ...result, stable };
  } catch (e) {
    // Deleted or replaced by a directory between listing and reading: not part of the snapshot.
    if (isGone(e)) return undefined;
    throw e;
  }
}

function isGone(e: unknown): boolean {
  const code = errnoCode(e);
  return code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' || (isStoreError(e) && e.code === 'not_found');
}

async function readIndex(file: string): Promise<HostIndex | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const data = JSON.parse(text) as Partial<HostIndex>;
    if (data.v !== 1 || typeof data.time !== 'number' || typeof data.entries !== 'object' || data.entries === null) return undefined;
    for (const value of Object.values(data.entries)) {
      if (!Array.isArray(value) || value.length !== 5 || typeof value[4] !== 'string' || !isHash(value[4])) return undefined;
    }
    return data as HostIndex;
  } catch {
    return undefined; // a damaged cache is a missing cache
  }
}
