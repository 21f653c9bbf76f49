/**
 * ContainerFiles over a local temp directory standing in for /workspace.
 *
 * Change tracking (what the supervisor's inotify does in the container) comes
 * in two flavours:
 * - 'recorded': the double's own helpers (write, remove, symlink, chmod) and
 *   its ContainerFiles operations note the paths they touch; `note()` adds
 *   more. Cheap, like inotify, for benchmarks.
 * - 'scan': each drain compares a fresh walk with the previous one, so a
 *   real shell command run in the directory (`shell()`) is seen too.
 *   Removed directories are reported as the directory alone; a new
 *   directory with everything in it (as the supervisor's tracker walks it),
 *   or, with `newDirs: 'topmost'`, as the directory alone (a tracker that
 *   only saw a tree moved in whole).
 * `overflowNext()` makes the next drain report an overflow, as inotify does
 * when its queue overflows.
 * Tars are extracted with the system `tar`, as the engine would.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ContainerFiles, DrainedChanges, DrainOptions, FileSnapshot, ListedEntry } from '../../src/sandbox/container-files.ts';
import { readTree } from './workspace-fixture.ts';

export interface LocalContainerFilesOptions {
  root?: string;
  tracking?: 'recorded' | 'scan';
  newDirs?: 'files' | 'topmost';
}

export interface CallCounts {
  putTar: number;
  tarFiles: number;
  readFiles: number;
  pathsRead: number;
  listAll: number;
  deletePaths: number;
  pathsDeleted: number;
  clear: number;
  drainChanges: number;
  /** Drains that carried the changed files' snapshots. */
  readWithDrain: number;
}

type Signature = string;

/** Like the channel implementation: a drain carries snapshots only for this many paths or fewer. */
const READ_WITH_DRAIN_MAX = 64;

export class LocalContainerFiles implements ContainerFiles {
  readonly root: string;
  readonly calls: CallCounts = { putTar: 0, tarFiles: 0, readFiles: 0, pathsRead: 0, listAll: 0, deletePaths: 0, pathsDeleted: 0, clear: 0, drainChanges: 0, readWithDrain: 0 };
  private readonly tracking: 'recorded' | 'scan';
  private readonly newDirs: 'files' | 'topmost';
  private readonly noted = new Set<string>();
  private overflow = false;
  private baseline: Map<string, Signature>;

  constructor(opts: LocalContainerFilesOptions = {}) {
    this.root = opts.root ?? mkdtempSync(path.join(tmpdir(), 'crewbox-container-'));
    mkdirSync(this.root, { recursive: true });
    this.tracking = opts.tracking ?? 'scan';
    this.newDirs = opts.newDirs ?? 'files';
    this.baseline = this.scan();
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  // ---- helpers that act like commands in the container --------------------------------

  abs(rel: string): string {
    if (rel.startsWith('/') || rel.split('/').includes('..')) throw new Error(`outside the workspace: ${rel}`);
    return path.join(this.root, ...rel.split('/'));
  }

  write(rel: string, content: string | Buffer, mode = 0o644): void {
    mkdirSync(path.dirname(this.abs(rel)), { recursive: true });
    writeFileSync(this.abs(rel), content);
    chmodSync(this.abs(rel), mode);
    this.noted.add(rel);
  }

  remove(rel: string): void {
    rmSync(this.abs(rel), { recursive: true, force: true });
    this.noted.add(rel);
  }

  symlink(rel: string, target: string): void {
    mkdirSync(path.dirname(this.abs(rel)), { recursive: true });
    rmSync(this.abs(rel), { force: true });
    symlinkSync(target, this.abs(rel));
    this.noted.add(rel);
  }

  chmod(rel: string, mode: number): void {
    chmodSync(this.abs(rel), mode);
    this.noted.add(rel);
  }

  /** Runs a real shell command in the workspace (seen by 'scan' tracking). */
  shell(command: string): string {
    return execFileSync('sh', ['-c', command], { cwd: this.root, encoding: 'utf8' });
  }

  note(...paths: string[]): void {
    for (const p of paths) this.noted.add(p);
  }

  overflowNext(): void {
    this.overflow = true;
  }

  /** Every file and link below the root, in workspace-fixture's readTree format. */
  tree(): Map<string, string> {
    return readTree(this.root, []);
  }

  // ---- ContainerFiles -------------------------------------------------------------------

  async putTar(tar: Readable, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.calls.putTar++;
    const child = spawn('tar', ['-x', '-v', '-p', '--no-same-owner', '-f', '-', '-C', this.root], { stdio: ['pipe', 'pipe', 'pipe'] });
    let listed = '';
    let errors = '';
    child.stdout.on('data', (d: Buffer) => (listed += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (errors += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    const piped = new Promise<void>((resolve, reject) => {
      tar.on('error', reject);
      child.stdin.on('error', reject);
      child.stdin.on('finish', resolve);
      tar.pipe(child.stdin);
    });
    await piped;
    const code = await exited;
    if (code !== 0) throw new Error(`tar exited with ${code}: ${errors}`);
    for (const name of listed.split('\n')) {
      if (name === '' || name.endsWith('/')) continue;
      this.calls.tarFiles++;
      this.noted.add(name.replace(/^\.\//, ''));
    }
  }

  async drainChanges(signal: AbortSignal, options: DrainOptions = {}): Promise<DrainedChanges> {
    signal.throwIfAborted();
    this.calls.drainChanges++;
    const overflow = this.overflow;
    this.overflow = false;
    let paths: string[];
    if (this.tracking === 'scan') {
      const next = this.scan();
      paths = this.compare(this.baseline, next);
      this.baseline = next;
    } else {
      paths = [...this.noted];
    }
    this.noted.clear();
    if (overflow) return { paths: [], overflow: true };
    // As the supervisor: snapshots come with the drain when few paths changed.
    if (options.read && !options.discard && paths.length > 0 && paths.length <= READ_WITH_DRAIN_MAX) {
      this.calls.readWithDrain++;
      return { paths, overflow: false, files: this.snapshots(paths) };
    }
    return { paths, overflow: false };
  }

  async readFiles(paths: string[], signal: AbortSignal): Promise<FileSnapshot[]> {
    signal.throwIfAborted();
    this.calls.readFiles++;
    this.calls.pathsRead += paths.length;
    return this.snapshots(paths);
  }

  private snapshots(paths: readonly string[]): FileSnapshot[] {
    return paths.map((p): FileSnapshot => {
      const abs = this.abs(p);
      let st;
      try {
        st = lstatSync(abs);
      } catch {
        return { path: p, kind: 'missing', mode: 0 };
      }
      if (st.isSymbolicLink()) return { path: p, kind: 'symlink', mode: st.mode & 0o777, linkTarget: readlinkSync(abs) };
      if (st.isDirectory()) return { path: p, kind: 'dir', mode: st.mode & 0o777 };
      return { path: p, kind: 'file', mode: st.mode & 0o777, content: readFileSync(abs) };
    });
  }

  async listAll(signal: AbortSignal): Promise<ListedEntry[]> {
    signal.throwIfAborted();
    this.calls.listAll++;
    return this.walk();
  }

  async deletePaths(paths: string[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.calls.deletePaths++;
    this.calls.pathsDeleted += paths.length;
    for (const p of paths) this.remove(p);
  }

  async clear(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.calls.clear++;
    for (const name of readdirSync(this.root)) this.remove(name);
  }

  // ---- internals ------------------------------------------------------------------------

  private walk(): ListedEntry[] {
    const out: ListedEntry[] = [];
    const visit = (dir: string): void => {
      for (const name of readdirSync(dir === '' ? this.root : this.abs(dir))) {
        const rel = dir === '' ? name : `${dir}/${name}`;
        const st = lstatSync(this.abs(rel));
        const kind = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';
        out.push({ path: rel, kind, mode: st.mode & 0o777, size: st.size, mtimeMs: st.mtimeMs });
        if (kind === 'dir') visit(rel);
      }
    };
    visit('');
    return out;
  }

  private scan(): Map<string, Signature> {
    const out = new Map<string, Signature>();
    const visit = (dir: string): void => {
      for (const name of readdirSync(dir === '' ? this.root : this.abs(dir))) {
        const rel = dir === '' ? name : `${dir}/${name}`;
        const st = lstatSync(this.abs(rel), { bigint: true });
        if (st.isDirectory()) {
          out.set(rel, 'dir');
          visit(rel);
        } else {
          out.set(rel, `${st.isSymbolicLink() ? 'l' : 'f'}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.mode}:${st.ino}`);
        }
      }
    };
    visit('');
    return out;
  }

  private compare(before: Map<string, Signature>, after: Map<string, Signature>): string[] {
    const changed = new Set<string>();
    const parentOf = (p: string): string => p.slice(0, Math.max(p.lastIndexOf('/'), 0));
    for (const [p, sig] of before) {
      if (after.has(p) && (after.get(p) === 'dir') === (sig === 'dir')) continue;
      const parent = parentOf(p);
      // A removed directory is one event; its contents are not reported.
      if (parent !== '' && before.get(parent) === 'dir' && after.get(parent) !== 'dir') continue;
      changed.add(p);
    }
    for (const [p, sig] of after) {
      const old = before.get(p);
      if (sig === 'dir') {
        if (old !== 'dir' && (this.newDirs === 'files' || !this.isInNewDir(p, before, after))) changed.add(p);
        continue;
      }
      if (old === sig) continue;
      if (this.newDirs === 'topmost' && this.isInNewDir(p, before, after)) continue;
      changed.add(p);
    }
    return [...changed];
  }

  private isInNewDir(p: string, before: Map<string, Signature>, after: Map<string, Signature>): boolean {
    let i = p.lastIndexOf('/');
    while (i > 0) {
      const dir = p.slice(0, i);
      if (after.get(dir) === 'dir' && before.get(dir) !== 'dir') return true;
      i = dir.lastIndexOf('/');
    }
    return false;
  }
}
