/**
 * Where Crewbox keeps its data in a workspace, and how files there are made
 * durable.
 *
 *   <workspace>/.crewbox/
 *     index.json                 run index (small; see run-index.ts)
 *     index.json.lock/           cross-process lock of the index (transient)
 *     runs/<runId>/events.jsonl  append-only run log (see event-log.ts)
 *     runs/<runId>/run.lock      owner of a live run (see locks.ts)
 *
 * `.crewbox/` is kept out of git by a line in the repository's
 * `info/exclude`; the user's `.gitignore` is never touched.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { appendFile, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { StoreError, errnoCode, writeError } from './errors.ts';

export const CREWBOX_DIR = '.crewbox';

export interface CrewboxPaths {
  readonly workspace: string;
  readonly root: string;
  readonly index: string;
  readonly runsDir: string;
  runDir(runId: string): string;
  runEvents(runId: string): string;
  runLock(runId: string): string;
}

/** Run ids become directory names, so they are restricted to a portable, traversal-free alphabet. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function assertRunId(runId: string): void {
  if (!RUN_ID.test(runId) || runId.includes('..')) {
    throw new StoreError('invalid_run_id', `"${runId}" is not a valid run id (letters, digits, ".", "_" and "-"; at most 128 characters).`);
  }
}

export function crewboxPaths(workspace: string): CrewboxPaths {
  const ws = path.resolve(workspace);
  const root = path.join(ws, CREWBOX_DIR);
  const runsDir = path.join(root, 'runs');
  const runDir = (runId: string): string => {
    assertRunId(runId);
    return path.join(runsDir, runId);
  };
  return {
    workspace: ws,
    root,
    index: path.join(root, 'index.json'),
    runsDir,
    runDir,
    runEvents: (runId) => path.join(runDir(runId), 'events.jsonl'),
    runLock: (runId) => path.join(runDir(runId), 'run.lock'),
  };
}

export type GitExcludeStatus =
  | { status: 'added'; file: string }
  | { status: 'present'; file: string }
  | { status: 'no_repo' }
  /** Not fatal: runs still work, but `.crewbox/` may show up in `git status`. */
  | { status: 'failed'; file: string; error: StoreError };

/**
 * Creates `.crewbox/runs/` and makes sure git ignores `.crewbox/`. Idempotent.
 * Two processes racing here may both append the exclude line; a duplicate
 * line is harmless, and appends never clobber each other.
 */
export async function ensureCrewboxDir(workspace: string): Promise<{ paths: CrewboxPaths; gitExclude: GitExcludeStatus }> {
  const paths = crewboxPaths(workspace);
  try {
    await mkdir(paths.runsDir, { recursive: true });
  } catch (e) {
    throw writeError(paths.runsDir, 'Crewbox directory', e);
  }
  return { paths, gitExclude: await excludeFromGit(paths.workspace) };
}

async function excludeFromGit(workspace: string): Promise<GitExcludeStatus> {
  const repo = await findRepository(workspace);
  if (!repo) return { status: 'no_repo' };
  const file = path.join(repo.commonDir, 'info', 'exclude');
  try {
    const existing = await readFile(file, 'utf8').catch((e: unknown) => {
      if (errnoCode(e) === 'ENOENT') return '';
      throw e;
    });
    const atRoot = repo.worktree === workspace;
    if (existing.split(/\r?\n/).some((line) => excludesCrewbox(line.trim(), atRoot))) return { status: 'present', file };
    await mkdir(path.dirname(file), { recursive: true });
    const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
    await appendFile(file, `${separator}# Crewbox run data (agent logs, index)\n${CREWBOX_DIR}/\n`, 'utf8');
    return { status: 'added', file };
  } catch (e) {
    return { status: 'failed', file, error: writeError(file, 'git exclude file', e) };
  }
}

/** An unanchored pattern excludes `.crewbox` at any depth; an anchored one only at the repository root. */
function excludesCrewbox(line: string, workspaceIsRepoRoot: boolean): boolean {
  if (line === CREWBOX_DIR || line === `${CREWBOX_DIR}/`) return true;
  return workspaceIsRepoRoot && (line === `/${CREWBOX_DIR}` || line === `/${CREWBOX_DIR}/`);
}

/**
 * The enclosing repository, without a git binary: the nearest `.git` walking
 * up from `start`. `.git` is either the git directory or a file
 * `gitdir: <path>` (worktrees, submodules); a worktree's git directory holds a
 * `commondir` file naming the shared directory where `info/exclude` lives.
 */
export async function findRepository(start: string): Promise<{ worktree: string; gitDir: string; commonDir: string } | undefined> {
  let dir = path.resolve(start);
  for (;;) {
    const dotGit = path.join(dir, '.git');
    const info = await stat(dotGit).catch(() => undefined);
    if (info?.isDirectory()) return { worktree: dir, gitDir: dotGit, commonDir: dotGit };
    if (info?.isFile()) {
      // A `.git` file marks the repository boundary even when its pointer is broken (a pruned worktree):
      // then there is no git directory to write into, and nothing above it applies.
      const gitDir = await readPointer(dotGit, /^gitdir:\s*(.+)$/m, dir);
      if (!gitDir || !(await isDirectory(gitDir))) return undefined;
      const common = await readPointer(path.join(gitDir, 'commondir'), /^(.+)$/m, gitDir);
      const commonDir = common && (await isDirectory(common)) ? common : gitDir;
      return { worktree: dir, gitDir, commonDir };
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Reads a one-line path pointer file; relative targets resolve against `base`. */
async function readPointer(file: string, pattern: RegExp, base: string): Promise<string | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const target = text?.match(pattern)?.[1]?.trim();
  return target ? path.resolve(base, target) : undefined;
}

/**
 * Makes a directory entry (a created, renamed or removed file) durable.
 * Windows cannot open directories for syncing; there, NTFS metadata journaling
 * is all we get, so the failure is ignored.
 */
export function syncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    if (process.platform !== 'win32') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const RENAME_RETRY_CODES = new Set(['EPERM', 'EACCES', 'EBUSY']);

/**
 * Replaces `file` with `data` atomically and durably: a uniquely named temp
 * file (so concurrent writers never share one) is written and synced, renamed
 * over `file`, and the directory is synced. Readers see the old or the new
 * content, never a mix. On Windows a reader holding the file open makes rename
 * fail briefly with EPERM/EBUSY, hence the short retry.
 */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await rename(temp, file);
        break;
      } catch (e) {
        if (attempt >= 9 || !RENAME_RETRY_CODES.has(errnoCode(e) ?? '')) throw e;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    syncDirSync(dir);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw writeError(file, 'file', e);
  }
}
