/**
 * Pack files: many blobs in one file, for the bulk of a workspace snapshot.
 * Creating 20,000 small files costs seconds on common file systems (as
 * much as the copy-in itself); one sequential file costs what its bytes do.
 *
 *   objects/pack/<id>.pack   the blobs' bytes, back to back
 *   objects/pack/<id>.idx    "CBXIDX01", count (u32 BE), then per blob, sorted
 *                            by hash: sha256 (32 bytes), offset (u64 BE), size (u64 BE)
 *
 * Contract:
 * - A pack is visible only once its index exists; the index is written
 *   (atomically) after the pack is synced and in place, so a crash leaves at
 *   worst an unindexed pack, which is ignored.
 * - Packs are immutable. Readers load every index once and reload when asked
 *   for a blob they do not know (another process may have written a pack).
 *   An index is searched in place (binary search over the sorted table), so
 *   loading one costs a file read, not a parse of 20,000 entries.
 */
import { closeSync, fsyncSync, openSync, readFileSync, readSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { syncDirSync } from '../../core/store/layout.ts';

export interface PackLocation {
  file: string;
  offset: number;
  size: number;
}

const MAGIC = Buffer.from('CBXIDX01', 'latin1');
const HEADER = MAGIC.length + 4;
const ENTRY = 32 + 8 + 8;

interface LoadedIndex {
  file: string;
  table: Buffer;
  count: number;
}

export class PackIndex {
  private indexes: LoadedIndex[] = [];
  private loaded = false;

  constructor(readonly dir: string) {}

  get(hash: string): PackLocation | undefined {
    if (!this.loaded) this.reload();
    if (hash.length !== 64) return undefined;
    const key = Buffer.from(hash, 'hex');
    if (key.length !== 32) return undefined;
    for (const index of this.indexes) {
      let lo = 0;
      let hi = index.count - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const at = HEADER + mid * ENTRY;
        const cmp = index.table.compare(key, 0, 32, at, at + 32);
        if (cmp === 0) {
          return { file: index.file, offset: Number(index.table.readBigUInt64BE(at + 32)), size: Number(index.table.readBigUInt64BE(at + 40)) };
        }
        if (cmp > 0) hi = mid - 1;
        else lo = mid + 1;
      }
    }
    return undefined;
  }

  /** Whether the indexes were read (a lookup would not cost a load). */
  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Reads every index in the directory (damaged ones are skipped: their blobs are then simply unknown). */
  reload(): void {
    this.loaded = true;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      names = [];
    }
    const indexes: LoadedIndex[] = [];
    for (const name of names) {
      if (!name.endsWith('.idx')) continue;
      const loaded = readIndex(path.join(this.dir, name), path.join(this.dir, `${name.slice(0, -4)}.pack`));
      if (loaded) indexes.push(loaded);
    }
    this.indexes = indexes;
  }

  readSync(location: PackLocation): Buffer {
    const fd = openSync(location.file, 'r');
    try {
      const buf = Buffer.allocUnsafe(location.size);
      let done = 0;
      while (done < location.size) {
        const n = readSync(fd, buf, done, location.size - done, location.offset + done);
        if (n === 0) throw new Error(`The pack ${location.file} ends before the blob at ${location.offset} does.`);
        done += n;
      }
      return buf;
    } finally {
      closeSync(fd);
    }
  }
}

export interface PackListing {
  /** The pack file (it may be missing if a crash or a collection removed it first). */
  pack: string;
  index: string;
  /** Hashes of the blobs it holds. */
  hashes: string[];
}

/** Every readable index in `dir` with the blobs its pack holds (for the blob collector, gc.ts). */
export function listPacks(dir: string): PackListing[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: PackListing[] = [];
  for (const name of names) {
    if (!name.endsWith('.idx')) continue;
    const index = path.join(dir, name);
    const loaded = readIndex(index, path.join(dir, `${name.slice(0, -4)}.pack`));
    if (!loaded) continue;
    const hashes: string[] = [];
    for (let i = 0; i < loaded.count; i++) hashes.push(loaded.table.toString('hex', HEADER + i * ENTRY, HEADER + i * ENTRY + 32));
    out.push({ pack: loaded.file, index, hashes });
  }
  return out;
}

function readIndex(indexFile: string, packFile: string): LoadedIndex | undefined {
  try {
    const table = readFileSync(indexFile);
    if (table.length < HEADER || !table.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const count = table.readUInt32BE(MAGIC.length);
    if (table.length !== HEADER + count * ENTRY) return undefined;
    return { file: packFile, table, count };
  } catch {
    return undefined;
  }
}

function encodeIndex(entries: ReadonlyArray<readonly [string, number, number]>): Buffer {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const table = Buffer.alloc(HEADER + sorted.length * ENTRY);
  MAGIC.copy(table, 0);
  table.writeUInt32BE(sorted.length, MAGIC.length);
  sorted.forEach(([hash, offset, size], i) => {
    const at = HEADER + i * ENTRY;
    table.write(hash, at, 32, 'hex');
    table.writeBigUInt64BE(BigInt(offset), at + 32);
    table.writeBigUInt64BE(BigInt(size), at + 40);
  });
  return table;
}

/**
 * Writes one pack. Blobs are appended with synchronous writes (the caller
 * already holds each one in memory); nothing is visible until `finish`.
 */
export class PackWriter {
  private readonly id = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  private readonly temp: string;
  private fd: number | undefined;
  private offset = 0;
  private readonly entries: Array<[string, number, number]> = [];
  private readonly added = new Set<string>();

  constructor(private readonly dir: string) {
    this.temp = path.join(dir, `${this.id}.pack.tmp`);
  }

  get count(): number {
    return this.entries.length;
  }

  has(hash: string): boolean {
    return this.added.has(hash);
  }

  add(hash: string, data: Buffer): void {
    if (this.added.has(hash)) return;
    this.fd ??= openSync(this.temp, 'wx', 0o444);
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done);
    this.entries.push([hash, this.offset, data.length]);
    this.added.add(hash);
    this.offset += data.length;
  }

  /** Syncs the pack, moves it into place and publishes its index. No-op for an empty pack. */
  finish(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
    renameSync(this.temp, path.join(this.dir, `${this.id}.pack`));
    const index = path.join(this.dir, `${this.id}.idx`);
    const temp = `${index}.tmp`;
    const fd = openSync(temp, 'wx', 0o444);
    try {
      const table = encodeIndex(this.entries);
      let done = 0;
      while (done < table.length) done += writeSync(fd, table, done, table.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, index);
    syncDirSync(this.dir);
  }

  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    try {
      unlinkSync(this.temp);
    } catch {
      // never created
    }
  }
}
