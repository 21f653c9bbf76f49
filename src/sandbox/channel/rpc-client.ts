/**
 * Host side of the supervisor channel: JSON lines over the stdin/stdout of one
 * long-lived process (sandbox/supervisor/PROTOCOL.md).
 *
 * Contract:
 * - `call` sends one request and settles with its validated result, or with
 *   SupervisorOpError for a typed `{ok: false}` answer. Notifications for the
 *   request go to `onNotification` as they arrive.
 * - Abort: with `onAbort` (exec: send `kill`), the call keeps waiting for its
 *   answer, which then reports the kill; without it, the call rejects at once
 *   with the signal's reason and a late answer is dropped.
 * - When the channel ends for any reason, every pending and later call rejects
 *   with the same error: what `describeLoss` makes of it (launch.ts answers
 *   DockerError 'container_gone' when the container went away), else
 *   SandboxChannelError 'closed'. `close()` ends stdin and waits for the
 *   supervisor to exit (it first lets running commands finish).
 */
import type { Readable, Writable } from 'node:stream';
import { SandboxChannelError, SupervisorOpError } from './errors.ts';
import { incomingSchema, readySchema, resultSchemas, type Notification, type OpName, type OpParams, type OpResult, type SupervisorInfo } from './protocol.ts';

export interface RpcStreams {
  /** The supervisor's stdin. */
  input: Writable;
  /** The supervisor's stdout. */
  output: Readable;
  /** The supervisor's stderr (diagnostics; its tail goes into loss errors). */
  stderr?: Readable;
}

export interface ChannelEnd {
  /** What ended the channel, when known. */
  cause?: unknown;
  /** The last few KB the supervisor wrote to stderr. */
  stderrTail: string;
}

export interface RpcClientOptions {
  describeLoss?: (end: ChannelEnd) => Promise<Error>;
  onStderr?: (text: string) => void;
}

export interface CallOptions {
  signal?: AbortSignal;
  onAbort?: () => void;
  onNotification?: (n: Notification) => void;
  /** Host-side deadline (SandboxChannelError 'timeout'); the supervisor keeps its own. */
  timeoutMs?: number;
}

interface Pending {
  op: OpName;
  resolve(value: unknown): void;
  reject(error: Error): void;
  onNotification?: (n: Notification) => void;
}

const NEWLINE = 0x0a;
const STDERR_TAIL_CHARS = 4096;
const STDERR_SETTLE_MS = 30;

export class RpcClient {
  /** Resolves with the supervisor's ready line; rejects if the channel ends first. */
  readonly ready: Promise<SupervisorInfo>;
  private info_: SupervisorInfo | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lost: Promise<Error> | undefined;
  private closing = false;
  private stderrTail = '';
  private buffered: Buffer[] = [];
  private resolveReady!: (info: SupervisorInfo) => void;
  private rejectReady!: (error: Error) => void;
  private readonly ended: Promise<void>;

  constructor(
    private readonly streams: RpcStreams,
    private readonly options: RpcClientOptions = {},
  ) {
    this.ready = new Promise<SupervisorInfo>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.ended = new Promise<void>((resolve) => {
      streams.output.once('close', resolve);
      streams.output.once('end', resolve);
    });
    streams.output.on('data', (chunk: Buffer) => this.onData(chunk));
    streams.output.once('end', () => this.fail(undefined));
    streams.output.once('close', () => this.fail(undefined));
    streams.output.once('error', (e) => this.fail(e));
    streams.input.on('error', (e) => this.fail(e));
    streams.stderr?.setEncoding('utf8');
    streams.stderr?.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
      options.onStderr?.(text);
    });
  }

  /** The ready line's data; undefined before ready. */
  get info(): SupervisorInfo | undefined {
    return this.info_;
  }

  get isClosed(): boolean {
    return this.lost !== undefined;
  }

  /** Resolves with the error calls get once the channel has ended. */
  async whenClosed(): Promise<Error> {
    await this.ended;
    return this.lost ?? new SandboxChannelError('closed', 'The supervisor channel is closed.');
  }

  call<K extends OpName>(op: K, params: OpParams[K], options: CallOptions = {}): Promise<OpResult<K>> {
    const { signal, onAbort, onNotification, timeoutMs } = options;
    if (this.lost) return this.lost.then((e) => Promise.reject(e));
    if (signal?.aborted && !onAbort) return Promise.reject(abortReason(signal));
    const id = this.nextId++;
    return new Promise<OpResult<K>>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onSignal);
        this.pending.delete(id);
      };
      const onSignal = (): void => {
        if (onAbort) return onAbort();
        cleanup();
        reject(abortReason(signal!));
      };
      this.pending.set(id, {
        op,
        resolve: (v) => {
          cleanup();
          resolve(v as OpResult<K>);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
        ...(onNotification ? { onNotification } : {}),
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(new SandboxChannelError('timeout', `The sandbox supervisor did not answer ${op} within ${Math.round(timeoutMs / 1000)} s.`));
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onSignal, { once: true });
      this.streams.input.write(`${JSON.stringify({ ...params, id, op })}\n`);
      if (signal?.aborted) onSignal();
    });
  }

  /** Ends the supervisor's stdin and waits (up to `timeoutMs`) for it to exit; then drops the connection. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closing = true;
    if (!this.streams.input.writableEnded) this.streams.input.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.streams.input.destroy();
    this.streams.output.destroy();
    this.fail(undefined, new SandboxChannelError('closed', 'The supervisor channel was closed.'));
  }

  /**
   * Drops the connection at once, as a crashed host would: pending calls
   * reject with SandboxChannelError 'closed'; the supervisor sees EOF and
   * finishes its running commands into the journal.
   */
  destroy(): void {
    this.closing = true;
    this.streams.input.destroy();
    this.streams.output.destroy();
    this.fail(undefined, new SandboxChannelError('closed', 'The supervisor channel was dropped.'));
  }

  private async describe(cause: unknown): Promise<Error> {
    // The supervisor's last words on stderr may still be in flight.
    await delay(STDERR_SETTLE_MS);
    const end: ChannelEnd = { cause, stderrTail: this.stderrTail };
    try {
      return this.options.describeLoss ? await this.options.describeLoss(end) : defaultLoss(end);
    } catch (e) {
      return e instanceof Error ? e : defaultLoss(end);
    }
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let i = chunk.indexOf(NEWLINE); i >= 0; i = chunk.indexOf(NEWLINE, start)) {
      const parts = this.buffered.length > 0 ? [...this.buffered, chunk.subarray(start, i)] : [chunk.subarray(start, i)];
      this.buffered = [];
      start = i + 1;
      this.onLine(Buffer.concat(parts).toString('utf8'));
    }
    if (start < chunk.length) this.buffered.push(chunk.subarray(start));
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      return this.fail(e, new SandboxChannelError('protocol', `The sandbox supervisor wrote a line that is not JSON: ${line.slice(0, 120)}`));
    }
    const message = incomingSchema.safeParse(parsed);
    if (!message.success) {
      return this.fail(message.error, new SandboxChannelError('protocol', `The sandbox supervisor wrote an unexpected message: ${line.slice(0, 120)}`));
    }
    const m = message.data;
    if ('event' in m && m.event === 'ready') {
      const { event: _event, ...info } = readySchema.parse(m);
      this.info_ = info;
      this.resolveReady(info);
      return;
    }
    const pending = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (pending === undefined) return; // Aborted or timed out meanwhile.
    if ('event' in m) return pending.onNotification?.(m);
    if (m.ok) {
      const result = resultSchemas[pending.op].safeParse(m.result);
      if (result.success) pending.resolve(result.data);
      else pending.reject(new SandboxChannelError('protocol', `The sandbox supervisor answered ${pending.op} with an unexpected result: ${result.error.message}`));
    } else {
      pending.reject(new SupervisorOpError(pending.op, m.error.code, m.error.message));
    }
  }

  /** Ends the channel once; every pending call rejects with the described error. */
  private fail(cause: unknown, error?: Error): void {
    if (this.lost) return;
    if (this.closing) error ??= new SandboxChannelError('closed', 'The supervisor channel was closed.');
    const describe = error ? Promise.resolve(error) : this.describe(cause);
    this.lost = describe;
    this.streams.input.destroy();
    void describe.then((e) => {
      this.rejectReady(e);
      for (const p of [...this.pending.values()]) p.reject(e);
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function defaultLoss(end: ChannelEnd): SandboxChannelError {
  const tail = end.stderrTail.trim();
  return new SandboxChannelError('closed', `The sandbox supervisor stopped${tail ? `: ${tail.split('\n').slice(-3).join(' | ')}` : '.'}`, { cause: end.cause });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted.', 'AbortError');
}
