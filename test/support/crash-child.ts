/**
 * A child process for crash tests: drives one scripted team run (start or
 * resume) with the real runtime against the fake provider in the parent, over
 * a DirSandbox whose exec log is durable. It prints one line per event so the
 * parent can kill -9 it at a chosen point:
 *   E <seq> <type> [tool name]   a durable event (already fsynced)
 *   D <agentId>                  a streamed token delta (live only)
 *   OUTCOME <json>               the run stopped
 * Inputs (env): CB_WORKSPACE, CB_SANDBOX, CB_EXECLOG, CB_PROVIDER, CB_FAKE_URL,
 * CB_MODE (start|resume), CB_RUN_ID.
 */
import { createRuntimeDeps } from '../../src/core/compose.ts';
import { buildRunConfig } from '../../src/core/config.ts';
import { CrewRuntime } from '../../src/core/runtime/runtime.ts';
import type { ProviderName, RunEvent } from '../../src/core/events/schema.ts';
import { DirSandbox } from './dir-sandbox.ts';
import { CRASH_COMMAND_MS, crashScenarioCommands } from './crash-scenario.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const provider = env('CB_PROVIDER') as ProviderName;
const fakeUrl = env('CB_FAKE_URL');
const sandbox = new DirSandbox({ root: env('CB_SANDBOX'), execLogPath: env('CB_EXECLOG') });
crashScenarioCommands(sandbox, CRASH_COMMAND_MS);

const runtime = new CrewRuntime(
  createRuntimeDeps({
    workspace: env('CB_WORKSPACE'),
    sandbox,
    env: { OPENAI_API_KEY: 'sk-test-crash-00000000', OPENAI_BASE_URL: `${fakeUrl}/v1`, ANTHROPIC_API_KEY: 'sk-ant-test-crash-0000', ANTHROPIC_BASE_URL: fakeUrl },
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  }),
);

const print = (e: RunEvent): void => {
  if (e.type === 'model.delta') process.stdout.write(`D ${e.agentId}\n`);
  else if (e.type !== 'model.tool_delta' && e.type !== 'tool.output') {
    process.stdout.write(`E ${e.seq} ${e.type}${e.type === 'tool.started' ? ` ${e.name}` : ''}\n`);
  }
};

const mode = env('CB_MODE');
const handle =
  mode === 'start'
    ? await runtime.start('Fix the failing test', {
        runId: env('CB_RUN_ID'),
        config: buildRunConfig({ provider, model: provider === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5' }),
        onEvent: print,
      })
    : await runtime.resume(env('CB_RUN_ID'), { onEvent: print });
const outcome = await handle.done;
process.stdout.write(`OUTCOME ${JSON.stringify(outcome)}\n`);
