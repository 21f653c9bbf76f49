/**
 * The host workspace's files as the container should see them: tracked and
 * untracked files, minus what git ignores.
 *
 * Contract:
 * - In a git repository (and with a git binary): `git ls-files -co
 *   --exclude-standard -z` decides (tracked + untracked, ignored excluded).
 *   Directories git reports whole (nested repositories, submodules) are
 *   walked. Without git or outside a repository: a walk honouring every
 *   `.gitignore` on the way down (nested ones too) and `.git/info/exclude`.
 * - `.git` and `.crewbox` are never listed, at any depth.
 * - Symbolic links are listed as links (target as stored) and never
 *   followed, so nothing outside the workspace is ever read.
 * - Regular files keep their permission bits; sockets, FIFOs and devices
 *   are skipped.
 */
import { execFile } from 'node:child_process';
import { lstatSync, readlinkSync, type Dirent } from 'node:fs';
import { readFile, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { findRepository } from '../../core/store/layout.ts';
import { forEachChunked } from '../store/concurrency.ts';
import { LINK_MODE, permissionBits } from '../store/manifest.ts';
import { ancestorsOf, isExcludedPath } from '../store/store-paths.ts';
import { GITIGNORE, IgnoreRules } from './ignore-rules.ts';

export interface HostEntry {
  path: string;
  kind: 'file' | 'symlink';
  mode: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  linkTarget?: string;
}

export interface HostListing {
  /** Sorted by path. */
  entries: HostEntry[];
  source: 'git' | 'walk';
}

export interface ListHostOptions {
  /** The git binary; `false` never runs git (default: `git` on PATH). */
  git?: string | false;
  signal?: AbortSignal;
}

/** Synchronous lstat calls between yields to the event loop. */
const STAT_CHUNK = 500;

export async function listHostFiles(workspace: string, opts: ListHostOptions = {}): Promise<HostListing> {
  const root = await realpath(workspace);
  const gitPaths = opts.git === false ? undefined : await gitListedPaths(root, opts.git ?? 'git', opts.signal);
  const entries: HostEntry[] = [];
  if (gitPaths) {
    const dirs: string[] = [];
    await forEachChunked(
      gitPaths,
      STAT_CHUNK,
      (rel) => {
        const entry = statEntry(root, rel);
        if (entry === 'dir') dirs.push(rel);
        else if (entry) entries.push(entry);
      },
      opts.signal,
    );
    for (const dir of dirs) await walk(root, dir, await rulesAbove(root, dir), entries, opts.signal);
  } else {
    await walk(root, '', await rulesAbove(root, ''), entries, opts.signal);
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, source: gitPaths ? 'git' : 'walk' };
}

/** The repository's `info/exclude` text, if the workspace is in a repository (it applies to the container's untracked files too). */
export async function readRootExcludes(workspace: string): Promise<string | undefined> {
  const repo = await findRepository(workspace);
  if (!repo) return undefined;
  return readFile(path.join(repo.commonDir, 'info', 'exclude'), 'utf8').catch(() => undefined);
}

/** Paths from git, or undefined when git is missing, fails, or this is not a repository. */
function gitListedPaths(root: string, git: string, signal: AbortSignal | undefined): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    execFile(
      git,
      ['-c', 'core.quotepath=off', 'ls-files', '-co', '--exclude-standard', '-z'],
      { cwd: root, encoding: 'buffer', maxBuffer: 1 << 30, signal, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } },
      (error, stdout) => {
        if (error) return resolve(undefined);
        const seen = new Set<string>();
        for (const raw of stdout.toString('utf8').split('\0')) {
          const rel = raw.endsWith('/') ? raw.slice(0, -1) : raw;
          if (rel !== '' && !isExcludedPath(rel)) seen.add(rel);
        }
        resolve([...seen]);
      },
    );
  });
}

/** An entry for a listed path; 'dir' for a directory to walk; undefined when gone or not a file or link. */
function statEntry(root: string, rel: string): HostEntry | 'dir' | undefined {
  const abs = path.join(root, rel);
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (!st) return undefined;
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) {
    let linkTarget: string;
    try {
      linkTarget = readlinkSync(abs);
    } catch {
      return undefined;
    }
    if (linkTarget === '') return undefined;
    return { path: rel, kind: 'symlink', mode: LINK_MODE, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, linkTarget };
  }
  if (!st.isFile()) return undefined;
  return { path: rel, kind: 'file', mode: permissionBits(st.mode), size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
}

/** Rules that apply at `dir`: `info/exclude` and every `.gitignore` from the root down to `dir` (exclusive of files below). */
async function rulesAbove(root: string, dir: string): Promise<IgnoreRules> {
  const rules = new IgnoreRules();
  const excludes = await readRootExcludes(root);
  if (excludes) rules.add('', excludes);
  const levels = dir === '' ? [] : ['', ...ancestorsOf(dir)];
  for (const level of levels) {
    const text = await readFile(path.join(root, level, GITIGNORE), 'utf8').catch(() => undefined);
    if (text !== undefined) rules.add(level, text);
  }
  return rules;
}

async function walk(root: string, dir: string, rules: IgnoreRules, out: HostEntry[], signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  const abs = dir === '' ? root : path.join(root, dir);
  let children: Dirent[];
  try {
    children = await readdir(abs, { withFileTypes: true });
  } catch {
    return; // vanished or unreadable: nothing of it can be copied
  }
  if (children.some((c) => c.name === GITIGNORE && c.isFile())) {
    const text = await readFile(path.join(abs, GITIGNORE), 'utf8').catch(() => undefined);
    if (text !== undefined) rules.add(dir, text);
  }
  const subdirs: string[] = [];
  const files: string[] = [];
  for (const child of children) {
    const rel = dir === '' ? child.name : `${dir}/${child.name}`;
    if (isExcludedPath(child.name)) continue;
    if (child.isDirectory()) {
      if (!rules.ignores(rel, true)) subdirs.push(rel);
    } else if (child.isFile() || child.isSymbolicLink()) {
      if (!rules.ignores(rel, false)) files.push(rel);
    }
  }
  await forEachChunked(files, STAT_CHUNK, (rel) => {
    const entry = statEntry(root, rel);
    if (entry && entry !== 'dir') out.push(entry);
  });
  for (const sub of subdirs) await walk(root, sub, rules, out, signal);
}
