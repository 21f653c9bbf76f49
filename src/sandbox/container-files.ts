/**
 * Bulk file access to the container's /workspace, as the checkpoint store and
 * workspace sync need it. Implemented over the supervisor channel plus the
 * engine's archive API (src/sandbox/channel/), and by a local-directory double
 * in tests. Paths are POSIX, relative to /workspace, never escaping it.
 *
 * Contract:
 * - `putTar` extracts a tar stream into /workspace in one transfer (entries are
 *   workspace-relative; modes in the headers are kept; owner becomes the
 *   sandbox user).
 * - `drainChanges` returns the paths created, modified or deleted (files,
 *   symlinks, and directories that were removed) since the previous drain,
 *   found without hashing or walking the tree (inotify in the supervisor).
 *   `overflow: true` means the tracker lost events (queue overflow, watch
 *   limit): the caller must fall back to `listAll` and compare. With
 *   `discard`, the paths are forgotten rather than returned (`paths` is
 *   empty): for the events of the caller's own copy-in, which can name the
 *   whole tree. With `read`, the answer may also carry a snapshot of every
 *   changed path (as `readFiles`, taken after the drain) so a small step costs
 *   one round trip; an implementation declines (no `files`) when many paths
 *   changed or on overflow.
 * - `readFiles` snapshots the given paths: content for regular files, the
 *   link target for symlinks, `missing` for paths that no longer exist.
 * - `listAll` walks the whole tree (fallback and verification), with mode,
 *   size and mtime; no content.
 * - `deletePaths` removes files/symlinks/dirs (recursive); absent paths are fine.
 * - `clear` empties /workspace (keeps the directory itself).
 */
import type { Readable } from 'node:stream';

export type FileKind = 'file' | 'symlink' | 'dir' | 'missing';

export interface FileSnapshot {
  path: string;
  kind: FileKind;
  /** Permission bits (e.g. 0o755); 0 for missing. */
  mode: number;
  /** Regular files: the bytes. */
  content?: Buffer;
  /** Symlinks: the target as stored. */
  linkTarget?: string;
}

export interface ListedEntry {
  path: string;
  kind: Exclude<FileKind, 'missing'>;
  mode: number;
  size: number;
  mtimeMs: number;
}

export interface DrainOptions {
  /** Forget the paths instead of returning them. */
  discard?: boolean;
  /** Also snapshot the changed paths, as readFiles would, when there are few (an implementation may decline). */
  read?: boolean;
}

export interface DrainedChanges {
  paths: string[];
  overflow: boolean;
  /** With `read`: a snapshot of every path in `paths`, taken after the drain. */
  files?: FileSnapshot[];
}

export interface ContainerFiles {
  putTar(tar: Readable, signal: AbortSignal): Promise<void>;
  drainChanges(signal: AbortSignal, options?: DrainOptions): Promise<DrainedChanges>;
  readFiles(paths: string[], signal: AbortSignal): Promise<FileSnapshot[]>;
  listAll(signal: AbortSignal): Promise<ListedEntry[]>;
  deletePaths(paths: string[], signal: AbortSignal): Promise<void>;
  clear(signal: AbortSignal): Promise<void>;
}
