/**
 * The CLI's top level: parse, dispatch, and the boundary where typed errors
 * become one clear sentence and an exit code. Free of side effects on import
 * (bin.ts is the process entry), so tests drive `main` in-process.
 */
import { createInterface } from 'node:readline/promises';
import { parseCommandLine, USAGE, UsageError } from './args.ts';
import { EXIT } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { dispatch } from './dispatch.ts';
import { describeError } from './errors.ts';

export function processIo(installDir: string): CliIo {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  return {
    env: process.env,
    cwd: process.cwd(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    ...(interactive
      ? {
          ask: async (question: string) => {
            const rl = createInterface({ input: process.stdin, output: process.stdout });
            try {
              return await rl.question(question);
            } finally {
              rl.close();
            }
          },
        }
      : {}),
    onInterrupt: (handler) => {
      let count = 0;
      const listener = () => {
        count += 1;
        // A second Ctrl-C leaves at once; the run log is durable either way.
        if (count > 1) process.exit(EXIT.interrupted);
        handler();
      };
      process.on('SIGINT', listener);
      return () => process.off('SIGINT', listener);
    },
    installDir,
  };
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv, io.cwd);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    throw e;
  }
  if (parsed === 'help') {
    io.out(USAGE);
    return EXIT.ok;
  }
  try {
    return await dispatch(parsed, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    const described = describeError(e);
    io.err(described.sentence);
    if (!described.known && e instanceof Error && e.stack) io.err(e.stack);
    return EXIT.failed;
  }
}

