/**
 * ContainerFiles over the supervisor channel plus the Engine's archive API.
 *
 * - `putTar`: one putArchive into /workspace; every header's owner is
 *   rewritten on the fly to the supervisor's uid/gid (tar-owner.ts), so files
 *   belong to the sandbox user. Directories that are not in the archive but
 *   must be created for it are created by the Engine as root: producers should
 *   list directories. Files written this way show up in the next drain like
 *   any change; drain after a copy-in to start counting from it.
 * - `drainChanges`: the supervisor's inotify tracker. `overflow` is also true
 *   on the first drain of this object and whenever a different supervisor
 *   answers than last time: changes made while no tracker ran (before the
 *   supervisor started, or between a supervisor's death and its replacement)
 *   cannot be known, so the caller must compare with `listAll`.
 * - `drainChanges` with `read`: the supervisor snapshots up to 64 changed
 *   paths in the same answer (see READ_WITH_DRAIN).
 * - `readFiles`: content travels base64 in JSON. Paths go in batches; a file
 *   over 4 MiB (or past a 16 MiB budget per batch) is fetched in chunks of
 *   `chunkBytes` with `readChunk`, so no message grows past a few MB.
 * - Calls whose channel ended while the container is still there are retried
 *   once over a fresh supervisor (all of these ops are idempotent).
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import type { DockerEngine } from '../docker/engine.ts';
import type { ContainerFiles, DrainedChanges, DrainOptions, FileSnapshot, ListedEntry } from '../container-files.ts';
import { SandboxChannelError, SupervisorOpError } from './errors.ts';
import { withChannelRetry, type ChannelSource } from './link.ts';
import type { OpParams, OpResult } from './protocol.ts';
import { reownTar } from './tar-owner.ts';

/**
 * A drain with `read` carries the files' content when at most this many paths
 * changed: a checkpoint after a small step is one round trip. Files past
 * inlineMax come back chunked and are fetched separately.
 */
const READ_WITH_DRAIN = { maxPaths: 64, inlineMax: 1024 * 1024, budget: 4 * 1024 * 1024 };

export interface ChannelContainerFilesOptions {
  /** Where the workspace is in the container. Default /workspace. */
  workspace?: string;
  /** Paths per readFiles / deletePaths request. Default 500. */
  batchSize?: number;
  /** Bytes per readChunk request for large files. Default 4 MiB. */
  chunkBytes?: number;
}

type WireFile = OpResult<'readFiles'>['files'][number];

export class ChannelContainerFiles implements ContainerFiles {
  private readonly workspace: string;
  private readonly batchSize: number;
  private readonly chunkBytes: number;
  /** Pid of the supervisor that answered the previous drain. */
  private lastDrainPid: number | undefined;

  constructor(
    private readonly engine: DockerEngine,
    private readonly containerId: string,
    private readonly source: ChannelSource,
    options: ChannelContainerFilesOptions = {},
  ) {
    this.workspace = options.workspace ?? '/workspace';
    this.batchSize = options.batchSize ?? 500;
    this.chunkBytes = options.chunkBytes ?? 4 * 1024 * 1024;
  }

  async putTar(tar: Readable, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const client = await this.source.client();
    const owner = client.info;
    if (owner === undefined) throw new SandboxChannelError('protocol', 'The supervisor did not report its user.');
    const owned = reownTar(owner.uid, owner.gid);
    const failed = new Promise<never>((_, reject) => {
      pipeline(tar, owned, (err) => {
        if (err) reject(err);
      });
      signal.addEventListener('abort', () => owned.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted')), { once: true });
    });
    failed.catch(() => {});
    await Promise.race([this.engine.putArchive(this.containerId, this.workspace, owned), failed]);
  }

  async drainChanges(signal: AbortSignal, options: DrainOptions = {}): Promise<DrainedChanges> {
    const params: OpParams['changes'] = {};
    if (options.discard) params.discard = true;
    else if (options.read) params.read = { maxPaths: READ_WITH_DRAIN.maxPaths, inlineMax: READ_WITH_DRAIN.inlineMax, budget: READ_WITH_DRAIN.budget };
    const { result, pid } = await withChannelRetry(this.source, async (c) => ({ result: await c.call('changes', params, { signal }), pid: c.info?.pid }));
    const sameTracker = pid !== undefined && pid === this.lastDrainPid;
    this.lastDrainPid = pid;
    const overflow = result.overflow || !sameTracker;
    if (overflow || result.files === undefined) return { paths: result.paths, overflow };
    const files: FileSnapshot[] = [];
    for (const f of result.files) files.push(await this.snapshot(f, signal));
    return { paths: result.paths, overflow, files };
  }

  async readFiles(paths: string[], signal: AbortSignal): Promise<FileSnapshot[]> {
    const out: FileSnapshot[] = [];
    for (let i = 0; i < paths.length; i += this.batchSize) {
      const batch = paths.slice(i, i + this.batchSize);
      const { files } = await withChannelRetry(this.source, (c) => c.call('readFiles', { paths: batch }, { signal }));
      for (const f of files) out.push(await this.snapshot(f, signal));
    }
    return out;
  }

  async listAll(signal: AbortSignal): Promise<ListedEntry[]> {
    const { entries } = await withChannelRetry(this.source, (c) => c.call('listAll', {}, { signal }));
    return entries;
  }

  async deletePaths(paths: string[], signal: AbortSignal): Promise<void> {
    for (let i = 0; i < paths.length; i += this.batchSize) {
      const batch = paths.slice(i, i + this.batchSize);
      await withChannelRetry(this.source, (c) => c.call('deletePaths', { paths: batch }, { signal }));
    }
  }

  async clear(signal: AbortSignal): Promise<void> {
    await withChannelRetry(this.source, (c) => c.call('clear', {}, { signal }));
  }

  private async snapshot(f: WireFile, signal: AbortSignal): Promise<FileSnapshot> {
    const base = { path: f.path, kind: f.kind, mode: f.mode };
    if (f.kind === 'symlink') return { ...base, linkTarget: f.linkTarget ?? '' };
    if (f.kind !== 'file') return base;
    if (!f.chunked) return { ...base, content: Buffer.from(f.content ?? '', 'base64') };
    const content = await this.readChunked(f.path, signal);
    return content === null ? { path: f.path, kind: 'missing', mode: 0 } : { ...base, content };
  }

  /** The file's bytes in chunks; null when it disappeared meanwhile. */
  private async readChunked(path: string, signal: AbortSignal): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      let chunk: OpResult<'readChunk'>;
      try {
        chunk = await withChannelRetry(this.source, (c) => c.call('readChunk', { path, offset, length: this.chunkBytes }, { signal }));
      } catch (e) {
        if (e instanceof SupervisorOpError && e.code === 'not_found') return null;
        throw e;
      }
      const buf = Buffer.from(chunk.content, 'base64');
      parts.push(buf);
      offset += buf.length;
      if (chunk.eof || buf.length === 0) return Buffer.concat(parts);
    }
  }

}
