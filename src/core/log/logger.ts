/**
 * A small structured logger port. The core logs through `Logger`; the CLI
 * passes a stderr or file sink, the extension a LogOutputChannel sink.
 *
 * Contract:
 * - One JSON object per line: {time, level, msg, ...bindings, ...fields}.
 *   Later keys win (fields over child bindings over parent bindings), except
 *   that `time`, `level` and `msg` cannot be overridden: a binding or field
 *   with one of those names is written as `_time`, `_level` or `_msg`.
 * - Every line is redacted before it reaches the sink.
 * - Logging never throws: values JSON cannot carry are converted (Errors to
 *   {name, message, stack, ...}, bigints to strings, cycles kept out) and a
 *   failing sink is ignored, because a log line must not break a run.
 */
import type { Redactor } from '../redact.ts';
import { createRedactor } from '../redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface JsonLoggerOptions {
  sink: (line: string) => void;
  /** Lines below this level are dropped; default 'info'. */
  level?: LogLevel;
  /** Default: a redactor for the well-known key shapes only (no exact secrets). */
  redactor?: Redactor;
  /** Default: the system clock. */
  now?: () => Date;
}

const RESERVED = new Set(['time', 'level', 'msg']);

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function cycleSafe(): (key: string, value: unknown) => unknown {
  const ancestors: object[] = [];
  return function (this: unknown, key: string, value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return jsonSafe(key, value);
    // `this` is the object holding `value`; drop ancestors we have left.
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(value)) return '[Circular]';
    ancestors.push(value);
    return value;
  };
}

function stringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, jsonSafe);
  } catch {
    return JSON.stringify(record, cycleSafe());
  }
}

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const redactor = options.redactor ?? createRedactor();
  const now = options.now ?? (() => new Date());
  const { sink } = options;

  const make = (bindings: LogFields): Logger => {
    const write = (level: LogLevel, msg: string, fields: LogFields | undefined): void => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      try {
        const record: Record<string, unknown> = { time: now().toISOString(), level, msg: redactor.redact(msg) };
        const extra = fields ? { ...bindings, ...redactor.redactDeep(fields) } : bindings;
        for (const [key, value] of Object.entries(extra)) record[RESERVED.has(key) ? `_${key}` : key] = value;
        sink(stringify(record));
      } catch {
        // See the contract: logging never breaks the caller.
      }
    };
    return {
      debug: (msg, fields) => write('debug', msg, fields),
      info: (msg, fields) => write('info', msg, fields),
      warn: (msg, fields) => write('warn', msg, fields),
      error: (msg, fields) => write('error', msg, fields),
      // Bindings are redacted once, here, not on every line.
      child: (more) => make({ ...bindings, ...redactor.redactDeep(more) }),
    };
  };
  return make({});
}

const noop = (): void => {};

/** Discards everything. */
export const nullLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => nullLogger,
};
