/**
 * The scripted SandboxPort double (sandbox-core.ts) over a real directory, with
 * every started command appended durably (write + fsync) to a JSON-lines exec
 * log. A test can run a DirSandbox in a child process, kill -9 it mid-run, and
 * later count with `readExecLog` how often each side-effecting command ran.
 * Command handlers are JS functions; nothing runs a real shell.
 */
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { SandboxToolError } from '../../src/core/sandbox/port.ts';
import { ROOT, ScriptedSandbox, confined, type ExecRecord, type FileStore, type ScriptFiles, type ScriptedSandboxOptions, type StoreEntry } from './sandbox-core.ts';

export type { CommandContext, CommandHandler, ExecRecord } from './sandbox-core.ts';

class DirStore implements FileStore {
  private readonly realRoot: string;

  constructor(readonly root: string) {
    this.realRoot = realpathSync(root);
  }

  /** Absolute path of a workspace path, refusing symlinks that lead out of the root. */
  absolute(path: string): string {
    const full = path === ROOT ? this.root : join(this.root, ...path.split('/'));
    let existing = full;
    while (!existsSync(existing) && existing !== this.root) existing = dirname(existing);
    const real = realpathSync(existing);
    if (real !== this.realRoot && !real.startsWith(this.realRoot + sep)) {
      throw new SandboxToolError('outside_workspace', `${path} leads outside the workspace (through a symlink).`);
    }
    return full;
  }

  stat(path: string): { type: 'file' | 'dir'; size: number } | undefined {
    const full = this.absolute(path);
    if (!existsSync(full)) return undefined;
    const stats = statSync(full);
    return { type: stats.isDirectory() ? 'dir' : 'file', size: stats.size };
  }

  read(path: string): string {
    return readFileSync(this.absolute(path), 'utf8');
  }

  write(path: string, content: string): void {
    const full = this.absolute(path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }

  walk(dir: string): StoreEntry[] {
    const entries: StoreEntry[] = [];
    const visit = (full: string): void => {
      for (const dirent of readdirSync(full, { withFileTypes: true })) {
        const child = join(full, dirent.name);
        const path = relative(this.root, child).split(sep).join('/');
        if (dirent.isSymbolicLink()) entries.push({ path, type: 'symlink', size: lstatSync(child).size });
        else if (dirent.isDirectory()) {
          entries.push({ path, type: 'dir', size: 0 });
          visit(child);
        } else entries.push({ path, type: 'file', size: statSync(child).size });
      }
    };
    visit(this.absolute(dir));
    return entries;
  }
}

/** Handler-side file access over the directory (same confinement as the port). */
function dirScriptFiles(store: DirStore): ScriptFiles {
  return {
    get: (path) => (store.stat(confined(path))?.type === 'file' ? store.read(confined(path)) : undefined),
    set: (path, content) => store.write(confined(path), content),
    has: (path) => store.stat(confined(path)) !== undefined,
    delete: (path) => {
      if (store.stat(confined(path))?.type !== 'file') return false;
      unlinkSync(store.absolute(confined(path)));
      return true;
    },
  };
}

export interface DirSandboxOptions extends ScriptedSandboxOptions {
  /** Workspace directory; a fresh temp directory when omitted (removed by `dispose`). */
  root?: string;
  /** JSON-lines exec log; `<root>.execs.jsonl` when omitted (outside the workspace). */
  execLogPath?: string;
}

export class DirSandbox extends ScriptedSandbox {
  readonly root: string;
  readonly execLogPath: string;
  private readonly ownsRoot: boolean;

  constructor(options: DirSandboxOptions = {}) {
    const ownsRoot = options.root === undefined;
    const root = options.root ?? mkdtempSync(join(tmpdir(), 'crewbox-sandbox-'));
    mkdirSync(root, { recursive: true });
    const store = new DirStore(root);
    super(store, dirScriptFiles(store), options);
    this.root = root;
    this.ownsRoot = ownsRoot;
    this.execLogPath = options.execLogPath ?? `${root}.execs.jsonl`;
  }

  /** Writes files straight to disk (setup for tests). */
  seed(files: Record<string, string>): this {
    for (const [path, content] of Object.entries(files)) this.scriptFiles.set(path, content);
    return this;
  }

  protected override recordExec(record: ExecRecord): void {
    super.recordExec(record);
    const fd = openSync(this.execLogPath, 'a');
    try {
      writeSync(fd, `${JSON.stringify(record)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the temp directory and exec log this sandbox created. */
  dispose(): void {
    if (!this.ownsRoot) return;
    rmSync(this.root, { recursive: true, force: true });
    rmSync(this.execLogPath, { force: true });
  }
}

/**
 * The records in an exec log, in order. A final line cut short by a kill is
 * ignored: that command's record never became durable.
 */
export function readExecLog(path: string): ExecRecord[] {
  if (!existsSync(path)) return [];
  const records: ExecRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      records.push(JSON.parse(line) as ExecRecord);
    } catch {
      break;
    }
  }
  return records;
}
