/**
 * Tar streams of manifest entries, read from the blob store, for
 * ContainerFiles.putTar (copy-in, restoring a step, sending a delta). Packing
 * itself is the sandbox's tar adapter (src/sandbox/tar-pack.ts, the one
 * importer of tar-stream); this module decides what goes in.
 *
 * Contract:
 * - Streaming: entries are produced one at a time as the pack asks for
 *   them, blobs read whole up to 1 MB and streamed beyond, so memory stays
 *   flat whatever the tree's size and the consumer's pace rules.
 * - Entries are workspace-relative. Every ancestor directory comes first
 *   (mode 0755), then each entry with its permission bits; symlinks carry
 *   their target.
 * - Every entry carries `mtime` in whole seconds (what survives a tar), so
 *   the caller knows the mtime the extracted files will have.
 * - A missing blob, a blob whose size differs from the manifest, or an abort
 *   fails the stream.
 */
import type { Readable } from 'node:stream';
import type { BlobStore } from '../store/blobs.ts';
import type { ManifestEntry } from '../store/manifest.ts';
import { ancestorsOf } from '../store/store-paths.ts';
import { packTar, type TarEntry } from '../tar-pack.ts';

/** Blobs up to this size are read whole (one synchronous read beats a stream per small file); larger ones stream. */
const BUFFERED_MAX = 1024 * 1024;

export interface PackOptions {
  mtime: Date;
  signal?: AbortSignal;
}

/** Whole-second mtime, as tar stores it. */
export function tarMtime(at: Date = new Date()): Date {
  return new Date(Math.floor(at.getTime() / 1000) * 1000);
}

export function packEntries(entries: ReadonlyArray<readonly [string, ManifestEntry]>, blobs: BlobStore, opts: PackOptions): Readable {
  return packTar(tarEntries(entries, blobs, tarMtime(opts.mtime), opts.signal));
}

function* tarEntries(entries: ReadonlyArray<readonly [string, ManifestEntry]>, blobs: BlobStore, mtime: Date, signal: AbortSignal | undefined): Generator<TarEntry> {
  const dirs = new Set<string>();
  for (const [p] of entries) for (const d of ancestorsOf(p)) dirs.add(d);
  for (const dir of [...dirs].sort()) yield { type: 'directory', name: dir, mode: 0o755, mtime };
  for (const [name, entry] of entries) {
    signal?.throwIfAborted();
    if (entry.kind === 'symlink') {
      yield { type: 'symlink', name, target: entry.linkTarget, mtime };
    } else if (entry.size <= BUFFERED_MAX) {
      const content = blobs.readSync(entry.hash);
      if (content.length !== entry.size) throw new Error(`The blob of ${name} has ${content.length} bytes where ${entry.size} were recorded.`);
      yield { type: 'file', name, mode: entry.mode, size: entry.size, content, mtime };
    } else {
      yield { type: 'file', name, mode: entry.mode, size: entry.size, content: () => blobs.readStream(entry.hash), mtime };
    }
  }
}
