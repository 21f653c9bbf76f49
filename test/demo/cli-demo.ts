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
import { startFakeProvider } from '../support/fake-provider/index.ts';
import { fixBugScript } from './support/fix-bug-script.ts';

const fake = await startFakeProvider({ respond: fixBugScript() });

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
