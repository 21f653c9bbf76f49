/**
 * `npm run demo`: Crewbox's main job end to end on this machine, through the
 * real `crewbox` CLI and the real Docker sandbox. No LLM provider is reachable
 * here, so the project's fake provider server plays a scripted model (spoken
 * to through the real OpenAI SDK). A copy of a small buggy repo is fixed in
 * the sandbox, reviewed with `crewbox diff`, and applied with `crewbox apply`;
 * then the repo's own tests are run on the host. The workspace is left in
 * ./.demo-workspace for inspection (`npx crewbox runs --workspace .demo-workspace`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startFakeProvider, scriptByRole } from '../support/fake-provider/index.ts';
import type { FakeRequest, FakeResponse } from '../support/fake-provider/types.ts';

const call = (text: string, name: string, args: Record<string, unknown>): FakeResponse => ({ text, toolCalls: [{ name, args }], chunkDelayMs: 3 });
const lastResult = (req: FakeRequest): string => {
  const tools = req.messages.filter((m) => m.role === 'tool');
  const last = tools.at(-1);
  return last && last.role === 'tool' ? last.content : '';
};

const fake = await startFakeProvider({
  respond: scriptByRole({
    orchestrator: [
      call('Let me look at the repository first.', 'list_files', { path: '.' }),
      call('The tests fail in add(); I will have the developer fix it.', 'delegate', { agent: 'developer', task: 'Run `npm test`, find why add() in src/math.js fails, fix it, and make `npm test` pass.' }),
      call('Now an independent check by the tester.', 'delegate', { agent: 'tester', task: 'Run `npm test` and give a verdict.' }),
      call('Done.', 'finish', { summary: 'Fixed add() in src/math.js (it subtracted); npm test passes, verified by the tester.' }),
    ],
    developer: [
      call('Reproducing the failure.', 'run_command', { command: 'npm test' }),
      call('add() subtracts; fixing it.', 'edit_file', { path: 'src/math.js', old_string: 'return a - b;', new_string: 'return a + b;' }),
      call('Re-running the tests.', 'run_command', { command: 'npm test' }),
      call('All green.', 'finish', { summary: 'src/math.js: add() returned a - b; now a + b. npm test passes.' }),
    ],
    tester: [
      call('Running the suite.', 'run_command', { command: 'npm test' }),
      (req) => {
        const ok = /all tests passed/.test(lastResult(req));
        return call('Reporting.', 'finish', { summary: ok ? 'npm test: all tests passed.' : 'npm test fails.', verdict: ok ? 'pass' : 'fail' });
      },
    ],
  }),
});

const workspace = path.resolve('.demo-workspace');
rmSync(workspace, { recursive: true, force: true });
cpSync(path.resolve('test/fixtures/buggy-repo'), workspace, { recursive: true });
execFileSync('git', ['init', '-q'], { cwd: workspace });

const env = {
  ...process.env,
  OPENAI_API_KEY: 'sk-demo-not-a-real-key',
  OPENAI_BASE_URL: `${fake.url}/v1`,
  CREWBOX_BASE_IMAGE: process.env['CREWBOX_BASE_IMAGE'] ?? 'crewbox-base:bookworm',
};
/** Runs the CLI asynchronously: the fake provider answers from this same process. */
const crewbox = (...args: string[]): Promise<{ status: number | null; stdout: string }> => {
  console.log(`\n$ crewbox ${args.join(' ')}`);
  const child = spawn(process.execPath, [path.resolve('dist/cli.cjs'), ...args, '--workspace', workspace], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    process.stdout.write(d);
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout })));
};

try {
  if (!existsSync('dist/cli.cjs')) throw new Error('Build first: npm run build');
  const run = await crewbox('run', '--provider', 'openai', 'Fix the failing test');
  if (run.status !== 0) throw new Error(`crewbox run exited ${run.status}`);
  const runs = await crewbox('runs');
  const runId = runs.stdout.split('\n')[1]!.split(/\s+/)[0]!;
  await crewbox('diff', runId);
  await crewbox('apply', runId);
  console.log('\n$ npm test   (on the host, after apply)');
  const tests = spawn('npm', ['test', '--silent'], { cwd: workspace, stdio: 'inherit' });
  process.exitCode = (await new Promise((resolve) => tests.on('close', resolve))) === 0 ? 0 : 1;
} finally {
  await fake.close();
}
