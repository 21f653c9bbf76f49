/**
 * Content-addressed blob store under `.crewbox/objects/`: each distinct
 * content once, named by the sha256 of its bytes. Loose blobs live in
 * `objects/ab/cdef…`; the bulk of a workspace snapshot goes into pack files
 * (`objects/pack/`, see packs.ts) because creating thousands of small files
 * costs more than writing their bytes.
 *
 * Contract:
 * - Write-once: a loose blob is written to a unique temp file in its fan-out
 *   directory and renamed into place, so a reader sees all of it or nothing;
 *   a blob already stored (loose or packed) is never written again (dedup
 *   across steps, runs and snapshots).
 * - Durability: `put(…, 'sync')` returns once the blob and its directory
 *   entry are on disk (what a checkpoint needs before its delta line refers
 *   to it). 'deferred' writes, and a batch's blobs, are durable once
 *   `flush()` / `BlobBatch.commit()` returns; callers do that before writing
 *   any record that refers to them.
 * - Inline blobs: a checkpoint log may carry a step's small new contents
 *   (inline-blobs.ts); the CheckpointStore that loads or appends such a log
 *   tells its BlobStore where they are (`addInline`), and reads find them
 *   there after objects/. `has` counts objects/ only, so whatever stores a
 *   content for a new record (a snapshot) never relies on another run's log.
 * - Freshening: a put that finds its blob already stored touches the blob's
 *   file (or its pack) so its mtime is recent, as git does: the collector
 *   (gc.ts) keeps every blob younger than its grace period, so a blob that a
 *   record is about to name again is not swept before the record is written.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StoreError, errnoCode, readError, writeError } from '../../core/store/errors.ts';
import { sha256 } from './manifest.ts';
import { isHash } from './store-paths.ts';
import { forEachLimited } from './concurrency.ts';
import { PackIndex, PackWriter, type PackLocation } from './packs.ts';
import { InlineBlobError, InlineIndex, readFirstInline, type InlineLocation } from './inline-blobs.ts';

export type Durability = 'sync' | 'deferred';

export interface PutResult {
  hash: string;
  size: number;
  /** False when the blob was already stored. */
  written: boolean;
}

/** A batch this small is written as loose blobs; beyond, as one pack. */
const MIN_PACK_COUNT = 64;
const MIN_PACK_BYTES = 8 * 1024 * 1024;
/** A file freshened this recently is not touched again (a snapshot may re-find thousands of blobs in one pack). */
const FRESHEN_EVERY_MS = 10 * 60_000;

export class BlobStore {
  private readonly known = new Set<string>();
  private readonly packs: PackIndex;
  private readonly madeDirs = new Set<string>();
  private deferredFiles: string[] = [];
  private readonly deferredDirs = new Set<string>();
  private readonly freshenedAt = new Map<string, number>();
  private readonly inline = new InlineIndex();
  private readonly inMemory = new Set<ReadonlyMap<string, Buffer>>();

  constructor(readonly dir: string) {
    this.packs = new PackIndex(path.join(dir, 'pack'));
  }

  pathOf(hash: string): string {
    if (!isHash(hash)) throw new Error(`Not a blob hash: ${JSON.stringify(hash)}`);
    return path.join(this.dir, hash.slice(0, 2), hash.slice(2));
  }

  /** Notes where a checkpoint log holds a blob (see Inline blobs in the module doc). */
  addInline(hash: string, location: InlineLocation): void {
    this.inline.add(hash, location);
  }

  /** Forgets inline blobs of a log that was rewritten (their offsets no longer hold). */
  forgetInline(file: string): void {
    this.inline.forget(file);
  }

  /** Whether the blob is found only inline in a checkpoint log (not in objects/). */
  onlyInline(hash: string): boolean {
    return this.inline.has(hash) && !this.has(hash);
  }

  /**
   * Makes contents readable from memory until the returned function is
   * called: a checkpoint's inline blobs, between capturing them and writing
   * the delta line that holds them (the tree may read them meanwhile, e.g. a
   * changed .gitignore).
   */
  holdInMemory(contents: ReadonlyMap<string, Buffer>): () => void {
    this.inMemory.add(contents);
    return () => {
      this.inMemory.delete(contents);
    };
  }

  private fromMemory(hash: string): Buffer | undefined {
    for (const m of this.inMemory) {
      const data = m.get(hash);
      if (data) return data;
    }
    return undefined;
  }

  /** Whether the blob is stored in objects/ (in a pack, or loose: a stat; answers from memory once seen). */
  has(hash: string): boolean {
    if (this.known.has(hash) || this.packs.get(hash)) return true;
    const found = statSync(this.pathOf(hash), { throwIfNoEntry: false })?.isFile() ?? false;
    if (found) this.known.add(hash);
    return found;
  }

  /**
   * Marks a stored blob as in use now (see Freshening in the module doc).
   * Best effort: a blob that cannot be touched is merely older to the collector.
   */
  freshen(hash: string): void {
    const where = this.locate(hash);
    if (Array.isArray(where)) return; // held by checkpoint logs, which the collector never sweeps
    const file = typeof where === 'string' ? where : where.file;
    const now = Date.now();
    if (now - (this.freshenedAt.get(file) ?? 0) < FRESHEN_EVERY_MS) return;
    try {
      const at = new Date(now);
      utimesSync(file, at, at);
      this.freshenedAt.set(file, now);
    } catch {
      // Read-only or gone: nothing to keep fresh.
    }
  }

  /** Stores `data` (hashing it unless `hash` is given by a caller that already did). */
  async put(data: Buffer, durability: Durability = 'sync', hash: string = sha256(data)): Promise<PutResult> {
    if (durability === 'deferred') return this.putDeferred(data, hash);
    const written = await this.putDurably([[hash, data]]);
    return { hash, size: data.length, written: written > 0 };
  }

  /**
   * Stores several blobs durably at the cost of about three sequential
   * syncs whatever their number: all files are written and synced in
   * parallel, renamed into place, then each directory touched is synced once
   * (in parallel). Returns how many were new.
   */
  async putDurably(items: ReadonlyArray<readonly [hash: string, data: Buffer]>): Promise<number> {
    const fresh = new Map<string, Buffer>();
    for (const [hash, data] of items) {
      if (!this.has(hash)) fresh.set(hash, data);
      else this.freshen(hash);
    }
    if (fresh.size === 0) return 0;
    const staged: Array<{ hash: string; temp: string; final: string }> = [];
    try {
      await Promise.all(
        [...fresh].map(async ([hash, data]) => {
          const final = this.pathOf(hash);
          this.ensureDir(path.dirname(final));
          const temp = tempName(final);
          staged.push({ hash, temp, final });
          const handle = await open(temp, 'wx', 0o444);
          try {
            await handle.writeFile(data);
            await handle.sync();
          } finally {
            await handle.close();
          }
        }),
      );
      // In parallel through the thread pool: on a busy disk each rename waits for the file system's journal.
      await Promise.all(staged.map(({ temp, final }) => rename(temp, final)));
    } catch (e) {
      await Promise.all(staged.map(({ temp }) => unlink(temp).catch(() => undefined)));
      throw writeError(this.dir, 'blobs', e);
    }
    await Promise.all([...new Set(staged.map(({ final }) => path.dirname(final)))].map(syncDir));
    for (const { hash } of staged) this.known.add(hash);
    return staged.length;
  }

  /**
   * Stores `data` without syncing (durable after flush()), with synchronous
   * calls: for bulk snapshots of many small files, where a round trip through
   * the thread pool per call costs more than the call itself.
   */
  putDeferred(data: Buffer, hash: string = sha256(data)): PutResult {
    if (this.has(hash)) {
      this.freshen(hash);
      return { hash, size: data.length, written: false };
    }
    const final = this.pathOf(hash);
    const dir = path.dirname(final);
    this.ensureDir(dir);
    const temp = tempName(final);
    try {
      writeFileSync(temp, data, { flag: 'wx', mode: 0o444 });
      renameSync(temp, final);
    } catch (e) {
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
      throw writeError(final, 'blob', e);
    }
    this.noteDeferred(final, dir);
    this.known.add(hash);
    return { hash, size: data.length, written: true };
  }

  /** Stores a file's content by streaming it (large files): hashes what it copies, so the blob is consistent even if the file changes meanwhile. */
  async putFile(source: string, durability: Durability = 'sync'): Promise<PutResult> {
    this.ensureDir(this.dir);
    const temp = tempName(path.join(this.dir, 'incoming'));
    const hasher = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hasher.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(createReadStream(source), tap, createWriteStream(temp, { flags: 'wx', mode: 0o444 }));
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw errnoCode(e) === 'ENOENT' ? readError(source, 'file', e) : writeError(temp, 'blob', e);
    }
    const hash = hasher.digest('hex');
    try {
      if (this.has(hash)) {
        await unlink(temp);
        this.freshen(hash);
        return { hash, size, written: false };
      }
      const final = this.pathOf(hash);
      const dir = path.dirname(final);
      this.ensureDir(dir);
      if (durability === 'sync') await fsyncFile(temp);
      await rename(temp, final);
      if (durability === 'sync') await syncDir(dir);
      else this.noteDeferred(final, dir);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw writeError(this.pathOf(hash), 'blob', e);
    }
    this.known.add(hash);
    return { hash, size, written: true };
  }

  /** Many blobs at once (a snapshot), packed when there are enough of them. */
  batch(): BlobBatch {
    return new BlobBatch(this, path.join(this.dir, 'pack'));
  }

  /** @internal BlobBatch announces the pack it wrote. */
  packsChanged(): void {
    this.packs.reload();
  }

  async read(hash: string): Promise<Buffer> {
    const held = this.fromMemory(hash);
    if (held) return held;
    const where = this.locate(hash);
    try {
      if (typeof where === 'string') return await readFile(where);
      return Array.isArray(where) ? this.readInlined(hash, where) : this.packs.readSync(where);
    } catch (e) {
      throw e instanceof StoreError ? e : readError(this.pathOf(hash), 'blob', e);
    }
  }

  /** Synchronous read, for small blobs in bulk. */
  readSync(hash: string): Buffer {
    const held = this.fromMemory(hash);
    if (held) return held;
    const where = this.locate(hash);
    try {
      if (typeof where === 'string') return readFileSync(where);
      return Array.isArray(where) ? this.readInlined(hash, where) : this.packs.readSync(where);
    } catch (e) {
      throw e instanceof StoreError ? e : readError(this.pathOf(hash), 'blob', e);
    }
  }

  readStream(hash: string): Readable {
    const held = this.fromMemory(hash);
    if (held) return Readable.from([held]);
    const where = this.locate(hash);
    if (typeof where === 'string') return createReadStream(where);
    if (Array.isArray(where)) {
      try {
        return Readable.from([this.readInlined(hash, where)]);
      } catch (e) {
        const failed = new Readable({ read() {} });
        process.nextTick(() => failed.destroy(e as Error));
        return failed;
      }
    }
    if (where.size === 0) return Readable.from([]);
    return createReadStream(where.file, { start: where.offset, end: where.offset + where.size - 1 });
  }

  /** An inline blob's bytes, checked; no good copy: a clear store error. */
  private readInlined(hash: string, where: InlineLocation[]): Buffer {
    try {
      return readFirstInline(hash, where);
    } catch (e) {
      if (!(e instanceof InlineBlobError)) throw e;
      const file = where[0]?.file ?? this.dir;
      throw new StoreError('invalid_entry', `The checkpoint log ${file} is damaged: ${e.message}.`, { path: file, cause: e });
    }
  }

  /**
   * Where a blob's bytes are: a loose file's path, a place in a pack, or a
   * place in a checkpoint log (a missing loose path when unknown, so reads
   * fail as not_found). objects/ first: a rewritten log's blobs were stored
   * there before it was replaced, so a stale inline location is never used.
   */
  private locate(hash: string): string | PackLocation | InlineLocation[] {
    const loose = this.pathOf(hash);
    // Packs first once their indexes are in memory; before that a stat is cheaper than loading them
    // (a diff reads a few loose blobs and never needs the snapshot's pack).
    if (this.packs.isLoaded) {
      const packed = this.packs.get(hash);
      if (packed) return packed;
    }
    if (this.known.has(hash) || existsSync(loose)) return loose;
    const inlined = this.inline.get(hash);
    if (inlined) return this.packs.get(hash) ?? inlined;
    this.packs.reload(); // not loaded yet, or written by another process since
    return this.packs.get(hash) ?? loose;
  }

  /** Makes every blob written with 'deferred' durable. */
  async flush(): Promise<void> {
    if (this.deferredFiles.length === 0) return;
    const files = this.deferredFiles;
    const dirs = [...this.deferredDirs];
    this.deferredFiles = [];
    this.deferredDirs.clear();
    await forEachLimited(files, 16, fsyncFile);
    await Promise.all(dirs.map(syncDir));
  }

  private noteDeferred(file: string, dir: string): void {
    this.deferredFiles.push(file);
    this.deferredDirs.add(dir);
  }

  private ensureDir(dir: string): void {
    if (this.madeDirs.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.madeDirs.add(dir);
  }
}

/** Syncs a directory's entries (renames into it). Windows cannot open directories for syncing; there, NTFS journaling is all we get. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    if (process.platform !== 'win32') throw writeError(dir, 'blob directory', e);
  }
}

function tempName(final: string): string {
  return `${final}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Blobs added in bulk: the first few are held and written loose on commit;
 * past MIN_PACK_COUNT blobs or MIN_PACK_BYTES they all go into one pack.
 * Nothing is visible to readers of other stores before `commit()`.
 */
export class BlobBatch {
  private readonly held: Array<[string, Buffer]> = [];
  private heldBytes = 0;
  private pack: PackWriter | undefined;
  private readonly seen = new Set<string>();

  constructor(
    private readonly store: BlobStore,
    private readonly packDir: string,
  ) {}

  add(hash: string, data: Buffer): void {
    if (this.seen.has(hash)) return;
    if (this.store.has(hash)) {
      this.store.freshen(hash);
      return;
    }
    this.seen.add(hash);
    if (this.pack) {
      this.pack.add(hash, data);
      return;
    }
    this.held.push([hash, data]);
    this.heldBytes += data.length;
    if (this.held.length >= MIN_PACK_COUNT || this.heldBytes >= MIN_PACK_BYTES) {
      mkdirSync(this.packDir, { recursive: true });
      this.pack = new PackWriter(this.packDir);
      for (const [h, d] of this.held) this.pack.add(h, d);
      this.held.length = 0;
      this.heldBytes = 0;
    }
  }

  /** Makes every added blob durable and readable. */
  async commit(): Promise<void> {
    try {
      if (this.pack) {
        this.pack.finish();
        this.store.packsChanged();
      }
      for (const [hash, data] of this.held) this.store.putDeferred(data, hash);
      await this.store.flush();
    } catch (e) {
      this.abort();
      throw writeError(this.packDir, 'blob pack', e);
    }
  }

  abort(): void {
    this.pack?.abort();
  }
}
