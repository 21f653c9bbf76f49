/**
 * Where the sandbox's file records live under `.crewbox/` (beside the run logs
 * of src/core/store/layout.ts), and which workspace paths they may name.
 *
 *   <workspace>/.crewbox/
 *     objects/ab/cdef…            content-addressed blobs (sha256 of the bytes)
 *     snapshots/<hash>.json       a full manifest, named by the hash of its text;
 *                                 runs over an unchanged workspace share one
 *     runs/<runId>/base.json      the run's base: a reference to a snapshot
 *     runs/<runId>/checkpoints.jsonl  append-only deltas, one line per step, with
 *                                 the step's small new contents inline (inline-blobs.ts)
 *     host-index.json             stat cache of the host workspace (no re-hashing)
 *     sandbox-state.json          what the container's /workspace holds
 *     sandbox-dirty.json          paths drained but not yet recorded (crash window)
 *     sandbox-stats.json          size and mtime of the container's files (no re-reading)
 *     gc-state.json               when blobs were last collected, and what went
 */
import path from 'node:path';
import { crewboxPaths } from '../../core/store/layout.ts';

export interface SandboxStorePaths {
  readonly workspace: string;
  readonly root: string;
  readonly objects: string;
  readonly snapshots: string;
  readonly hostIndex: string;
  readonly sandboxState: string;
  readonly sandboxDirty: string;
  readonly sandboxStats: string;
  /** When blobs were last collected (gc-schedule.ts). */
  readonly gcState: string;
  snapshot(hash: string): string;
  runDir(runId: string): string;
  runBase(runId: string): string;
  runCheckpoints(runId: string): string;
}

const HASH = /^[0-9a-f]{64}$/;

export function isHash(value: string): boolean {
  return HASH.test(value);
}

export function sandboxStorePaths(workspace: string): SandboxStorePaths {
  const core = crewboxPaths(workspace);
  const snapshots = path.join(core.root, 'snapshots');
  return {
    workspace: core.workspace,
    root: core.root,
    objects: path.join(core.root, 'objects'),
    snapshots,
    hostIndex: path.join(core.root, 'host-index.json'),
    sandboxState: path.join(core.root, 'sandbox-state.json'),
    sandboxDirty: path.join(core.root, 'sandbox-dirty.json'),
    sandboxStats: path.join(core.root, 'sandbox-stats.json'),
    gcState: path.join(core.root, 'gc-state.json'),
    snapshot: (hash) => {
      if (!isHash(hash)) throw new Error(`Not a snapshot hash: ${JSON.stringify(hash)}`);
      return path.join(snapshots, `${hash}.json`);
    },
    runDir: core.runDir,
    runBase: (runId) => path.join(core.runDir(runId), 'base.json'),
    runCheckpoints: (runId) => path.join(core.runDir(runId), 'checkpoints.jsonl'),
  };
}

/**
 * Directories never copied into the container, recorded or applied, matched on
 * any segment and case-insensitively (as the tools' confinement does): the
 * user's `.git` (hooks and config are code) and Crewbox's own `.crewbox`.
 */
const EXCLUDED_SEGMENTS = new Set(['.git', '.crewbox']);

export function isExcludedPath(rel: string): boolean {
  for (const segment of rel.split('/')) {
    if (EXCLUDED_SEGMENTS.has(segment.toLowerCase())) return true;
  }
  return false;
}

/**
 * A workspace path as the records hold it: POSIX, relative, no empty, `.` or
 * `..` segments, no NUL. Anything else is refused before it reaches a file
 * system call.
 */
const BAD_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

export function isWorkspacePath(rel: string): boolean {
  // One regex over the string (an empty, "." or ".." segment, a leading or trailing slash) rather than a
  // split per path: snapshots of 20,000 entries are checked on every read.
  return rel !== '' && !rel.includes('\0') && !BAD_SEGMENT.test(rel);
}

/**
 * Whether a workspace path may be written or read on this host. On Windows a
 * backslash is a separator, so a name the Linux sandbox allows ("a\\..\\x")
 * could reach outside the workspace there; such a file stays in the sandbox.
 */
export function isHostSafePath(rel: string, platform: NodeJS.Platform = process.platform): boolean {
  return isWorkspacePath(rel) && !(platform === 'win32' && rel.includes('\\'));
}

/** Every proper ancestor directory of a workspace path, shallowest first ("a/b/c" → ["a", "a/b"]). */
export function ancestorsOf(rel: string): string[] {
  const out: string[] = [];
  let i = rel.indexOf('/');
  while (i !== -1) {
    out.push(rel.slice(0, i));
    i = rel.indexOf('/', i + 1);
  }
  return out;
}
