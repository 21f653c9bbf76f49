/**
 * Loop detection across all agents of a run. A call "repeats" when the same
 * tool is called with the same arguments and produces the same result: a test
 * suite re-run after a fix (different output) is progress, not a loop.
 * The counts are folded from the log (fold.ts), so they survive resume.
 */
import { createHash } from 'node:crypto';

export const LOOP_WARN_AT = 3;
export const LOOP_HALT_AT = 5;

/** Canonical JSON: object keys sorted, so argument order does not matter. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function loopSignature(tool: string, args: unknown, output: string): string {
  return createHash('sha256').update(tool).update('\0').update(canonical(args)).update('\0').update(output).digest('hex').slice(0, 32);
}

export type LoopVerdict = { kind: 'ok' } | { kind: 'warn'; count: number } | { kind: 'halt'; count: number };

export function judgeRepeat(count: number): LoopVerdict {
  if (count >= LOOP_HALT_AT) return { kind: 'halt', count };
  if (count >= LOOP_WARN_AT) return { kind: 'warn', count };
  return { kind: 'ok' };
}
