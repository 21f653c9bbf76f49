/**
 * Typed failures of the durable store (`.crewbox/`). Callers branch on `code`,
 * never on the message; the message is a sentence meant for the user.
 */

export type StoreErrorCode =
  /** The path does not exist. */
  | 'not_found'
  /** The file exists but cannot be read (permissions, is a directory, I/O error). */
  | 'unreadable'
  /** A write, sync or rename failed; the file is unchanged as far as we can tell. */
  | 'write_failed'
  /** A failed append left bytes we could not take back; the log refuses further appends. */
  | 'log_broken'
  | 'log_closed'
  /** An event did not match the schema (or broke the log's ordering rules). */
  | 'invalid_event'
  /** Ephemeral events (token deltas, tool output chunks) are never persisted. */
  | 'ephemeral_event'
  /** The log file belongs to another run than the one asked for. */
  | 'run_mismatch'
  | 'invalid_run_id'
  | 'invalid_entry'
  /** A run log without a single event cannot be summarised. */
  | 'empty_run'
  /** Another live process is driving this run. */
  | 'run_locked'
  /** A cross-process lock could not be taken in time. */
  | 'lock_timeout'
  /** Someone else removed or replaced a lock we were holding. */
  | 'lock_compromised';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  readonly path: string | undefined;

  constructor(code: StoreErrorCode, message: string, opts: { path?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.path = opts.path;
  }
}

export function isStoreError(e: unknown): e is StoreError {
  return e instanceof StoreError;
}

/** The errno code of a Node system error (`ENOENT`, `EACCES`...), if any. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent path is not a directory',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENOSPC: 'the disk is full',
  EROFS: 'the file system is read-only',
  EDQUOT: 'the disk quota is exceeded',
};

function reasonOf(e: unknown): string {
  const code = errnoCode(e);
  if (code === undefined) return e instanceof Error ? e.message : String(e);
  return `${REASONS[code] ?? 'an unexpected error'} (${code})`;
}

/** Maps a file-system failure while reading `path` to a StoreError. */
export function readError(path: string, what: string, e: unknown): StoreError {
  if (errnoCode(e) === 'ENOENT') return new StoreError('not_found', `The ${what} ${path} does not exist.`, { path, cause: e });
  return new StoreError('unreadable', `Cannot read the ${what} ${path}: ${reasonOf(e)}.`, { path, cause: e });
}

/** Maps a file-system failure while writing `path` to a StoreError. */
export function writeError(path: string, what: string, e: unknown): StoreError {
  return new StoreError('write_failed', `Cannot write the ${what} ${path}: ${reasonOf(e)}.`, { path, cause: e });
}
