/**
 * Commands through DockerSandbox in a real hardened container: one supervisor
 * over one docker exec, every call a request on it.
 */
import assert from 'node:assert/strict';
import { DockerEngine } from '../../src/sandbox/docker/engine.ts';
import { SupervisorLink } from '../../src/sandbox/channel/link.ts';
import { DockerSandbox } from '../../src/sandbox/docker-sandbox.ts';
import type { ExecResult } from '../../src/core/sandbox/port.ts';
import { createTestContainer, eventually, processesMatching, startTestSupervisor } from './sandbox-fixture.ts';

describe('DockerSandbox commands (real container)', function () {
  this.timeout(60_000);
  const engine = new DockerEngine();
  let containerId: string;
  let link: SupervisorLink;
  let sandbox: DockerSandbox;
  let seq = 0;
  const run = (command: string, timeoutMs = 20_000, signal = new AbortController().signal, onOutput?: (s: 'stdout' | 'stderr', c: string) => void): Promise<ExecResult> =>
    sandbox.exec({ command, callId: `sup-${++seq}`, timeoutMs }, signal, onOutput);

  before(async () => {
    containerId = await createTestContainer(engine, 'supervisor');
    link = new SupervisorLink(() => startTestSupervisor(engine, containerId));
    sandbox = new DockerSandbox(link);
  });

  after(async () => {
    await link?.close();
    if (containerId) await engine.removeContainer(containerId);
  });

  it('runs a command as the sandbox user and streams its output', async () => {
    const chunks: string[] = [];
    const r = await run('id -un; echo to-stderr >&2', 20_000, undefined, (s, c) => chunks.push(`${s}:${c}`));
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'crewbox\n');
    assert.equal(r.stderr, 'to-stderr\n');
    assert.equal(r.timedOut, false);
    assert.equal(r.aborted, false);
    assert.deepEqual(chunks.sort(), ['stderr:to-stderr\n', 'stdout:crewbox\n']);
  });

  it('keeps exit codes, including `exit N` and failing commands', async () => {
    assert.equal((await run('exit 7')).exitCode, 7);
    assert.equal((await run('false')).exitCode, 1);
    const missing = await run('no-such-command-here');
    assert.equal(missing.exitCode, 127);
    assert.match(missing.stderr, /not found/);
  });

  it('keeps the working directory between calls, also after `exit N`', async () => {
    const first = await run('mkdir -p sub/inner && cd sub && exit 3');
    assert.equal(first.exitCode, 3);
    assert.equal(first.cwd, '/workspace/sub');
    const second = await run('pwd');
    assert.equal(second.stdout, '/workspace/sub\n');
    await run('cd inner');
    assert.equal((await run('pwd')).stdout, '/workspace/sub/inner\n');
    await run('cd /workspace');
  });

  it('gives every call a fresh environment without the host environment', async () => {
    process.env['CREWBOX_HOST_ONLY_SECRET'] = 'must-not-leak';
    try {
      await run('export LEAKY=1');
      const r = await run('echo "${LEAKY:-unset}"; env | grep -c CREWBOX_HOST_ONLY_SECRET; echo "$HOME"');
      assert.equal(r.stdout, 'unset\n0\n/home/crewbox\n');
    } finally {
      delete process.env['CREWBOX_HOST_ONLY_SECRET'];
    }
  });

  it('a command that reads stdin gets EOF and returns', async () => {
    const r = await run('cat; read line; echo "read exit $?"');
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'read exit 1\n');
  });

  it('a timeout kills the whole tree, background and setsid children included', async () => {
    const r = await run('sleep 301 & setsid sleep 302 & (sleep 303 &) ; sleep 300', 1500);
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.deepEqual(await processesMatching(engine, containerId, 'sleep 30'), []);
  });

  it('kills what a command leaves behind when it exits normally', async () => {
    const r = await run('sleep 311 & setsid sleep 312 & echo started');
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'started\n');
    // Detached processes are swept right after the answer.
    await eventually(async () => (await processesMatching(engine, containerId, 'sleep 31')).length === 0, 'leftover sleeps gone');
  });

  it('an abort kills the command and resolves as aborted', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const pending = run('echo started; sleep 320', 60_000, controller.signal, (_s, chunk) => {
      if (chunk.includes('started') && abortedAt === 0) {
        abortedAt = Date.now();
        controller.abort();
      }
    });
    const r = await pending;
    assert.equal(r.aborted, true);
    assert.equal(r.exitCode, null);
    assert.ok(Date.now() - abortedAt < 10_000, 'the abort took effect well before the command would have ended');
    assert.deepEqual(await processesMatching(engine, containerId, 'sleep 320'), []);
  });

  it('an already aborted signal runs nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const r = await run('touch /workspace/should-not-exist', 10_000, controller.signal);
    assert.equal(r.aborted, true);
    assert.equal((await run('test -e /workspace/should-not-exist; echo $?')).stdout, '1\n');
  });

  it('caps huge output and says how much was dropped, streaming only the first MiB', async () => {
    let streamed = 0;
    const r = await run('yes | head -c 50000000; echo done >&2', 60_000, undefined, (_s, c) => (streamed += c.length));
    assert.equal(r.exitCode, 0);
    assert.ok(r.stdout.length <= 2 * 1024 * 1024 + 200, `kept ${r.stdout.length} chars`);
    assert.match(r.stdout, /\[crewbox: \d+ bytes of stdout omitted\]/);
    assert.ok(r.stdout.startsWith('y\ny\n') && r.stdout.endsWith('y\n'));
    const omitted = Number(/\[crewbox: (\d+) bytes/.exec(r.stdout)?.[1]);
    assert.equal(omitted + r.stdout.replace(/\n\[crewbox: \d+ bytes of stdout omitted\]\n/, '').length, 50_000_000);
    assert.equal(r.stderr, 'done\n');
    assert.ok(streamed < 1.2 * 1024 * 1024, `streamed ${streamed} chars`);
  });

  it('cannot reach the Docker socket or the network', async () => {
    const sock = await run('cat /var/run/docker.sock');
    assert.notEqual(sock.exitCode, 0);
    const net = await run('curl -sS --max-time 5 http://example.com');
    assert.notEqual(net.exitCode, 0);
    assert.match(net.stderr, /resolve|connect/i);
  });

  it('serves four concurrent callers', async () => {
    const results = await Promise.all([1, 2, 3, 4].map((n) => run(`sleep 0.3; echo caller-${n}`)));
    assert.deepEqual(
      results.map((r) => [r.exitCode, r.stdout]),
      [1, 2, 3, 4].map((n) => [0, `caller-${n}\n`]),
    );
  });

  it('works the same with a shell spawned per command (no runners)', async () => {
    const cold = await startTestSupervisor(engine, containerId, { CREWBOX_RUNNERS: 'off' });
    try {
      const coldSandbox = new DockerSandbox({ client: async () => cold.client }, { session: 'cold' });
      const signal = new AbortController().signal;
      const r = await coldSandbox.exec({ command: 'cd /tmp; echo $$; exit 4', callId: 'cold-1', timeoutMs: 10_000 }, signal);
      assert.equal(r.exitCode, 4);
      assert.equal(r.cwd, '/tmp');
      const t = await coldSandbox.exec({ command: 'sleep 330 & sleep 331', callId: 'cold-2', timeoutMs: 1000 }, signal);
      assert.equal(t.timedOut, true);
      assert.deepEqual(await processesMatching(engine, containerId, 'sleep 33'), []);
    } finally {
      await cold.close();
    }
  });
});
