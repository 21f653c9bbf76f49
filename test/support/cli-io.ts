/** An in-process CliIo that records output (for driving `main` in tests). */
import path from 'node:path';
import type { CliIo } from '../../src/cli/io.ts';

export interface RecordingIo extends CliIo {
  stdout: string[];
  stderr: string[];
}

export function recordingIo(env: Record<string, string | undefined> = {}, cwd = process.cwd()): RecordingIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    env,
    cwd,
    stdout,
    stderr,
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    onInterrupt: () => () => {},
    installDir: path.resolve('.'),
  };
}
