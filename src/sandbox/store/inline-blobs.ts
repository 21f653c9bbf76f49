/**
 * Blobs carried inside a run's checkpoint log, so that a step's new contents
 * and the delta that names them become durable with one write and one
 * fdatasync (storing them as loose blobs first costs three sequential syncs:
 * the files, their renames, their directories).
 *
 * In checkpoints.jsonl, a delta line may be preceded by blob lines, written
 * with it in one write:
 *
 *   {"blob":"<sha256 hex>","data":"<base64>"}
 *
 * Contract:
 * - Blob lines belong to the delta line that follows them; blob lines with no
 *   delta line after them are a torn append and are cut off with it.
 * - A blob line's bytes are checked against its hash when read, not when the
 *   log is loaded (loading a long run's log must not decode its contents).
 * - Only small contents go inline (InlineBlobs budget); the rest are stored
 *   as blobs before the delta line is written, as before.
 * - Inline blobs serve the run whose log holds them and runs reading that
 *   log; a new run's snapshot never depends on them (BlobStore.has counts
 *   objects/ only). A rewritten log (fork, truncation) has none: the blobs its
 *   kept deltas name are stored in objects/ first.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { sha256 } from './manifest.ts';

/** Where a blob's base64 text sits in a checkpoint log. */
export interface InlineLocation {
  file: string;
  /** Byte offset of the base64 text. */
  offset: number;
  /** Length of the base64 text in bytes. */
  length: number;
}

const PREFIX = Buffer.from('{"blob":"', 'latin1');
const MIDDLE = Buffer.from('","data":"', 'latin1');
const SUFFIX = Buffer.from('"}', 'latin1');
const HASH_HEX = 64;
const DATA_AT = PREFIX.length + HASH_HEX + MIDDLE.length;

/** The blob line for `data` (with its newline). */
export function blobLine(hash: string, data: Buffer): string {
  return `{"blob":"${hash}","data":"${data.toString('base64')}"}\n`;
}

/** Offset of the base64 text within a line written by blobLine. */
export const BLOB_DATA_OFFSET = DATA_AT;

/**
 * The blob line in `bytes[start, end)` (without its newline): its hash and
 * where its data is; undefined when the line is not a blob line.
 */
export function parseBlobLine(bytes: Buffer, start: number, end: number): { hash: string; offset: number; length: number } | undefined {
  if (end - start < DATA_AT + SUFFIX.length) return undefined;
  if (bytes.compare(PREFIX, 0, PREFIX.length, start, start + PREFIX.length) !== 0) return undefined;
  const hashAt = start + PREFIX.length;
  if (bytes.compare(MIDDLE, 0, MIDDLE.length, hashAt + HASH_HEX, hashAt + HASH_HEX + MIDDLE.length) !== 0) return undefined;
  if (bytes.compare(SUFFIX, 0, SUFFIX.length, end - SUFFIX.length, end) !== 0) return undefined;
  const hash = bytes.toString('latin1', hashAt, hashAt + HASH_HEX);
  if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
  const length = end - SUFFIX.length - (start + DATA_AT);
  if (length % 4 !== 0) return undefined;
  return { hash, offset: start + DATA_AT, length };
}

/** Thrown when an inline blob's bytes are not what its hash says (or cannot be read). */
export class InlineBlobError extends Error {}

/** The blob's bytes, checked against its hash. */
export function readInline(location: InlineLocation, hash: string): Buffer {
  const text = Buffer.alloc(location.length);
  let fd: number;
  try {
    fd = openSync(location.file, 'r');
  } catch (e) {
    throw new InlineBlobError(`cannot open ${location.file}: ${(e as Error).message}`);
  }
  try {
    let done = 0;
    while (done < text.length) {
      const n = readSync(fd, text, done, text.length - done, location.offset + done);
      if (n === 0) break;
      done += n;
    }
    if (done < text.length) throw new InlineBlobError(`${location.file} ends inside blob ${hash}`);
  } finally {
    closeSync(fd);
  }
  const data = Buffer.from(text.toString('latin1'), 'base64');
  if (sha256(data) !== hash) throw new InlineBlobError(`blob ${hash} in ${location.file} does not match its hash`);
  return data;
}

/** Where checkpoint logs hold blobs, as one BlobStore learned it (the same content may be in several runs' logs). */
export class InlineIndex {
  private readonly places = new Map<string, InlineLocation[]>();

  add(hash: string, location: InlineLocation): void {
    const known = this.places.get(hash);
    if (!known) this.places.set(hash, [location]);
    else if (!known.some((l) => l.file === location.file && l.offset === location.offset)) known.push(location);
  }

  /** Forgets the places in a log that was rewritten (their offsets no longer hold). */
  forget(file: string): void {
    for (const [hash, locations] of this.places) {
      const kept = locations.filter((l) => l.file !== file);
      if (kept.length === 0) this.places.delete(hash);
      else if (kept.length < locations.length) this.places.set(hash, kept);
    }
  }

  has(hash: string): boolean {
    return this.places.has(hash);
  }

  get(hash: string): InlineLocation[] | undefined {
    return this.places.get(hash);
  }
}

/** The blob's bytes from the first of its places that holds them, checked; InlineBlobError when none does. */
export function readFirstInline(hash: string, locations: readonly InlineLocation[]): Buffer {
  let failure: InlineBlobError | undefined;
  for (const location of locations) {
    try {
      return readInline(location, hash);
    } catch (e) {
      if (!(e instanceof InlineBlobError)) throw e;
      failure ??= e;
    }
  }
  throw failure ?? new InlineBlobError(`no copy of blob ${hash}`);
}

export interface InlineLimits {
  /** Largest content carried inline. */
  maxBlobBytes: number;
  /** Most content bytes carried inline by one delta. */
  maxTotalBytes: number;
}

export const DEFAULT_INLINE_LIMITS: InlineLimits = { maxBlobBytes: 256 * 1024, maxTotalBytes: 2 * 1024 * 1024 };

/** The new contents one checkpoint carries in its delta line, within a budget. */
export class InlineBlobs {
  private readonly held = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly limits: InlineLimits = DEFAULT_INLINE_LIMITS) {}

  /** Holds `data` when it fits the budget (true); false: the caller stores it as a blob. */
  offer(hash: string, data: Buffer): boolean {
    if (this.held.has(hash)) return true;
    if (data.length > this.limits.maxBlobBytes || this.bytes + data.length > this.limits.maxTotalBytes) return false;
    this.held.set(hash, data);
    this.bytes += data.length;
    return true;
  }

  get entries(): ReadonlyMap<string, Buffer> {
    return this.held;
  }
}
