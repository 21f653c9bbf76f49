/**
 * `npm run demo`: the core runtime end to end with no API key and no Docker.
 * A scripted model (the project's fake provider server, spoken to through the
 * real OpenAI SDK) plays the team; the workspace is an in-memory sandbox
 * double. Prints live progress, then the run's trace summary, and leaves the
 * run in ./.demo-workspace/.crewbox for inspection.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { createRuntime } from '../../src/core/compose.ts';
import { buildRunConfig } from '../../src/core/config.ts';
import { summarizeByAgent } from '../../src/core/trace/tree.ts';
import { createProgressRenderer } from '../../src/cli/render.ts';
import { startFakeProvider, scriptByRole } from '../support/fake-provider/index.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { fakeEnv } from '../support/team-harness.ts';
import { CRASH_SCRIPT, CRASH_FILES } from '../support/crash-scenario.ts';

const workspace = path.resolve('.demo-workspace');
await rm(workspace, { recursive: true, force: true });
await mkdir(workspace, { recursive: true });

const sandbox = new MemorySandbox({ ...CRASH_FILES });
sandbox.onCommand(/^npm (test|run build)$/, (_c, { files }) =>
  files.get('src/math.js')?.includes('a + b') ? { exitCode: 0, stdout: '1 passing\n' } : { exitCode: 1, stdout: '1 failing\n' },
);
const fake = await startFakeProvider({ respond: scriptByRole(CRASH_SCRIPT) });
try {
  const runtime = createRuntime({ workspace, sandbox, env: fakeEnv(fake) });
  const handle = await runtime.start('Fix add() so the tests pass', {
    config: buildRunConfig({ provider: 'openai', model: 'gpt-4.1-mini' }),
    onEvent: createProgressRenderer((line) => console.log(line)),
  });
  const outcome = await handle.done;
  console.log('\nper agent:');
  for (const a of summarizeByAgent(await runtime.events(handle.runId))) {
    console.log(`  ${a.agentId.padEnd(16)} steps ${a.totals.steps}  tokens ${a.totals.usage.inputTokens + a.totals.usage.outputTokens}  $${a.totals.costUsd.toFixed(5)}`);
  }
  console.log(`\nsrc/math.js in the sandbox now:\n${sandbox.files.get('src/math.js')}`);
  console.log(`run log: ${path.join(workspace, '.crewbox', 'runs', handle.runId, 'events.jsonl')}`);
  process.exitCode = outcome.status === 'completed' ? 0 : 1;
} finally {
  await fake.close();
}
