/**
 * Per-run file history: a base and an append-only list of deltas.
 *
 *   runs/<runId>/base.json          {"v":1,"snapshot":"<hash>"} → snapshots/<hash>.json
 *   runs/<runId>/checkpoints.jsonl  {"step":N,"seq":K,"changes":[{path,hash,mode,size}|{path,linkTarget,mode}|{path,deleted:true}]}
 *                                   each delta line perhaps preceded by blob lines holding
 *                                   small new contents it names (inline-blobs.ts)
 *
 * Contract:
 * - State after step N = the base snapshot + every delta with step ≤ N, in
 *   file order (seq increases by one per line).
 * - A delta line is durable (write + fdatasync) when `append` returns, with
 *   the inline blobs written in the same write; any other blob it names must
 *   be durable before (BlobStore 'sync' or flush()). One sync per step.
 * - A torn tail (a crash mid-append: blob lines without their delta line, a
 *   cut or unreadable last line) is ignored on read and cut off before the
 *   next append; a malformed line anywhere else is corruption.
 * - The store's BlobStore (`blobs`) learns where the inline blobs of every
 *   log it loads or appends are: read blobs through it.
 * - base.json is written last when a run is created or forked, so its
 *   presence means the run's records are complete.
 * - Snapshots are shared: runs over an unchanged workspace name the same file.
 */
import { open, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { fstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { StoreError, errnoCode, readError, writeError } from '../../core/store/errors.ts';
import { syncDirSync, writeFileAtomic } from '../../core/store/layout.ts';
import { ManifestFormatError, applyChanges, fromStoredChange, lookupEntries, parseManifest, serializeManifest, sha256, toStoredChange, type Manifest, type ManifestChange } from './manifest.ts';
import { isHash, sandboxStorePaths, type SandboxStorePaths } from './store-paths.ts';
import { BlobStore } from './blobs.ts';
import { BLOB_DATA_OFFSET, blobLine, parseBlobLine } from './inline-blobs.ts';

export interface Delta {
  step: number;
  seq: number;
  changes: ManifestChange[];
}

export interface RunState {
  manifest: Manifest;
  snapshot: string;
  /** Seq of the last delta included (0: none). */
  seq: number;
  /** Step of the last delta included (0: none). */
  step: number;
}

interface BaseRecord {
  v: 1;
  snapshot: string;
  forkOf?: { runId: string; step: number };
}

const SNAPSHOT_CACHE_SIZE = 2;
/** Past this length a run's log takes no more inline blobs (it is read whole whenever the run's state is rebuilt). */
const MAX_INLINE_LOG_BYTES = 64 * 1024 * 1024;

export class CheckpointStore {
  readonly paths: SandboxStorePaths;
  /** Where the blobs the records name are read from (it learns the logs' inline blobs). */
  readonly blobs: BlobStore;
  /** Parsed snapshots, most recent last; entries are shared, maps are copied on the way out. */
  private readonly snapshotCache = new Map<string, Manifest>();
  /** Per run with a known log: the next seq and the log's length (where the next append lands). */
  private readonly tails = new Map<string, { seq: number; bytes: number }>();

  private readonly maxInlineLogBytes: number;

  constructor(workspace: string, blobs?: BlobStore, options: { maxInlineLogBytes?: number } = {}) {
    this.paths = sandboxStorePaths(workspace);
    this.blobs = blobs ?? new BlobStore(this.paths.objects);
    this.maxInlineLogBytes = options.maxInlineLogBytes ?? MAX_INLINE_LOG_BYTES;
  }

  /** Stores a full manifest as a shared snapshot; returns its hash. */
  async writeSnapshot(manifest: Manifest): Promise<string> {
    const text = serializeManifest(manifest);
    const hash = sha256(text);
    const file = this.paths.snapshot(hash);
    const exists = await readFile(file, 'utf8').then(
      (t) => t === text,
      () => false,
    );
    if (!exists) {
      mkdirSync(this.paths.snapshots, { recursive: true });
      await writeFileAtomic(file, text);
    }
    this.cacheSnapshot(hash, new Map(manifest));
    return hash;
  }

  async readSnapshot(hash: string): Promise<Manifest> {
    const cached = this.snapshotCache.get(hash);
    if (cached) return new Map(cached);
    const file = this.paths.snapshot(hash);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw readError(file, 'workspace snapshot', e);
    }
    if (sha256(text) !== hash) throw new StoreError('invalid_entry', `The workspace snapshot ${file} is damaged (its content does not match its name).`, { path: file });
    const manifest = parseOrThrow(text, file);
    this.cacheSnapshot(hash, manifest);
    return new Map(manifest);
  }

  /**
   * Some entries of a snapshot without parsing all of it (see lookupEntries).
   * Unlike readSnapshot, the whole text is not re-hashed: a damaged entry
   * among those asked for shows up as a blob that cannot be found.
   */
  async readSnapshotEntries(hash: string, paths: Iterable<string>): Promise<Manifest> {
    const cached = this.snapshotCache.get(hash);
    if (cached) {
      const picked: Manifest = new Map();
      for (const p of paths) {
        const e = cached.get(p);
        if (e) picked.set(p, e);
      }
      return picked;
    }
    const file = this.paths.snapshot(hash);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw readError(file, 'workspace snapshot', e);
    }
    try {
      return lookupEntries(bytes, paths);
    } catch (e) {
      if (e instanceof ManifestFormatError) throw new StoreError('invalid_entry', `The workspace snapshot ${file} is malformed: ${e.message}.`, { path: file, cause: e });
      throw e;
    }
  }

  /**
   * What a run changed up to `step`, as two partial manifests over the paths
   * its deltas touched: their base entries and their entries after the step.
   * Paths no delta touched are unchanged and left out, so the cost follows
   * the change, not the workspace.
   */
  async touchedAt(runId: string, step = Number.POSITIVE_INFINITY): Promise<{ base: Manifest; latest: Manifest }> {
    const { snapshot } = await this.readBase(runId);
    const overlay = new Map<string, ManifestChange>();
    for (const delta of await this.readDeltas(runId)) {
      if (delta.step > step) continue;
      for (const c of delta.changes) overlay.set(c.path, c);
    }
    const base = await this.readSnapshotEntries(snapshot, overlay.keys());
    const latest: Manifest = new Map(base);
    applyChanges(latest, [...overlay.values()]);
    return { base, latest };
  }

  async hasRun(runId: string): Promise<boolean> {
    return readFile(this.paths.runBase(runId)).then(
      () => true,
      (e: unknown) => {
        if (errnoCode(e) === 'ENOENT') return false;
        throw readError(this.paths.runBase(runId), 'run base', e);
      },
    );
  }

  async createRun(runId: string, snapshot: string, forkOf?: { runId: string; step: number }): Promise<void> {
    if (!isHash(snapshot)) throw new Error(`Not a snapshot hash: ${snapshot}`);
    mkdirSync(this.paths.runDir(runId), { recursive: true });
    const record: BaseRecord = forkOf ? { v: 1, snapshot, forkOf } : { v: 1, snapshot };
    await writeFileAtomic(this.paths.runBase(runId), `${JSON.stringify(record)}\n`);
  }

  async readBase(runId: string): Promise<BaseRecord> {
    const file = this.paths.runBase(runId);
    let data: unknown;
    try {
      data = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      if (e instanceof SyntaxError) throw new StoreError('invalid_entry', `The run base ${file} is not valid JSON.`, { path: file, cause: e });
      throw readError(file, 'run base', e);
    }
    const r = data as Partial<BaseRecord> | null;
    if (r?.v !== 1 || typeof r.snapshot !== 'string' || !isHash(r.snapshot)) throw new StoreError('invalid_entry', `The run base ${file} is malformed.`, { path: file });
    return r as BaseRecord;
  }

  async readDeltas(runId: string): Promise<Delta[]> {
    return (await this.loadLog(runId)).deltas;
  }

  /**
   * Appends one delta (durably) and returns it with its seq. `inline`: new
   * contents written with the delta line (only those a change names are
   * kept); every other blob the changes name must already be durable.
   */
  async append(runId: string, step: number, changes: readonly ManifestChange[], inline?: ReadonlyMap<string, Buffer>): Promise<Delta> {
    const file = this.paths.runCheckpoints(runId);
    const named = new Map<string, Buffer>();
    if (inline && inline.size > 0) {
      for (const c of changes) if (!('deleted' in c) && c.entry.kind === 'file' && inline.has(c.entry.hash)) named.set(c.entry.hash, inline.get(c.entry.hash) as Buffer);
    }
    let handle: FileHandle | undefined;
    let seq = 0;
    let bytes = 0;
    const blobs: Array<{ hash: string; offset: number; length: number }> = [];
    let text = '';
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      handle = await open(file, 'a');
      // The cached end of the log holds only if nobody appended since (another process may have driven the run).
      let tail = this.tails.get(runId);
      if (tail === undefined || tail.bytes !== fstatSync(handle.fd).size) tail = await this.repairTail(runId);
      ({ seq, bytes } = tail);
      if (bytes >= this.maxInlineLogBytes) {
        // A long run's log is read whole to rebuild its state: past this size, new contents go to objects/.
        await this.blobs.putDurably([...named]);
        named.clear();
      }
      for (const [hash, data] of named) {
        const line = blobLine(hash, data);
        blobs.push({ hash, offset: bytes + text.length + BLOB_DATA_OFFSET, length: line.length - BLOB_DATA_OFFSET - 3 });
        text += line; // ASCII: string length is byte length
      }
      text += `${JSON.stringify({ step, seq, changes: changes.map(toStoredChange) })}\n`;
      await handle.write(text);
      await handle.datasync();
      if (seq === 1) syncDirSync(path.dirname(file));
    } catch (e) {
      // The lines may be half written: re-read (and repair) before the next append.
      this.tails.delete(runId);
      throw e instanceof StoreError ? e : writeError(file, 'checkpoint log', e);
    } finally {
      await handle?.close();
    }
    for (const b of blobs) this.blobs.addInline(b.hash, { file, offset: b.offset, length: b.length });
    this.tails.set(runId, { seq: seq + 1, bytes: bytes + Buffer.byteLength(text) });
    return { step, seq, changes: [...changes] };
  }

  /** The log read again, a torn tail cut off: where the next delta goes. */
  private async repairTail(runId: string): Promise<{ seq: number; bytes: number }> {
    const file = this.paths.runCheckpoints(runId);
    const log = await this.loadLog(runId);
    if (log.validBytes < log.totalBytes) {
      try {
        await truncate(file, log.validBytes);
      } catch (e) {
        throw writeError(file, 'checkpoint log', e);
      }
    }
    return { seq: (log.deltas.at(-1)?.seq ?? 0) + 1, bytes: log.validBytes };
  }

  /** The run's files after `step` (default: after its last checkpoint). */
  async stateAt(runId: string, step = Number.POSITIVE_INFINITY): Promise<RunState> {
    const base = await this.readBase(runId);
    const manifest = await this.readSnapshot(base.snapshot);
    let seq = 0;
    let lastStep = 0;
    for (const delta of await this.readDeltas(runId)) {
      if (delta.step > step) continue;
      applyChanges(manifest, delta.changes);
      seq = delta.seq;
      lastStep = delta.step;
    }
    return { manifest, snapshot: base.snapshot, seq, step: lastStep };
  }

  /** Starts `toRun` from `fromRun`'s files at `step`: same base, deltas with step ≤ `step` copied. */
  async forkCheckpoints(fromRun: string, step: number, toRun: string): Promise<void> {
    const base = await this.readBase(fromRun);
    const kept = (await this.readDeltas(fromRun)).filter((d) => d.step <= step);
    mkdirSync(this.paths.runDir(toRun), { recursive: true });
    await this.rewriteLog(toRun, kept);
    await this.createRun(toRun, base.snapshot, { runId: fromRun, step });
  }

  /** Drops deltas recorded after `step` (records the run's log no longer knows of); returns how many. */
  async truncateAfter(runId: string, step: number): Promise<number> {
    const deltas = await this.readDeltas(runId);
    const kept = deltas.filter((d) => d.step <= step);
    if (kept.length === deltas.length) return 0;
    await this.rewriteLog(runId, kept);
    return deltas.length - kept.length;
  }

  /**
   * Writes `deltas` as the run's whole log, renumbered, without inline blobs:
   * the blobs they name that only a log holds are stored in objects/ first.
   */
  private async rewriteLog(runId: string, deltas: readonly Delta[]): Promise<void> {
    const file = this.paths.runCheckpoints(runId);
    const inlined = new Set<string>();
    for (const d of deltas) for (const c of d.changes) if (!('deleted' in c) && c.entry.kind === 'file' && this.blobs.onlyInline(c.entry.hash)) inlined.add(c.entry.hash);
    const contents: Array<readonly [string, Buffer]> = [];
    for (const hash of inlined) contents.push([hash, await this.blobs.read(hash)]);
    await this.blobs.putDurably(contents);
    const renumbered = deltas.map((d, i) => ({ ...d, seq: i + 1 }));
    const text = renumbered.map((d) => JSON.stringify({ step: d.step, seq: d.seq, changes: d.changes.map(toStoredChange) })).join('\n');
    if (renumbered.length === 0) {
      try {
        await unlink(file);
        syncDirSync(path.dirname(file));
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw writeError(file, 'checkpoint log', e);
      }
    } else {
      await writeFileAtomic(file, `${text}\n`);
    }
    this.blobs.forgetInline(file);
    this.tails.set(runId, { seq: renumbered.length + 1, bytes: renumbered.length === 0 ? 0 : Buffer.byteLength(text) + 1 });
  }

  private async loadLog(runId: string): Promise<{ deltas: Delta[]; validBytes: number; totalBytes: number }> {
    const file = this.paths.runCheckpoints(runId);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return { deltas: [], validBytes: 0, totalBytes: 0 };
      throw readError(file, 'checkpoint log', e);
    }
    const lastNewline = bytes.lastIndexOf(0x0a);
    const deltas: Delta[] = [];
    // Blob lines wait for the delta line they belong to; the log is valid up to the last delta line.
    let pending: Array<{ hash: string; offset: number; length: number }> = [];
    let validBytes = 0;
    let line = 0;
    for (let start = 0; start <= lastNewline; ) {
      const end = bytes.indexOf(0x0a, start);
      line++;
      const blob = parseBlobLine(bytes, start, end);
      if (blob) {
        pending.push(blob);
      } else {
        const delta = parseDelta(bytes.toString('utf8', start, end));
        if (!delta) {
          // A complete but unreadable final line is a torn write whose newline made it; anything earlier is damage.
          if (end === lastNewline) break;
          throw new StoreError('invalid_entry', `The checkpoint log ${file} is damaged at line ${line}.`, { path: file });
        }
        deltas.push(delta);
        for (const b of pending) this.blobs.addInline(b.hash, { file, offset: b.offset, length: b.length });
        pending = [];
        validBytes = end + 1;
      }
      start = end + 1;
    }
    return { deltas, validBytes, totalBytes: bytes.length };
  }

  private cacheSnapshot(hash: string, manifest: Manifest): void {
    this.snapshotCache.delete(hash);
    this.snapshotCache.set(hash, manifest);
    while (this.snapshotCache.size > SNAPSHOT_CACHE_SIZE) this.snapshotCache.delete(this.snapshotCache.keys().next().value as string);
  }
}

function parseDelta(line: string): Delta | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = raw as { step?: unknown; seq?: unknown; changes?: unknown } | null;
  if (!r || !Number.isSafeInteger(r.step) || !Number.isSafeInteger(r.seq) || !Array.isArray(r.changes)) return undefined;
  const changes: ManifestChange[] = [];
  for (const c of r.changes as unknown[]) {
    const change = fromStoredChange(c);
    if (!change) return undefined;
    changes.push(change);
  }
  return { step: r.step as number, seq: r.seq as number, changes };
}

function parseOrThrow(text: string, file: string): Manifest {
  try {
    return parseManifest(text);
  } catch (e) {
    if (e instanceof ManifestFormatError) throw new StoreError('invalid_entry', `The workspace snapshot ${file} is malformed: ${e.message}.`, { path: file, cause: e });
    throw e;
  }
}
