/**
 * The scripted SandboxPort double shared by memory-sandbox.ts and
 * dir-sandbox.ts: real file semantics over a FileStore, scripted commands.
 *
 * - Files: list/search/read/write work for real over the store and throw the
 *   SandboxToolErrors the port names (not_found, is_directory, not_directory,
 *   binary, too_large, outside_workspace, invalid).
 * - Commands: nothing runs a shell. `onCommand(matcher, handler)` scripts a
 *   command (a string matches the whole command exactly; a RegExp is tested
 *   against it; the first registration that matches wins); anything else exits
 *   127. Every command that starts is recorded as {callId, command} before its
 *   handler runs, so tests can count side effects. Abort and timeout resolve at
 *   once (`aborted` / `timedOut`, exitCode null) and abort the handler's signal.
 */
import type { ExecRequest, ExecResult, ListEntry, SandboxPort, SearchMatch, SearchRequest } from '../../src/core/sandbox/port.ts';
import { SandboxToolError } from '../../src/core/sandbox/port.ts';
import { matchGlob } from './glob.ts';

export interface StoreEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
}

/** Where the double keeps files. Paths are confined and normalised before they get here. */
export interface FileStore {
  stat(path: string): { type: 'file' | 'dir'; size: number } | undefined;
  /** Text of an existing file (NUL characters kept, so binaries can be detected). */
  read(path: string): string;
  /** Creates or replaces a file, creating parent directories. */
  write(path: string, content: string): void;
  /** Every entry below `dir`, recursively, with workspace-relative paths. */
  walk(dir: string): StoreEntry[];
}

/** The file view command handlers get; a Map<string, string> is one. */
export interface ScriptFiles {
  get(path: string): string | undefined;
  set(path: string, content: string): unknown;
  has(path: string): boolean;
  delete(path: string): boolean;
}

export interface CommandContext {
  files: ScriptFiles;
  /** Aborted when the run aborts or the command times out: a real process would be killed. */
  signal: AbortSignal;
  callId: string;
  /** Streams output as a running process would (reaches `onOutput` and the result). */
  write(stream: 'stdout' | 'stderr', chunk: string): void;
}

export type CommandHandler = (command: string, ctx: CommandContext) => Promise<Partial<ExecResult>> | Partial<ExecResult>;

export interface ExecRecord {
  callId: string;
  command: string;
}

export interface ScriptedSandboxOptions {
  /** Files larger than this (bytes) are `too_large` to read or search. Default 1 MiB. */
  maxFileBytes?: number;
}

export const ROOT = '.';

export class ScriptedSandbox implements SandboxPort {
  /** Every command that started, in order. */
  readonly execs: ExecRecord[] = [];
  private readonly handlers: Array<{ matcher: string | RegExp; handler: CommandHandler }> = [];
  private readonly maxFileBytes: number;

  constructor(
    protected readonly store: FileStore,
    protected readonly scriptFiles: ScriptFiles,
    options: ScriptedSandboxOptions = {},
  ) {
    this.maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
  }

  onCommand(matcher: string | RegExp, handler: CommandHandler): this {
    this.handlers.push({ matcher, handler });
    return this;
  }

  /** How many started commands match (all of them without a matcher). */
  execCount(matcher?: string | RegExp): number {
    return this.execs.filter((e) => matcher === undefined || commandMatches(matcher, e.command)).length;
  }

  protected recordExec(record: ExecRecord): void {
    this.execs.push(record);
  }

  async exec(req: ExecRequest, signal: AbortSignal, onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void): Promise<ExecResult> {
    const startedAt = Date.now();
    const base = { stdout: '', stderr: '', timedOut: false, aborted: false };
    if (signal.aborted) return { ...base, exitCode: null, aborted: true, durationMs: 0 };
    this.recordExec({ callId: req.callId, command: req.command });

    const entry = this.handlers.find((h) => commandMatches(h.matcher, req.command));
    if (entry === undefined) {
      const stderr = `sh: 1: ${req.command.trim().split(/\s+/)[0] ?? ''}: command not found\n`;
      onOutput?.('stderr', stderr);
      return { ...base, exitCode: 127, stderr, durationMs: Date.now() - startedAt };
    }

    const kill = new AbortController();
    const streamed = { stdout: '', stderr: '' };
    let settled = false;
    const emit = (stream: 'stdout' | 'stderr', chunk: string): void => {
      if (settled || chunk === '') return;
      streamed[stream] += chunk;
      onOutput?.(stream, chunk);
    };
    const ctx: CommandContext = { files: this.scriptFiles, signal: kill.signal, callId: req.callId, write: emit };

    return new Promise<ExecResult>((resolve, reject) => {
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        kill.abort();
        return true;
      };
      const killed = (how: 'aborted' | 'timedOut'): void => {
        if (!settle()) return;
        resolve({ ...base, ...streamed, exitCode: null, [how]: true, durationMs: Date.now() - startedAt });
      };
      const onAbort = (): void => killed('aborted');
      const timer = setTimeout(() => killed('timedOut'), req.timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });

      Promise.resolve()
        .then(() => entry.handler(req.command, ctx))
        .then(
          (partial) => {
            emit('stdout', partial.stdout ?? '');
            emit('stderr', partial.stderr ?? '');
            if (!settle()) return;
            resolve({ ...base, exitCode: 0, durationMs: Date.now() - startedAt, ...partial, ...streamed });
          },
          (error: unknown) => {
            if (settle()) reject(error);
          },
        );
    });
  }

  async readFile(path: string, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    const target = confined(path);
    const stat = this.store.stat(target);
    if (stat === undefined) throw new SandboxToolError('not_found', `File not found: ${target}`);
    if (stat.type === 'dir') throw new SandboxToolError('is_directory', `${target} is a directory, not a file; use list_files to see its contents.`);
    if (stat.size > this.maxFileBytes) {
      throw new SandboxToolError('too_large', `${target} is ${stat.size} bytes, over the ${this.maxFileBytes}-byte limit for reading.`);
    }
    const content = this.store.read(target);
    if (content.includes('\0')) throw new SandboxToolError('binary', `${target} is a binary file and cannot be shown as text.`);
    return content;
  }

  async writeFile(path: string, content: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const target = confined(path);
    if (target === ROOT || this.store.stat(target)?.type === 'dir') {
      throw new SandboxToolError('is_directory', `${target} is a directory; choose a file path.`);
    }
    const segments = target.split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      if (this.store.stat(parent)?.type === 'file') throw new SandboxToolError('not_directory', `${parent} is a file, so ${target} cannot be created.`);
    }
    this.store.write(target, content);
  }

  async list(path: string, depth: number, signal: AbortSignal): Promise<ListEntry[]> {
    signal.throwIfAborted();
    const dir = this.existingDir(path);
    const baseDepth = dir === ROOT ? 0 : dir.split('/').length;
    return this.store
      .walk(dir)
      .filter((e) => e.path.split('/').length - baseDepth <= depth)
      .map((e) => (e.type === 'file' ? { path: e.path, type: e.type, size: e.size } : { path: e.path, type: e.type }));
  }

  async search(req: SearchRequest, signal: AbortSignal): Promise<SearchMatch[]> {
    signal.throwIfAborted();
    const target = confined(req.path);
    const stat = this.store.stat(target);
    if (stat === undefined) throw new SandboxToolError('not_found', `Not found: ${target}`);
    let regex: RegExp;
    try {
      regex = new RegExp(req.pattern);
    } catch (error) {
      throw new SandboxToolError('invalid', `Invalid regular expression: ${(error as Error).message}`);
    }
    const files =
      stat.type === 'file'
        ? [{ path: target, type: 'file' as const, size: stat.size }]
        : this.store.walk(target).filter((e) => e.type === 'file');
    const prefix = target === ROOT || stat.type === 'file' ? '' : `${target}/`;
    const matches: SearchMatch[] = [];
    for (const file of files.sort((a, b) => (a.path < b.path ? -1 : 1))) {
      if (req.glob !== undefined && !matchGlob(req.glob, file.path.slice(prefix.length))) continue;
      if (file.size > this.maxFileBytes) continue;
      const content = this.store.read(file.path);
      if (content.includes('\0')) continue;
      const lines = content.split(/\r?\n/);
      for (let i = 0; i < lines.length; i++) {
        const text = lines[i] ?? '';
        if (!regex.test(text)) continue;
        matches.push({ path: file.path, line: i + 1, text });
        if (matches.length >= req.maxResults) return matches;
      }
    }
    return matches;
  }

  private existingDir(path: string): string {
    const target = confined(path);
    const stat = this.store.stat(target);
    if (stat === undefined) throw new SandboxToolError('not_found', `Directory not found: ${target}`);
    if (stat.type !== 'dir') throw new SandboxToolError('not_directory', `${target} is a file, not a directory.`);
    return target;
  }
}

function commandMatches(matcher: string | RegExp, command: string): boolean {
  return typeof matcher === 'string' ? matcher === command : matcher.test(command);
}

/** The double's own confinement check: the port requires implementations to refuse escapes too. */
export function confined(path: string): string {
  if (path === '' || path === ROOT) return ROOT;
  const segments = path.split('/');
  if (path.startsWith('/') || path.includes('\0') || path.includes('\\') || segments.some((s) => s === '..' || s === '.' || s === '')) {
    throw new SandboxToolError('outside_workspace', `Path is not a normalised workspace-relative path: ${JSON.stringify(path)}`);
  }
  return path;
}

/** `a/b/c` -> [`a`, `a/b`] */
export function parentsOf(path: string): string[] {
  const segments = path.split('/');
  return segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join('/'));
}
