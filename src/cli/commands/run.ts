/** `crewbox run` and `crewbox resume`: drive the team in the workspace's sandbox. */
import type { ProviderName } from '../../core/events/schema.ts';
import { buildRunConfig } from '../../core/config.ts';
import { positiveNumber, requireRunId, UsageError, type ParsedCommand } from '../args.ts';
import type { CliIo } from '../io.ts';
import { openCliRuntime } from '../runtime.ts';
import { driveToEnd, eventPrinter } from './drive.ts';

const KEY_VARS: Record<ProviderName, string> = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' };

function chooseProvider(p: ParsedCommand, io: CliIo): ProviderName {
  const flag = p.values['provider'];
  if (flag !== undefined) {
    if (flag !== 'openai' && flag !== 'anthropic') throw new UsageError(`--provider must be "openai" or "anthropic", got "${String(flag)}".`);
    return flag;
  }
  return io.env['ANTHROPIC_API_KEY'] && !io.env['OPENAI_API_KEY'] ? 'anthropic' : 'openai';
}

export async function runCommand(p: ParsedCommand, io: CliIo): Promise<number> {
  const goal = p.positionals.join(' ').trim();
  if (!goal) throw new UsageError('crewbox run needs a GOAL, e.g. crewbox run "fix the failing test".');
  const provider = chooseProvider(p, io);
  const maxSteps = positiveNumber(p.values['max-steps'], 'max-steps', true);
  const budgetUsd = positiveNumber(p.values['budget-usd'], 'budget-usd', false);
  if (!io.env[KEY_VARS[provider]]?.trim()) {
    io.err(`No ${provider === 'openai' ? 'OpenAI' : 'Anthropic'} API key: set ${KEY_VARS[provider]} (or pass --provider to use the other one).`);
    return 1;
  }
  const model = typeof p.values['model'] === 'string' ? p.values['model'] : undefined;
  const network = p.values['network'] === true;
  const config = buildRunConfig({
    provider,
    ...(model ? { model } : {}),
    network,
    budgets: { ...(maxSteps ? { maxStepsTotal: maxSteps } : {}), ...(budgetUsd ? { maxCostUsd: budgetUsd } : {}) },
  });
  const onEvent = eventPrinter(io, p.values['json'] === true);
  const cli = await openCliRuntime(io, p.workspace, { network });
  try {
    const handle = await cli.runtime.start(goal, { config, onEvent });
    return await driveToEnd(io, cli.runtime, handle, onEvent);
  } finally {
    await cli.close();
  }
}

export async function resumeCommand(p: ParsedCommand, io: CliIo): Promise<number> {
  const runId = requireRunId(p);
  const message = typeof p.values['message'] === 'string' ? p.values['message'] : undefined;
  const onEvent = eventPrinter(io, p.values['json'] === true);
  const network = await networkOf(p.workspace, runId);
  const cli = await openCliRuntime(io, p.workspace, { network });
  try {
    const handle = await cli.runtime.resume(runId, { ...(message ? { message } : {}), onEvent });
    return await driveToEnd(io, cli.runtime, handle, onEvent);
  } finally {
    await cli.close();
  }
}

/** A resumed run keeps the network setting it started with (recorded in its log). */
async function networkOf(workspace: string, runId: string): Promise<boolean> {
  const { readRunLog } = await import('../../core/store/event-log.ts');
  const { crewboxPaths } = await import('../../core/store/layout.ts');
  const { events } = await readRunLog(crewboxPaths(workspace).runEvents(runId));
  const started = events.find((e) => e.type === 'run.started');
  return started?.type === 'run.started' ? started.config.network : false;
}
