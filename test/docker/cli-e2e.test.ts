/**
 * The CLI end to end on the real Docker engine, the fake provider standing in
 * for the model (over both wire formats): a scripted team fixes a bug in a
 * fixture repo inside the sandbox, the host stays untouched until `apply`,
 * and `apply` makes the fixture's own tests pass.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startFakeProvider, scriptByRole, type FakeProvider } from '../support/fake-provider/index.ts';
import type { FakeRequest, FakeResponse } from '../support/fake-provider/types.ts';
import { cliEnv, fixtureWorkspace, jsonEvents, removeWorkspace, runCli } from './cli-harness.ts';

const call = (name: string, args: Record<string, unknown>): FakeResponse => ({ toolCalls: [{ name, args }] });
const lastToolResult = (req: FakeRequest): string => {
  const tools = req.messages.filter((m) => m.role === 'tool');
  const last = tools.at(-1);
  return last && last.role === 'tool' ? last.content : '';
};

/** The scripted team: look, fix, test for real in the container, verify, finish. */
const BUGFIX = scriptByRole({
  orchestrator: [
    call('list_files', { path: '.' }),
    call('delegate', { agent: 'developer', task: 'Fix add() in src/math.js so that `npm test` passes.' }),
    call('delegate', { agent: 'tester', task: 'Run `npm test` and report a verdict.' }),
    call('finish', { summary: 'add() fixed; the tester verified npm test.' }),
  ],
  developer: [
    call('run_command', { command: 'ls -a && npm test' }),
    call('edit_file', { path: 'src/math.js', old_string: 'return a - b;', new_string: 'return a + b;' }),
    call('run_command', { command: 'npm test' }),
    call('finish', { summary: 'Changed a - b to a + b in src/math.js; npm test passes.' }),
  ],
  tester: [
    call('run_command', { command: 'npm test' }),
    (req) => {
      const passed = /all tests passed/.test(lastToolResult(req));
      return call('finish', { summary: passed ? 'npm test passes.' : 'npm test fails.', verdict: passed ? 'pass' : 'fail' });
    },
  ],
});

function hostTestsPass(workspace: string): boolean {
  try {
    execFileSync(process.execPath, ['test.js'], { cwd: workspace, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('crewbox CLI on Docker (end to end)', function () {
  this.timeout(240_000);
  let fake: FakeProvider;
  const workspaces: string[] = [];

  before(async () => {
    assert.ok(existsSync('dist/cli.cjs'), 'the CLI is built (npm run build)');
    fake = await startFakeProvider({ respond: BUGFIX });
  });
  after(async () => {
    await fake.close();
    for (const ws of workspaces) {
      await runCli(['sandbox', 'rm', '--workspace', ws], cliEnv(fake));
      removeWorkspace(ws);
    }
  });

  for (const provider of ['openai', 'anthropic'] as const) {
    it(`fixes a bug through the CLI over ${provider}, leaves the host untouched, and apply makes the tests pass`, async () => {
      const ws = fixtureWorkspace('buggy-repo');
      workspaces.push(ws);
      // Heavy ignored folders stay out of the sandbox; untracked files go in.
      mkdirSync(path.join(ws, 'node_modules', 'heavy'), { recursive: true });
      writeFileSync(path.join(ws, 'node_modules', 'heavy', 'index.js'), 'module.exports = 1;\n');
      writeFileSync(path.join(ws, 'NOTES.txt'), 'untracked notes\n');
      const original = readFileSync(path.join(ws, 'src/math.js'), 'utf8');
      const env = cliEnv(fake);

      const run = await runCli(['run', '--workspace', ws, '--provider', provider, '--json', 'Fix the failing test'], env);
      assert.equal(run.code, 0, `crewbox run exits 0\n${run.stderr}`);
      const events = jsonEvents(run.stdout);
      const runId = String(events.find((e) => e['type'] === 'run.started')?.['runId']);
      const outputs = events.filter((e) => e['type'] === 'tool.completed' && e['name'] === 'run_command').map((e) => String(e['output']));
      assert.match(outputs[0]!, /NOTES\.txt/, 'untracked files are copied in');
      assert.doesNotMatch(outputs[0]!, /node_modules/, 'gitignored node_modules stays out');
      assert.doesNotMatch(outputs[0]!, /\.crewbox/, '.crewbox is never exposed');
      assert.match(outputs[0]!, /add\(2, 3\) should be 5/, 'the real test fails before the fix');
      assert.match(outputs[1]!, /all tests passed/, 'and passes after it, inside the container');
      assert.equal(readFileSync(path.join(ws, 'src/math.js'), 'utf8'), original, 'the host is untouched before apply');
      assert.doesNotMatch(run.stdout + run.stderr, /sk-e2e-openai-secret|sk-ant-e2e-secret/, 'keys never printed');

      const runs = await runCli(['runs', '--workspace', ws, '--json'], env);
      const listed = (JSON.parse(runs.stdout) as Array<Record<string, unknown>>).find((r) => r['id'] === runId);
      assert.equal(listed?.['status'], 'completed');
      assert.equal(listed?.['verdict'], 'pass');

      const diff = await runCli(['diff', runId, '--workspace', ws], env);
      assert.equal(diff.code, 0);
      assert.match(diff.stdout, /^diff --git a\/src\/math\.js b\/src\/math\.js$/m);
      assert.match(diff.stdout, /^-  return a - b;$/m);
      assert.match(diff.stdout, /^\+  return a \+ b;$/m);

      assert.equal(hostTestsPass(ws), false);
      const apply = await runCli(['apply', runId, '--workspace', ws], env);
      assert.equal(apply.code, 0, apply.stderr);
      assert.match(apply.stdout, /applied\s+modified\s+src\/math\.js/);
      assert.equal(hostTestsPass(ws), true, "apply makes the fixture's tests pass");

      const otlp = await runCli(['trace', runId, '--otlp', '--workspace', ws], env);
      const doc = JSON.parse(otlp.stdout) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
      assert.ok(doc.resourceSpans[0]!.scopeSpans[0]!.spans.length > 10);
      const logs = readFileSync(path.join(ws, '.crewbox', 'runs', runId, 'events.jsonl'), 'utf8');
      assert.doesNotMatch(logs, /sk-e2e-openai-secret|sk-ant-e2e-secret/, 'keys never reach the log');
    });
  }
});
