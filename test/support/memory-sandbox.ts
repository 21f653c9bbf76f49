/**
 * In-memory SandboxPort double: files live in `sandbox.files` (a Map from
 * workspace-relative path to content; directories are implied by file paths,
 * plus any made with `mkdir`). Commands are scripted; see sandbox-core.ts.
 *
 *   const sandbox = new MemorySandbox({ 'src/a.ts': 'x' });
 *   sandbox.onCommand('npm test', () => ({ exitCode: 1, stdout: 'failing' }));
 */
import { ROOT, ScriptedSandbox, parentsOf, type FileStore, type ScriptedSandboxOptions, type StoreEntry } from './sandbox-core.ts';

export type { CommandContext, CommandHandler, ExecRecord } from './sandbox-core.ts';

class MemoryStore implements FileStore {
  constructor(
    readonly files: Map<string, string>,
    readonly dirs: Set<string>,
  ) {}

  stat(path: string): { type: 'file' | 'dir'; size: number } | undefined {
    if (path === ROOT || this.dirs.has(path)) return { type: 'dir', size: 0 };
    const content = this.files.get(path);
    if (content !== undefined) return { type: 'file', size: Buffer.byteLength(content, 'utf8') };
    const prefix = `${path}/`;
    for (const key of this.files.keys()) if (key.startsWith(prefix)) return { type: 'dir', size: 0 };
    return undefined;
  }

  read(path: string): string {
    return this.files.get(path) ?? '';
  }

  write(path: string, content: string): void {
    this.files.set(path, content);
  }

  walk(dir: string): StoreEntry[] {
    const prefix = dir === ROOT ? '' : `${dir}/`;
    const below = (p: string): boolean => p.startsWith(prefix) && p !== dir;
    const entries = new Map<string, StoreEntry>();
    const addDir = (path: string): void => {
      if (below(path) && !entries.has(path)) entries.set(path, { path, type: 'dir', size: 0 });
    };
    for (const d of this.dirs) [...parentsOf(d), d].forEach(addDir);
    for (const [path, content] of this.files) {
      if (!below(path)) continue;
      parentsOf(path).forEach(addDir);
      entries.set(path, { path, type: 'file', size: Buffer.byteLength(content, 'utf8') });
    }
    return [...entries.values()];
  }
}

export class MemorySandbox extends ScriptedSandbox {
  readonly files: Map<string, string>;
  private readonly dirs: Set<string>;

  constructor(initialFiles: Record<string, string> = {}, options: ScriptedSandboxOptions = {}) {
    const files = new Map(Object.entries(initialFiles));
    const dirs = new Set<string>();
    super(new MemoryStore(files, dirs), files, options);
    this.files = files;
    this.dirs = dirs;
  }

  /** Creates an (empty) directory, as `mkdir -p` would. */
  mkdir(path: string): this {
    this.dirs.add(path);
    return this;
  }
}
