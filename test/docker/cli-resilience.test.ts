/**
 * The CLI under stress on the real engine: SIGINT during a long command,
 * escape attempts by the model, the container removed mid-run, and the CLI
 * killed with SIGKILL mid-command. The fake provider plays the model.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startFakeProvider, scriptByRole, type FakeProvider } from '../support/fake-provider/index.ts';
import type { FakeRequest, FakeResponse } from '../support/fake-provider/types.ts';
import type { RoleScript } from '../support/fake-provider/script.ts';
import { DockerEngine } from '../../src/sandbox/docker/engine.ts';
import { workspaceLabel } from '../../src/sandbox/container-config.ts';
import { cliEnv, fixtureWorkspace, jsonEvents, removeWorkspace, runCli, startCli } from './cli-harness.ts';

const call = (name: string, args: Record<string, unknown>): FakeResponse => ({ toolCalls: [{ name, args }] });
const FIX = call('edit_file', { path: 'src/math.js', old_string: 'return a - b;', new_string: 'return a + b;' });
const TESTER_PASS = [call('run_command', { command: 'npm test' }), call('finish', { summary: 'npm test passes.', verdict: 'pass' })];
const ORCHESTRATE = [
  call('delegate', { agent: 'developer', task: 'Fix add() in src/math.js.' }),
  call('delegate', { agent: 'tester', task: 'Run npm test.' }),
  call('finish', { summary: 'Done.' }),
];
const toolResults = (req: FakeRequest): string[] => req.messages.flatMap((m) => (m.role === 'tool' ? [m.content] : []));

const engine = new DockerEngine();
async function containerOf(ws: string): Promise<string> {
  const [c] = await engine.listContainers({ 'dev.crewbox.workspace': workspaceLabel(ws) });
  assert.ok(c, `a sandbox container exists for ${ws}`);
  return c.id;
}
async function processes(id: string): Promise<string[]> {
  return (await engine.top(id)).map((p) => p['ARGS'] ?? p['COMMAND'] ?? Object.values(p).join(' '));
}

describe('crewbox CLI resilience on Docker', function () {
  this.timeout(240_000);
  let fake: FakeProvider | undefined;
  let ws = '';

  async function setup(script: RoleScript): Promise<Record<string, string>> {
    fake = await startFakeProvider({ respond: scriptByRole(script) });
    ws = fixtureWorkspace('buggy-repo');
    return cliEnv(fake);
  }
  afterEach(async () => {
    if (fake) await runCli(['sandbox', 'rm', '--workspace', ws], cliEnv(fake));
    await fake?.close();
    fake = undefined;
    removeWorkspace(ws);
  });

  it('SIGINT stops the run during a long command, leaves no process behind, and resume steers it', async () => {
    const env = await setup({
      orchestrator: ORCHESTRATE,
      developer: [
        call('run_command', { command: 'sleep 300 & sleep 301; echo never', timeout_s: 600 }),
        (req) => {
          const last = req.messages.at(-1);
          assert.match(last?.role === 'user' ? last.content : '', /Skip the slow command/);
          return FIX;
        },
        call('finish', { summary: 'Fixed without the slow command.' }),
      ],
      tester: TESTER_PASS,
    });
    const cli = startCli(['run', '--workspace', ws, '--json', 'Fix the failing test'], env);
    await cli.waitForLine((l) => l.includes('"type":"tool.started"') && l.includes('"run_command"'));
    await new Promise((r) => setTimeout(r, 300));
    cli.child.kill('SIGINT');
    const stopped = await cli.done;
    assert.equal(stopped.code, 130, stopped.stderr);
    const id = await containerOf(ws);
    assert.deepEqual((await processes(id)).filter((p) => /sleep 30[01]/.test(p)), [], 'no sleep survives the interrupt');
    const runId = String(jsonEvents(stopped.stdout)[0]!['runId']);
    const listed = JSON.parse((await runCli(['runs', '--json', '--workspace', ws], env)).stdout) as Array<Record<string, unknown>>;
    assert.equal(listed[0]!['status'], 'interrupted');

    const resumed = await runCli(['resume', runId, '--workspace', ws, '--message', 'Skip the slow command; just fix add().'], env);
    assert.equal(resumed.code, 0, resumed.stderr);
  });

  it('turns escape attempts into tool errors while the run goes on', async () => {
    const hostSecret = path.join('/tmp', `crewbox-host-secret-${process.pid}`);
    writeFileSync(hostSecret, 'TOP-SECRET-ON-HOST\n');
    let seen: string[] = [];
    const env = await setup({
      orchestrator: ORCHESTRATE,
      developer: [
        call('read_file', { path: '../../etc/passwd' }),
        call('read_file', { path: '/etc/passwd' }),
        call('write_file', { path: '/tmp/evil.txt', content: 'x' }),
        call('run_command', { command: 'ln -s /etc etc-link' }),
        call('write_file', { path: 'etc-link/evil.conf', content: 'x' }),
        call('read_file', { path: 'etc-link/passwd' }),
        call('run_command', { command: `cat ${hostSecret}; ls -l /var/run/docker.sock; cat /etc/shadow; echo pwned > /etc/pwned; id -u` }),
        call('run_command', { command: 'curl -sS -m 5 http://example.com || echo NO-NETWORK; env' }),
        (req) => {
          seen = toolResults(req);
          return FIX;
        },
        call('run_command', { command: 'rm etc-link' }),
        call('finish', { summary: 'Fixed.' }),
      ],
      tester: TESTER_PASS,
    });
    const run = await runCli(['run', '--workspace', ws, 'Fix the failing test'], env);
    rmSync(hostSecret, { force: true });
    assert.equal(run.code, 0, `the run went on and completed\n${run.stderr}`);
    assert.match(seen[0]!, /outside the workspace/);
    assert.match(seen[1]!, /outside the workspace|not.*workspace/i);
    assert.match(seen[2]!, /outside the workspace|not.*workspace/i);
    assert.match(seen[4]!, /outside the workspace/i, 'writing through a symlink out of /workspace is refused');
    assert.match(seen[5]!, /outside the workspace/i, 'reading through a symlink out of /workspace is refused');
    const probes = seen[6]!;
    assert.doesNotMatch(probes, /TOP-SECRET-ON-HOST/, 'host files are not visible');
    assert.match(probes, /docker\.sock'?: No such file or directory/);
    assert.match(probes, /shadow: Permission denied/);
    assert.match(probes, /\/etc\/pwned: Permission denied/);
    assert.match(probes, /^1000$/m, 'commands run as a non-root user');
    const netAndEnv = seen[7]!;
    assert.match(netAndEnv, /NO-NETWORK/);
    assert.doesNotMatch(netAndEnv, /sk-e2e|OPENAI_API_KEY|ANTHROPIC_API_KEY/, 'no key enters the container');
    assert.equal(execFileSync('git', ['status', '--porcelain'], { cwd: ws, encoding: 'utf8' }), '', 'the host workspace is untouched');
  });

  it('continues in a fresh container with exactly the files it had after the container is removed mid-run', async () => {
    let removed = false;
    const env = await setup({
      orchestrator: ORCHESTRATE,
      developer: [
        FIX,
        call('run_command', { command: 'mkdir -p build && echo artefact > build/out.txt && chmod +x test.js' }),
        async () => {
          // The container disappears between two steps (docker rm -f by the user, a daemon restart...).
          execFileSync('docker', ['rm', '-f', await containerOf(ws)], { stdio: 'ignore' });
          removed = true;
          return call('run_command', { command: 'echo after-removal' });
        },
        call('run_command', { command: 'cat src/math.js build/out.txt; stat -c %a test.js' }),
        call('finish', { summary: 'Fixed.' }),
      ],
      tester: TESTER_PASS,
    });
    const first = await runCli(['run', '--workspace', ws, '--json', 'Fix the failing test'], env);
    assert.ok(removed);
    assert.equal(first.code, 1, 'the run stops with a sandbox failure');
    assert.match(first.stderr, /sandbox/i);
    const runId = String(jsonEvents(first.stdout)[0]!['runId']);

    const resumed = await runCli(['resume', runId, '--workspace', ws, '--json'], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    const outputs = jsonEvents(resumed.stdout).filter((e) => e['type'] === 'tool.completed' && e['name'] === 'run_command').map((e) => String(e['output']));
    const check = outputs.find((o) => o.includes('artefact'));
    assert.ok(check, 'the files were rebuilt in the fresh container');
    assert.match(check, /return a \+ b;/, "the developer's edit is there");
    assert.match(check, /^755$/m, 'modes are restored');
  });

  it('never runs a command twice when the CLI is killed with SIGKILL mid-command and the run resumed', async () => {
    const env = await setup({
      orchestrator: ORCHESTRATE,
      developer: [
        call('run_command', { command: 'echo ran >> $HOME/count; sleep 4; echo finished' }),
        (req) => {
          const results = toolResults(req);
          assert.ok(results.length > 0);
          return FIX;
        },
        call('finish', { summary: 'Fixed.' }),
      ],
      tester: TESTER_PASS,
    });
    const cli = startCli(['run', '--workspace', ws, '--json', 'Fix the failing test'], env);
    const started = await cli.waitForLine((l) => l.includes('"type":"tool.started"') && l.includes('"run_command"'));
    const runId = String(JSON.parse(started)['runId']);
    await new Promise((r) => setTimeout(r, 500));
    cli.child.kill('SIGKILL');
    await cli.done;

    const resumed = await runCli(['resume', runId, '--workspace', ws, '--json'], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    const id = await containerOf(ws);
    const count = execFileSync('docker', ['exec', id, 'sh', '-c', 'cat $HOME/count'], { encoding: 'utf8' });
    assert.equal(count, 'ran\n', 'the command ran exactly once');
    // The container's journal kept the command's real result; the model gets it, not "unknown".
    const recovered = jsonEvents(resumed.stdout).find((e) => e['type'] === 'tool.completed' && e['name'] === 'run_command');
    assert.equal((recovered?.['meta'] as Record<string, unknown> | undefined)?.['recovered'], true);
    assert.match(String(recovered?.['output']), /finished/);
    assert.equal(readFileSync(path.join(ws, '.crewbox', 'runs', runId, 'events.jsonl'), 'utf8').includes('outcome is unknown'), false);
  });
});
