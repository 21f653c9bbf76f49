/**
 * The durable run log: one JSON event per line in `runs/<runId>/events.jsonl`.
 *
 * Contract:
 * - `append` is synchronous and returns only once the line is on disk
 *   (single write + fdatasync), so "durable before the tool runs" is simply
 *   "append, then run the tool". Cost per append does not depend on the
 *   length of the log: the file descriptor stays open, nothing is re-read.
 *   `appendBatch` makes several events durable with one write and one sync.
 *   `{ sync: false }` writes the line but leaves its sync to the next synced
 *   append (one fdatasync covers every earlier write to the file) or to
 *   close(): for an event that only has to be durable before the next one
 *   is, such as a model turn before its first `tool.started`. A process crash
 *   (kill -9) loses nothing (the kernel holds the written line); a power cut
 *   may lose that last unsynced line, which recovery treats as a torn tail.
 * - One writer per log. The caller must hold the run lock (locks.ts) while a
 *   log is open for appending.
 * - Damage (torn last line, corrupt or invalid line, seq gap) is reported as
 *   LogProblems. The good prefix is every event before the first problem.
 *   Opening a damaged log for appending first saves the original bytes as
 *   `events.jsonl.corrupt-<timestamp>`, then cuts the live file back to the
 *   good prefix, so a new line never joins a torn one and nothing is lost.
 * - On macOS fdatasync reaches the drive but not its cache (Node has no
 *   F_FULLFSYNC); a power cut there can still lose the last few events, which
 *   the recovery above then handles.
 */
import { closeSync, constants, copyFileSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, truncateSync, writeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { EPHEMERAL_EVENT_TYPES, EVENT_SCHEMA_VERSION, RunEvent } from '../events/schema.ts';
import type { EventInput } from '../events/schema.ts';
import { StoreError, errnoCode, readError, writeError } from './errors.ts';
import { syncDirSync } from './layout.ts';

export interface AppendOptions {
  /** false: write now, sync with the next synced append or on close (see the contract above). Default true. */
  sync?: boolean;
}

export type LogProblemKind = 'torn_tail' | 'corrupt_line' | 'invalid_event' | 'seq_gap' | 'run_mismatch';

export interface LogProblem {
  kind: LogProblemKind;
  /** 1-based line number in the file. */
  line: number;
  /** Byte offset of the start of that line. */
  offset: number;
  /** One sentence for the user. */
  message: string;
}

export interface RunLogRead {
  /** The good prefix: every event before the first problem. */
  events: RunEvent[];
  problems: LogProblem[];
  /** Problems found but not listed (the list is capped at MAX_REPORTED_PROBLEMS). */
  omittedProblems: number;
}

export interface LogRecovery {
  problems: LogProblem[];
  omittedProblems: number;
  /** Where the original, damaged file was saved, byte for byte. */
  corruptCopy: string;
  keptEvents: number;
  droppedBytes: number;
  /** What happened, in sentences for the user. */
  summary: string;
}

export interface OpenedEventLog {
  log: EventLog;
  /** The events already in the log (after recovery), oldest first. */
  events: RunEvent[];
  recovery: LogRecovery | undefined;
}

export const MAX_REPORTED_PROBLEMS = 100;

/** Reads a run log without changing it. Throws StoreError `not_found` / `unreadable`. */
export async function readRunLog(file: string): Promise<RunLogRead> {
  const { events, problems, omittedProblems } = scanRunLog(await readLogBytes(file));
  return { events, problems, omittedProblems };
}

async function readLogBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw readError(file, 'run log', e);
  }
}

interface Scan extends RunLogRead {
  /** Length in bytes of the good prefix. */
  goodBytes: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function scanRunLog(bytes: Uint8Array): Scan {
  const events: RunEvent[] = [];
  const problems: LogProblem[] = [];
  let omittedProblems = 0;
  let goodBytes = 0;
  let runId: string | undefined;
  let lastSeq = 0;
  let lastStep = 0;
  let badSinceLastGood = 0;

  const report = (kind: LogProblemKind, line: number, offset: number, message: string): void => {
    if (problems.length < MAX_REPORTED_PROBLEMS) problems.push({ kind, line, offset, message });
    else omittedProblems++;
  };

  for (let offset = 0, line = 1; offset < bytes.length; line++) {
    const end = bytes.indexOf(0x0a, offset);
    if (end === -1) {
      report('torn_tail', line, offset, `Line ${line} is incomplete (${bytes.length - offset} bytes with no line end): the process probably stopped in the middle of writing it.`);
      break;
    }
    const parsed = parseLine(bytes.subarray(offset, end), line);
    const next = end + 1;
    if (!parsed.ok) {
      report(parsed.kind, line, offset, parsed.message);
      badSinceLastGood++;
      offset = next;
      continue;
    }
    const event = parsed.event;
    const expectedSeq = lastSeq + 1 + badSinceLastGood;
    runId ??= event.runId;
    let ok = true;
    if (event.runId !== runId) {
      report('run_mismatch', line, offset, `Line ${line} belongs to run "${event.runId}", not "${runId}".`);
      ok = false;
    } else if (event.seq !== expectedSeq) {
      report('seq_gap', line, offset, `Line ${line} has seq ${event.seq} where ${expectedSeq} was expected: events are missing, repeated or out of order.`);
      ok = false;
    } else if (event.step < lastStep) {
      report('invalid_event', line, offset, `Line ${line} goes back to step ${event.step} after step ${lastStep}; steps never decrease along a log.`);
      ok = false;
    }
    if (ok && problems.length === 0 && omittedProblems === 0) {
      events.push(event);
      goodBytes = next;
    }
    // Later checks run relative to the last readable event, so one bad line yields one problem, not a cascade.
    lastSeq = event.seq;
    lastStep = Math.max(lastStep, event.step);
    badSinceLastGood = 0;
    offset = next;
  }
  return { events, problems, omittedProblems, goodBytes };
}

type ParsedLine = { ok: true; event: RunEvent } | { ok: false; kind: 'corrupt_line' | 'invalid_event'; message: string };

function parseLine(raw: Uint8Array, line: number): ParsedLine {
  if (raw.length === 0) return { ok: false, kind: 'corrupt_line', message: `Line ${line} is empty.` };
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return { ok: false, kind: 'corrupt_line', message: `Line ${line} is not valid UTF-8 text.` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, kind: 'corrupt_line', message: `Line ${line} is not valid JSON.` };
  }
  const result = RunEvent.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
    return { ok: false, kind: 'invalid_event', message: `Line ${line} is not a valid run event${where}: ${issue?.message ?? 'schema mismatch'}.` };
  }
  if (EPHEMERAL_EVENT_TYPES.has(result.data.type)) {
    return { ok: false, kind: 'invalid_event', message: `Line ${line} holds a "${result.data.type}" event, which is live-only and never belongs in a log.` };
  }
  return { ok: true, event: result.data };
}

export interface EventLogOptions {
  /** Clock for event timestamps (tests). */
  now?: () => Date;
}

export class EventLog {
  readonly path: string;
  readonly runId: string;
  readonly #now: () => Date;
  #fd: number | undefined;
  /** A line was written with `sync: false` and no sync has covered it yet. */
  #unsynced = false;
  /** Bytes known to be durable; a failed append is cut back to this length. */
  #size: number;
  #seq: number;
  #step: number;
  #broken = false;

  private constructor(file: string, runId: string, fd: number, size: number, last: RunEvent | undefined, now: () => Date) {
    this.path = file;
    this.runId = runId;
    this.#fd = fd;
    this.#size = size;
    this.#seq = last?.seq ?? 0;
    this.#step = last?.step ?? 0;
    this.#now = now;
  }

  /**
   * Opens (creating if needed) the log of `runId` at `file` for appending,
   * recovering it first if damaged (see the module contract). Throws
   * StoreError `unreadable`, `write_failed`, or `run_mismatch` when the file
   * belongs to another run (it is then left untouched).
   */
  static async open(file: string, runId: string, options: EventLogOptions = {}): Promise<OpenedEventLog> {
    const now = options.now ?? (() => new Date());
    try {
      await mkdir(path.dirname(file), { recursive: true });
    } catch (e) {
      throw writeError(path.dirname(file), 'run directory', e);
    }
    let bytes: Buffer | undefined;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw readError(file, 'run log', e);
    }
    const scan = bytes ? scanRunLog(bytes) : { events: [], problems: [], omittedProblems: 0, goodBytes: 0 };
    const first = scan.events[0];
    if (first && first.runId !== runId) {
      throw new StoreError('run_mismatch', `The run log ${file} belongs to run "${first.runId}", not "${runId}"; it was left untouched.`, { path: file });
    }
    const recovery = bytes && scan.problems.length > 0 ? recover(file, bytes, scan, now()) : undefined;

    let fd: number;
    try {
      fd = openSync(file, 'a');
      if (!bytes) syncDirSync(path.dirname(file));
    } catch (e) {
      throw writeError(file, 'run log', e);
    }
    const log = new EventLog(file, runId, fd, scan.goodBytes, scan.events.at(-1), now);
    return { log, events: scan.events, recovery };
  }

  get lastSeq(): number {
    return this.#seq;
  }

  get lastStep(): number {
    return this.#step;
  }

  /**
   * Validates, numbers and durably appends one event; returns it as stored.
   * Throws StoreError `ephemeral_event` / `invalid_event` (nothing written),
   * `write_failed` (nothing written: a partial line was cut back), or
   * `log_broken` (a partial line could not be cut back; the log refuses
   * further appends and the next open recovers it).
   */
  append(input: EventInput, opts: AppendOptions = {}): RunEvent {
    return this.appendBatch([input], opts)[0] as RunEvent;
  }

  /**
   * Appends several events with one write and one fdatasync, all or none (a
   * batch cut short by a crash is a torn tail, dropped on recovery). For
   * events that may become durable together, such as a model turn and the
   * `tool.started` of its first call. Errors as for `append`.
   */
  appendBatch(inputs: readonly EventInput[], opts: AppendOptions = {}): RunEvent[] {
    const fd = this.#fd;
    if (fd === undefined) throw new StoreError('log_closed', `The run log ${this.path} is closed.`, { path: this.path });
    if (this.#broken) throw new StoreError('log_broken', `The run log ${this.path} could not be repaired after a failed write; reopen it to recover.`, { path: this.path });
    const ts = this.#now().toISOString();
    const events: RunEvent[] = [];
    let seq = this.#seq;
    let step = this.#step;
    for (const input of inputs) {
      const event = this.#validate(input, ++seq, step, ts);
      step = event.step;
      events.push(event);
    }
    if (events.length === 0) return events;
    let bytes: Buffer;
    try {
      bytes = Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');
    } catch (e) {
      throw new StoreError('invalid_event', 'An event cannot be serialised as JSON.', { path: this.path, cause: e });
    }
    try {
      // One write call in practice; the loop only guards against a short write.
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
      if (opts.sync === false) this.#unsynced = true;
      else {
        fdatasyncSync(fd);
        this.#unsynced = false;
      }
    } catch (e) {
      this.#cutBack();
      throw writeError(this.path, 'run log', e);
    }
    this.#size += bytes.length;
    this.#seq = seq;
    this.#step = step;
    return events;
  }

  #validate(input: EventInput, seq: number, lastStep: number, ts: string): RunEvent {
    if (EPHEMERAL_EVENT_TYPES.has(input.type)) {
      throw new StoreError('ephemeral_event', `"${input.type}" events are live-only and are never written to the log.`, { path: this.path });
    }
    if (input.step < lastStep) {
      throw new StoreError('invalid_event', `Step ${input.step} comes after step ${lastStep}; steps never decrease along a log.`, { path: this.path });
    }
    const result = RunEvent.safeParse({ ...input, v: EVENT_SCHEMA_VERSION, runId: this.runId, seq, ts });
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
      throw new StoreError('invalid_event', `A "${input.type}" event is invalid${where}: ${issue?.message ?? 'schema mismatch'}.`, { path: this.path, cause: result.error });
    }
    return result.data;
  }

  /** Idempotent. */
  close(): void {
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined && this.#unsynced) {
      this.#unsynced = false;
      try {
        fdatasyncSync(fd);
      } catch {
        // Closing still happens; the line stays as durable as the kernel makes it.
      }
    }
    if (fd !== undefined) closeSync(fd);
  }

  #cutBack(): void {
    try {
      ftruncateSync(this.#fd as number, this.#size);
      fdatasyncSync(this.#fd as number);
    } catch {
      this.#broken = true;
    }
  }
}

/** Saves the damaged file's exact bytes beside it, then cuts the live file to the good prefix. */
function recover(file: string, original: Buffer, scan: Scan, at: Date): LogRecovery {
  const corruptCopy = saveCorruptCopy(file, at);
  try {
    truncateSync(file, scan.goodBytes);
    const fd = openSync(file, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw writeError(file, 'run log', e);
  }
  const first = scan.problems[0] as LogProblem;
  const total = scan.problems.length + scan.omittedProblems;
  const last = scan.events.at(-1);
  const kept = last ? `Kept the first ${scan.events.length} events (up to seq ${last.seq}).` : 'No event before the damage could be kept.';
  const more = total > 1 ? ` ${total - 1} more problem${total > 2 ? 's' : ''} after it.` : '';
  return {
    problems: scan.problems,
    omittedProblems: scan.omittedProblems,
    corruptCopy,
    keptEvents: scan.events.length,
    droppedBytes: original.length - scan.goodBytes,
    summary: `The run log ${file} was damaged: ${first.message}${more} ${kept} The original file was saved as ${corruptCopy}.`,
  };
}

function saveCorruptCopy(file: string, at: Date): string {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  for (let n = 0; ; n++) {
    const copy = `${file}.corrupt-${stamp}${n === 0 ? '' : `-${n}`}`;
    try {
      copyFileSync(file, copy, constants.COPYFILE_EXCL);
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') continue;
      throw writeError(copy, 'copy of the damaged run log', e);
    }
    try {
      const fd = openSync(copy, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      syncDirSync(path.dirname(copy));
    } catch (e) {
      throw writeError(copy, 'copy of the damaged run log', e);
    }
    return copy;
  }
}
