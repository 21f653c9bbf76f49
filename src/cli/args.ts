/**
 * Command-line parsing (node:util parseArgs). The commands, flags and exit
 * codes are a fixed contract; see USAGE.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';

export const USAGE = `Usage: crewbox <command> [options]

Commands:
  run [--provider openai|anthropic] [--model NAME] [--network] [--max-steps N]
      [--budget-usd X] [--json] GOAL...     run the team on GOAL in the sandbox
  resume RUN_ID [--message TEXT] [--json]  continue a run (TEXT steers it or answers its question)
  runs [--json]                            list the workspace's runs
  trace RUN_ID [--json|--otlp]             every event of a run, with tool inputs and outputs
  diff RUN_ID                              the run's proposed change as a unified diff
  apply RUN_ID [--path P]... [--force]     apply the proposed change to the workspace
  rollback RUN_ID --to STEP                fork the run at STEP (files and conversation)
  sandbox build|status|rm                  manage the workspace's sandbox container
  sandbox gc                               delete checkpoint blobs no run refers to

Every command takes --workspace DIR (default: the current directory).
Exit codes: 0 completed, 1 failed or halted, 2 usage, 130 interrupted (SIGINT).
Keys: OPENAI_API_KEY / ANTHROPIC_API_KEY; base URLs: OPENAI_BASE_URL / ANTHROPIC_BASE_URL.`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const common = { workspace: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

const SPECS = {
  run: { ...common, provider: { type: 'string' }, model: { type: 'string' }, network: { type: 'boolean' }, 'max-steps': { type: 'string' }, 'budget-usd': { type: 'string' }, json: { type: 'boolean' } },
  resume: { ...common, message: { type: 'string' }, json: { type: 'boolean' } },
  runs: { ...common, json: { type: 'boolean' } },
  trace: { ...common, json: { type: 'boolean' }, otlp: { type: 'boolean' } },
  diff: { ...common },
  apply: { ...common, path: { type: 'string', multiple: true }, force: { type: 'boolean' } },
  rollback: { ...common, to: { type: 'string' } },
  sandbox: { ...common },
} satisfies Record<string, ParseArgsConfig['options']>;

export type CommandName = keyof typeof SPECS;

export interface ParsedCommand {
  command: CommandName;
  workspace: string;
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

export function parseCommandLine(argv: string[], cwd: string): ParsedCommand | 'help' {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') return 'help';
  if (!(command in SPECS)) throw new UsageError(`Unknown command "${command}".`);
  const name = command as CommandName;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: SPECS[name], allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (parsed.values.help) return 'help';
  const workspace = path.resolve(cwd, typeof parsed.values.workspace === 'string' ? parsed.values.workspace : '.');
  return { command: name, workspace, positionals: parsed.positionals, values: parsed.values as ParsedCommand['values'] };
}

export function requireRunId(p: ParsedCommand): string {
  const id = p.positionals[0];
  if (!id) throw new UsageError(`crewbox ${p.command} needs a RUN_ID (see "crewbox runs").`);
  if (p.positionals.length > 1) throw new UsageError(`Unexpected argument "${p.positionals[1]}".`);
  return id;
}

export function positiveNumber(value: unknown, flag: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag} must be a positive ${integer ? 'whole number' : 'number'}, got "${String(value)}".`);
  }
  return n;
}
