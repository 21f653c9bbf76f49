/** Command name → implementation. */
import type { ParsedCommand } from './args.ts';
import type { CliIo } from './io.ts';
import { resumeCommand, runCommand } from './commands/run.ts';
import { runsCommand } from './commands/runs.ts';
import { traceCommand } from './commands/trace.ts';
import { applyCommand, diffCommand, rollbackCommand } from './commands/changes.ts';
import { sandboxCommand } from './commands/sandbox.ts';

export function dispatch(p: ParsedCommand, io: CliIo): Promise<number> {
  switch (p.command) {
    case 'run':
      return runCommand(p, io);
    case 'resume':
      return resumeCommand(p, io);
    case 'runs':
      return runsCommand(p, io);
    case 'trace':
      return traceCommand(p, io);
    case 'diff':
      return diffCommand(p, io);
    case 'apply':
      return applyCommand(p, io);
    case 'rollback':
      return rollbackCommand(p, io);
    case 'sandbox':
      return sandboxCommand(p, io);
  }
}
