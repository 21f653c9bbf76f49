/**
 * Cross-process locks under `.crewbox/`. The only module that imports
 * proper-lockfile.
 *
 * Two kinds:
 * - `withFileLock`: a short critical section (read-modify-write of the run
 *   index). proper-lockfile's mkdir lock, retried for a while; a holder that
 *   died mid-section is detected by its lock's mtime going stale (5 s).
 * - The run lock: held for as long as a process drives a run, possibly hours.
 *   `runs/<id>/run.lock` is a small JSON file naming the holder (pid, host,
 *   random token). Liveness is decided by pid on the same host, so a
 *   `kill -9`'d holder is taken over at once rather than after a timeout; a
 *   holder on another host (a shared network folder) is judged by the lock
 *   file's mtime, which the holder refreshes every `staleMs / 3`. Deciding
 *   and replacing the file happen inside a `withFileLock` guard, so two
 *   processes can never both take over the same dead lock.
 *
 * Known limit: if the OS reuses a dead holder's pid for a new process before
 * anyone takes over, the run reads as locked until that process exits.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { lock } from 'proper-lockfile';
import { StoreError, errnoCode, writeError } from './errors.ts';
import { crewboxPaths, writeFileAtomic } from './layout.ts';

const GUARD_STALE_MS = 5_000;
/**
 * Short, randomised waits (critical sections last milliseconds), and enough
 * of them (about 20 s in all) to outlast a lock left stale by a killed holder.
 */
const GUARD_RETRIES = { retries: 150, factor: 1.2, minTimeout: 10, maxTimeout: 100, randomize: true };
export const DEFAULT_RUN_LOCK_STALE_MS = 30_000;

/**
 * Runs `fn` while holding the mkdir lock `lockPath` (a directory that must
 * not otherwise exist; its parent must). Throws StoreError `lock_timeout` if
 * the lock stays busy, or `lock_compromised` if it was taken from us while
 * `fn` ran (only possible when `fn` outlives the stale threshold).
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lock(lockPath, {
      lockfilePath: lockPath,
      realpath: false,
      stale: GUARD_STALE_MS,
      retries: GUARD_RETRIES,
      onCompromised: (e) => {
        compromised = e;
      },
    });
  } catch (e) {
    if (errnoCode(e) === 'ELOCKED') {
      throw new StoreError('lock_timeout', `Timed out waiting for the lock ${lockPath}; another Crewbox process keeps it busy.`, { path: lockPath, cause: e });
    }
    throw writeError(lockPath, 'lock', e);
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
    if (compromised) {
      // A finally that throws replaces fn's outcome: the caller must not trust it.
      throw new StoreError('lock_compromised', `The lock ${lockPath} was taken over while in use.`, { path: lockPath, cause: compromised });
    }
  }
}

interface Holder {
  pid: number;
  host: string;
  token: string;
  acquiredAt: string;
}

type LockState = { kind: 'free' } | { kind: 'held'; holder: Holder | undefined; mtimeMs: number };

async function readLockState(lockPath: string): Promise<LockState> {
  let mtimeMs: number;
  let text: string;
  try {
    mtimeMs = (await stat(lockPath)).mtimeMs;
    text = await readFile(lockPath, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return { kind: 'free' };
    return { kind: 'held', holder: undefined, mtimeMs: Date.now() };
  }
  return { kind: 'held', holder: parseHolder(text), mtimeMs };
}

function parseHolder(text: string): Holder | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null) return undefined;
    const { pid, host, token, acquiredAt } = v as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof host !== 'string' || typeof token !== 'string' || typeof acquiredAt !== 'string') return undefined;
    return { pid, host, token, acquiredAt };
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return errnoCode(e) !== 'ESRCH';
  }
}

/** An unreadable lock file (or one from another host) is trusted until its mtime goes stale. */
function isLive(state: Extract<LockState, { kind: 'held' }>, staleMs: number): boolean {
  if (state.holder && state.holder.host === hostname()) return pidAlive(state.holder.pid);
  return Date.now() - state.mtimeMs < staleMs;
}

function describeHolder(state: Extract<LockState, { kind: 'held' }>): string {
  const h = state.holder;
  if (!h) return 'a process whose lock file could not be read';
  return h.host === hostname() ? `process ${h.pid} (another window, or a CLI)` : `process ${h.pid} on ${h.host}`;
}

export interface RunLockOptions {
  /** How long a lock from another host (or an unreadable one) stays valid without a heartbeat. */
  staleMs?: number;
  /** Called once if another process removed or replaced our lock; the run must stop driving. */
  onCompromised?: (error: StoreError) => void;
}

export type ReleaseRunLock = () => Promise<void>;

/**
 * Takes the exclusive lock of one run. Throws StoreError `run_locked` when a
 * live process holds it. Release is idempotent and never removes a lock that
 * is no longer ours. A process that exits normally drops its locks; one that
 * is killed leaves a lock the next acquirer takes over (see module doc).
 */
export async function acquireRunLock(workspace: string, runId: string, options: RunLockOptions = {}): Promise<ReleaseRunLock> {
  const staleMs = options.staleMs ?? DEFAULT_RUN_LOCK_STALE_MS;
  const lockPath = crewboxPaths(workspace).runLock(runId);
  await mkdir(path.dirname(lockPath), { recursive: true }).catch((e: unknown) => {
    throw writeError(path.dirname(lockPath), 'run directory', e);
  });
  const holder: Holder = { pid: process.pid, host: hostname(), token: randomUUID(), acquiredAt: new Date().toISOString() };
  await withFileLock(`${lockPath}.guard`, async () => {
    const state = await readLockState(lockPath);
    if (state.kind === 'held' && isLive(state, staleMs)) {
      throw new StoreError('run_locked', `Run ${runId} is being driven by ${describeHolder(state)}.`, { path: lockPath });
    }
    await writeFileAtomic(lockPath, JSON.stringify(holder));
  });

  const held = { lockPath, token: holder.token };
  heldLocks.add(held);
  ensureExitCleanup();
  let released = false;
  const stop = (): void => {
    released = true;
    clearInterval(heartbeat);
    heldLocks.delete(held);
  };
  const heartbeat = setInterval(() => {
    void beat(lockPath, holder.token).then((ours) => {
      if (ours || released) return;
      stop();
      options.onCompromised?.(new StoreError('lock_compromised', `The lock of run ${runId} was removed or taken over by another process.`, { path: lockPath }));
    });
  }, Math.max(1_000, Math.floor(staleMs / 3)));
  heartbeat.unref();

  return async () => {
    if (released) return;
    stop();
    await withFileLock(`${lockPath}.guard`, async () => {
      const state = await readLockState(lockPath);
      if (state.kind === 'held' && state.holder?.token === holder.token) await unlink(lockPath);
    });
  };
}

/** Refreshes the lock's mtime; false when the lock is no longer ours. I/O hiccups count as still ours. */
async function beat(lockPath: string, token: string): Promise<boolean> {
  const state = await readLockState(lockPath);
  if (state.kind === 'free' || (state.holder !== undefined && state.holder.token !== token)) return false;
  const now = new Date();
  await utimes(lockPath, now, now).catch(() => undefined);
  return true;
}

/** Whether a live process (possibly this one) holds the run's lock. */
export async function isRunLocked(workspace: string, runId: string, options: Pick<RunLockOptions, 'staleMs'> = {}): Promise<boolean> {
  const state = await readLockState(crewboxPaths(workspace).runLock(runId));
  return state.kind === 'held' && isLive(state, options.staleMs ?? DEFAULT_RUN_LOCK_STALE_MS);
}

const heldLocks = new Set<{ lockPath: string; token: string }>();
let exitCleanupInstalled = false;

/** On a normal exit, drop our run locks synchronously (a kill leaves them to the pid check). */
function ensureExitCleanup(): void {
  if (exitCleanupInstalled) return;
  exitCleanupInstalled = true;
  process.once('exit', () => {
    for (const { lockPath, token } of heldLocks) {
      try {
        if (parseHolder(readFileSync(lockPath, 'utf8'))?.token === token) unlinkSync(lockPath);
      } catch {
        // Best effort: the next acquirer's pid check covers what we leave behind.
      }
    }
  });
}
