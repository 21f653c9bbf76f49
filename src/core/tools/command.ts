/**
 * run_command: one shell command in the sandbox. A non-zero exit, a timeout or
 * an abort is reported to the model as an error outcome (it can act on it); the
 * sandbox kills the process in the last two cases (SandboxPort contract).
 */
import { z } from 'zod';
import type { ExecResult } from '../sandbox/port.ts';
import { defineTool, type ToolOutcome } from './define.ts';
import { WORKSPACE_MOUNT } from './paths.ts';

export const COMMAND_DEFAULT_TIMEOUT_S = 120;
export const COMMAND_MAX_TIMEOUT_S = 600;

export const runCommandTool = defineTool({
  name: 'run_command',
  description:
    `Run a shell command (sh) in the sandbox, starting in the workspace (mounted at ${WORKSPACE_MOUNT}); ` +
    'the working directory persists between calls. Returns the exit code, stdout and stderr. ' +
    `The command is killed after timeout_s seconds (default ${COMMAND_DEFAULT_TIMEOUT_S}, max ${COMMAND_MAX_TIMEOUT_S}). ` +
    'Nothing reads stdin, so avoid interactive commands; long output is shortened to its beginning and end.',
  readOnly: false,
  schema: z.strictObject({
    command: z.string().regex(/\S/, 'must not be empty').describe('The command line, e.g. "npm test -- --grep parser".'),
    timeout_s: z
      .number()
      .int()
      .min(1)
      .max(COMMAND_MAX_TIMEOUT_S)
      .optional()
      .describe(`Seconds before the command is killed. Default ${COMMAND_DEFAULT_TIMEOUT_S}.`),
  }),
  async execute(args, ctx) {
    const timeoutS = args.timeout_s ?? COMMAND_DEFAULT_TIMEOUT_S;
    const result = await ctx.sandbox.exec(
      { command: args.command, callId: ctx.callId, timeoutMs: timeoutS * 1000 },
      ctx.signal,
      ctx.onOutput,
    );
    return formatExecResult(result, timeoutS);
  },
  async recover(args, ctx) {
    if (!ctx.sandbox.recall) return undefined;
    const timeoutS = args.timeout_s ?? COMMAND_DEFAULT_TIMEOUT_S;
    const result = await ctx.sandbox.recall({ command: args.command, callId: ctx.callId, timeoutMs: timeoutS * 1000 }, ctx.signal, ctx.onOutput);
    if (!result) return undefined;
    const outcome = formatExecResult(result, timeoutS);
    return { ...outcome, meta: { ...outcome.meta, recovered: true } };
  },
});

/** The model-facing report of one command, with structured meta for the log and UI. */
export function formatExecResult(result: ExecResult, timeoutS: number): ToolOutcome {
  const status = result.aborted
    ? 'Aborted: the run was stopped and the command was killed.'
    : result.timedOut
      ? `Timed out after ${timeoutS} s: the command was killed. Use a larger timeout_s (max ${COMMAND_MAX_TIMEOUT_S}) or a quicker command.`
      : `Exit code: ${result.exitCode ?? 'none (killed by a signal)'}`;
  const sections = [status];
  if (result.cwd !== undefined && result.cwd !== WORKSPACE_MOUNT) sections.push(`Working directory: ${result.cwd}`);
  if (result.stdout !== '') sections.push(`--- stdout ---\n${withoutFinalNewline(result.stdout)}`);
  if (result.stderr !== '') sections.push(`--- stderr ---\n${withoutFinalNewline(result.stderr)}`);
  if (result.stdout === '' && result.stderr === '') sections.push('(no output)');
  return {
    output: sections.join('\n'),
    isError: result.aborted || result.timedOut || result.exitCode !== 0,
    meta: {
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      aborted: result.aborted,
      durationMs: result.durationMs,
      ...(result.cwd !== undefined ? { cwd: result.cwd } : {}),
    },
  };
}

function withoutFinalNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
