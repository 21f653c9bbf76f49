/**
 * Path confinement for the agents' tools. Every path a model supplies passes
 * through `resolveWorkspacePath` before it reaches the SandboxPort.
 *
 * Contract:
 * - Input is relative to the workspace root. `''` and `'.'` mean the root.
 *   Absolute paths under WORKSPACE_MOUNT (`/workspace`, where the sandbox mounts
 *   the workspace) are accepted and made relative; any other absolute path is
 *   refused, as is anything that normalises to outside the root.
 * - Output is a POSIX path relative to the root with no `.`/`..` segments, no
 *   duplicate or trailing slashes; the root itself is WORKSPACE_ROOT (`'.'`).
 * - Refused: NUL and other control characters, backslashes (a Windows separator
 *   on the host side of a bind mount), Windows drive and UNC paths.
 * - Protected directories, matched on any path segment and case-insensitively
 *   (the workspace may sit on a case-insensitive host file system):
 *   `.git` may be read but never written (hooks and config are code-execution
 *   vectors); `.crewbox` is Crewbox's own state (run logs, journals) and is
 *   neither read nor written by tools.
 * - This is lexical confinement only. Symlinks that point outside the workspace
 *   are the sandbox implementation's to refuse (see SandboxPort).
 */
import { posix } from 'node:path';

export const WORKSPACE_MOUNT = '/workspace';
export const WORKSPACE_ROOT = '.';
const MAX_PATH_LENGTH = 4096;

/** Directory names tools never write into; `.crewbox` is also never read. */
const WRITE_PROTECTED = new Set(['.git', '.crewbox']);
const READ_PROTECTED = new Set(['.crewbox']);

export type PathAccess = 'read' | 'write';

export type PathResult = { ok: true; path: string } | { ok: false; error: string };

export function resolveWorkspacePath(input: string, access: PathAccess = 'read'): PathResult {
  const shown = JSON.stringify(input.length > 200 ? `${input.slice(0, 200)}...` : input);
  const refuse = (why: string): PathResult => ({ ok: false, error: `Path ${shown} ${why}` });

  if (input.length > MAX_PATH_LENGTH) return refuse(`is longer than ${MAX_PATH_LENGTH} characters.`);
  if (/[\u0000-\u001f\u007f]/.test(input)) return refuse('contains a NUL or other control character.');
  if (input.includes('\\')) return refuse('contains a backslash; use forward slashes ("src/app.ts").');
  if (/^[A-Za-z]:/.test(input)) return refuse('is a Windows drive path; use a path relative to the workspace root.');

  let relative: string;
  if (input.startsWith('/')) {
    const normalised = posix.normalize(input);
    if (normalised === WORKSPACE_MOUNT || normalised === `${WORKSPACE_MOUNT}/`) relative = '';
    else if (normalised.startsWith(`${WORKSPACE_MOUNT}/`)) relative = normalised.slice(WORKSPACE_MOUNT.length + 1);
    else return refuse(`is outside the workspace; use a path relative to the workspace root (which is mounted at ${WORKSPACE_MOUNT}).`);
  } else {
    relative = input;
  }

  const normalised = relative === '' ? WORKSPACE_ROOT : posix.normalize(relative).replace(/\/+$/, '') || WORKSPACE_ROOT;
  if (normalised === '..' || normalised.startsWith('../')) return refuse('resolves outside the workspace.');

  const segments = normalised === WORKSPACE_ROOT ? [] : normalised.split('/').map((s) => s.toLowerCase());
  const protectedSet = access === 'write' ? WRITE_PROTECTED : READ_PROTECTED;
  const hit = segments.find((s) => protectedSet.has(s));
  if (hit !== undefined) {
    return refuse(
      access === 'write'
        ? `is inside "${hit}", which tools may not modify.`
        : `is inside "${hit}", which holds Crewbox's own state and is not readable by tools.`,
    );
  }
  return { ok: true, path: normalised };
}

/**
 * Whether a listing or search result should be hidden when browsing `base`:
 * contents of `.git` and `.crewbox` below the requested directory are noise (or
 * private), but listing `.git` itself on purpose shows its contents.
 */
export function isHiddenBelow(base: string, entryPath: string): boolean {
  const prefix = base === WORKSPACE_ROOT ? '' : `${base}/`;
  const rest = entryPath.startsWith(prefix) ? entryPath.slice(prefix.length) : entryPath;
  return rest.split('/').some((s) => WRITE_PROTECTED.has(s.toLowerCase()));
}
