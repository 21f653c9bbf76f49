/**
 * SandboxPort over the supervisor channel: every tool call is one request on
 * the already-open channel (no `docker exec` per call).
 *
 * - Typed supervisor failures the model can act on become SandboxToolError
 *   (`permission` has no port code and maps to `invalid`); anything else stays
 *   an infrastructure error (SandboxChannelError, DockerError, SupervisorOpError).
 * - `exec` on abort sends `kill` and resolves with the supervisor's answer
 *   (`aborted: true`); the supervisor kills the whole process tree. If the
 *   channel is lost meanwhile, the kill is sent again over a fresh channel
 *   (which reaches the command through the journal) and the call resolves as
 *   aborted.
 * - A call whose channel ended while the container is still there is sent once
 *   more over a fresh supervisor: the journal returns a finished command's
 *   result or joins it while it runs, so nothing runs twice.
 * - The supervisor enforces the command timeout; the host waits
 *   `timeoutGraceMs` longer before declaring the channel stuck.
 */
import type { ExecRequest, ExecResult, ListEntry, SandboxPort, SearchMatch, SearchRequest, SandboxToolErrorCode } from '../core/sandbox/port.ts';
import { SandboxToolError } from '../core/sandbox/port.ts';
import { SandboxChannelError, SupervisorOpError } from './channel/errors.ts';
import { withChannelRetry, type ChannelSource } from './channel/link.ts';
import type { Notification, WireExecResult } from './channel/protocol.ts';
import type { RpcClient } from './channel/rpc-client.ts';

export interface DockerSandboxOptions {
  /** Largest file `readFile` returns; larger ones are `too_large`. Default 2 MiB. */
  maxReadBytes?: number;
  /** Files larger than this are skipped by `search`. Default 1 MiB. */
  maxSearchFileBytes?: number;
  /** Working-directory session: sandboxes with different sessions keep separate cwds. Default "default". */
  session?: string;
  /** How long past a command's timeout the host waits for the supervisor's answer. Default 15 s. */
  timeoutGraceMs?: number;
}

const TOOL_CODES: ReadonlySet<string> = new Set<SandboxToolErrorCode>(['not_found', 'is_directory', 'not_directory', 'binary', 'too_large', 'outside_workspace', 'invalid']);
const DEFAULTS = { maxReadBytes: 2 * 1024 * 1024, maxSearchFileBytes: 1024 * 1024, session: 'default', timeoutGraceMs: 15_000 };

export class DockerSandbox implements SandboxPort {
  private readonly options: typeof DEFAULTS;

  constructor(
    private readonly source: ChannelSource,
    options: DockerSandboxOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** The same sandbox with its own working directory (e.g. one per agent). */
  withSession(session: string): DockerSandbox {
    return new DockerSandbox(this.source, { ...this.options, session });
  }

  exec(req: ExecRequest, signal: AbortSignal, onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void): Promise<ExecResult> {
    return this.execCall(req, signal, false, onOutput);
  }

  async recall(req: ExecRequest, signal: AbortSignal, onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void): Promise<ExecResult | undefined> {
    try {
      return await this.execCall(req, signal, true, onOutput);
    } catch (e) {
      // exec's error mapping turns the supervisor's not_found into a SandboxToolError.
      if (e instanceof SandboxToolError && e.code === 'not_found') return undefined;
      throw e;
    }
  }

  private async execCall(req: ExecRequest, signal: AbortSignal, replayOnly: boolean, onOutput?: (stream: 'stdout' | 'stderr', chunk: string) => void): Promise<ExecResult> {
    const startedAt = Date.now();
    const aborted = (): ExecResult => ({ exitCode: null, stdout: '', stderr: '', timedOut: false, aborted: true, durationMs: Date.now() - startedAt });
    if (signal.aborted) return aborted();
    const onNotification = (n: Notification): void => {
      if (n.event === 'output') onOutput?.(n.stream, n.chunk);
      else onOutput?.('stderr', `\n[crewbox: live output paused after ${n.bytes} bytes; the result keeps the beginning and the end]\n`);
    };
    try {
      const wire = await withChannelRetry(this.source, (client) =>
        client.call(
          'exec',
          { callId: req.callId, command: req.command, timeoutMs: req.timeoutMs, session: this.options.session, ...(replayOnly ? { replayOnly } : {}) },
          {
            signal,
            onAbort: () => void client.call('kill', { callId: req.callId }).catch(() => {}),
            onNotification,
            timeoutMs: req.timeoutMs + this.options.timeoutGraceMs,
          },
        ),
      );
      return toExecResult(wire);
    } catch (e) {
      if (!signal.aborted) throw mapError(e);
      // The channel failed while we were killing: make sure the kill lands.
      await this.source
        .client()
        .then((c) => c.call('kill', { callId: req.callId }))
        .catch(() => {});
      return aborted();
    }
  }

  async readFile(path: string, signal: AbortSignal): Promise<string> {
    const r = await this.run((c) => c.call('read', { path, maxBytes: this.options.maxReadBytes }, { signal }));
    return r.content;
  }

  async writeFile(path: string, content: string, signal: AbortSignal): Promise<void> {
    await this.run((c) => c.call('write', { path, content }, { signal }));
  }

  async list(path: string, depth: number, signal: AbortSignal): Promise<ListEntry[]> {
    const r = await this.run((c) => c.call('list', { path, depth }, { signal }));
    return r.entries.map((e) => (e.size === undefined ? { path: e.path, type: e.type } : { path: e.path, type: e.type, size: e.size }));
  }

  async search(req: SearchRequest, signal: AbortSignal): Promise<SearchMatch[]> {
    const params = {
      pattern: req.pattern,
      path: req.path,
      maxResults: req.maxResults,
      maxFileBytes: this.options.maxSearchFileBytes,
      ...(req.glob !== undefined ? { glob: req.glob } : {}),
    };
    const r = await this.run((c) => c.call('search', params, { signal }));
    return r.matches;
  }

  private async run<T>(fn: (client: RpcClient) => Promise<T>): Promise<T> {
    try {
      return await withChannelRetry(this.source, fn);
    } catch (e) {
      throw mapError(e);
    }
  }

}

function toExecResult(w: WireExecResult): ExecResult {
  return {
    exitCode: w.exitCode,
    stdout: w.stdout,
    stderr: w.stderr,
    timedOut: w.timedOut,
    aborted: w.aborted,
    durationMs: w.durationMs,
    ...(w.cwd !== undefined ? { cwd: w.cwd } : {}),
  };
}

function mapError(e: unknown): unknown {
  if (!(e instanceof SupervisorOpError)) return e;
  if (TOOL_CODES.has(e.code)) return new SandboxToolError(e.code as SandboxToolErrorCode, e.message);
  if (e.code === 'permission') return new SandboxToolError('invalid', e.message);
  return e;
}
