/** Builders for workspaces on disk, and a whole-tree reader for comparing them. */
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type FixtureFile = string | Buffer | { content: string | Buffer; mode?: number } | { link: string };

export function tempDir(prefix: string): string {
  return realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
}

export function writeTree(root: string, files: Record<string, FixtureFile>): void {
  for (const [rel, spec] of Object.entries(files)) {
    const abs = path.join(root, ...rel.split('/'));
    mkdirSync(path.dirname(abs), { recursive: true });
    rmSync(abs, { force: true, recursive: true });
    if (typeof spec === 'object' && !Buffer.isBuffer(spec) && 'link' in spec) {
      symlinkSync(spec.link, abs);
    } else if (typeof spec === 'string' || Buffer.isBuffer(spec)) {
      writeFileSync(abs, spec);
      chmodSync(abs, 0o644);
    } else {
      writeFileSync(abs, spec.content);
      chmodSync(abs, spec.mode ?? 0o644);
    }
  }
}

/**
 * Every file and symlink under `root` (except the named top-level or nested
 * directories), as `file:<x|->:<base64>` or `link:<target>`.
 */
export function readTree(root: string, skip: readonly string[] = ['.git', '.crewbox']): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir === '' ? root : path.join(root, dir)).sort()) {
      if (skip.includes(name)) continue;
      const rel = dir === '' ? name : `${dir}/${name}`;
      const abs = path.join(root, rel);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out.set(rel, `link:${readlinkSync(abs)}`);
      else if (st.isDirectory()) visit(rel);
      else out.set(rel, `file:${(st.mode & 0o111) !== 0 ? 'x' : '-'}:${readFileSync(abs).toString('base64')}`);
    }
  };
  visit('');
  return out;
}

export function git(root: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: root, encoding: 'utf8' });
}

export function initRepo(root: string): void {
  git(root, 'init', '-q');
}

/** Map → plain object, for readable assertion diffs. */
export function asObject(tree: Map<string, string>): Record<string, string> {
  return Object.fromEntries([...tree.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}
