/**
 * The only way tools reach the workspace. The Docker implementation lives in
 * the sandbox module; unit tests use test/support/memory-sandbox.ts.
 *
 * Contract:
 * - Paths are POSIX, relative to the workspace root, already normalised and
 *   confined by the tool layer (implementations must still refuse escapes).
 * - Every call honours `signal`: on abort it stops promptly and kills anything
 *   it started; `exec` then resolves with `aborted: true` (it never leaves a
 *   process running).
 * - `ListEntry.path` and `SearchMatch.path` are relative to the workspace root;
 *   `list` with depth 1 returns direct children only; `writeFile` creates
 *   missing parent directories.
 * - Failures the model can act on (missing file, binary file, too large, not a
 *   directory) throw SandboxToolError; anything else is infrastructure.
 */

export interface ExecRequest {
  command: string;
  /** Tool-call id: lets the sandbox journal results and never run a call twice. */
  callId: string;
  timeoutMs: number;
}

export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
  /** Working directory after the command (persists between calls). */
  cwd?: string;
}

export interface ListEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size?: number;
}

export interface SearchMatch {
  path: string;
  line: number;
  text: string;
}

export interface SearchRequest {
  /** Regular expression (JavaScript/PCRE-compatible subset). */
  pattern: string;
  path: string;
  glob?: string;
  maxResults: number;
}

export interface SandboxPort {
  exec(req: ExecRequest, signal: AbortSignal, onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void): Promise<ExecResult>;
  /**
   * After the host's own crash: what became of an exec sent under `req.callId`
   * (its journaled result, or the call joined if still running). Never starts
   * the command; resolves undefined when the sandbox has no record of it (e.g.
   * a recreated container). Optional: sandboxes without a journal omit it.
   */
  recall?(req: ExecRequest, signal: AbortSignal, onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void): Promise<ExecResult | undefined>;
  readFile(path: string, signal: AbortSignal): Promise<string>;
  writeFile(path: string, content: string, signal: AbortSignal): Promise<void>;
  list(path: string, depth: number, signal: AbortSignal): Promise<ListEntry[]>;
  search(req: SearchRequest, signal: AbortSignal): Promise<SearchMatch[]>;
}

export type SandboxToolErrorCode = 'not_found' | 'is_directory' | 'not_directory' | 'binary' | 'too_large' | 'outside_workspace' | 'invalid';

/** An error the model can fix; tools return it as a tool result. */
export class SandboxToolError extends Error {
  override readonly name = 'SandboxToolError';
  constructor(readonly code: SandboxToolErrorCode, message: string) {
    super(message);
  }
}
