/**
 * The call journal in a real container: a host that lost its channel (closed,
 * crashed, supervisor replaced) resends a call and never runs it twice.
 */
import assert from 'node:assert/strict';
import { DockerEngine } from '../../src/sandbox/docker/engine.ts';
import { SupervisorLink } from '../../src/sandbox/channel/link.ts';
import { DockerSandbox } from '../../src/sandbox/docker-sandbox.ts';
import { createTestContainer, eventually, processesMatching, startTestSupervisor } from './sandbox-fixture.ts';

describe('call journal across supervisors (real container)', function () {
  this.timeout(60_000);
  const engine = new DockerEngine();
  let containerId: string;
  const signal = new AbortController().signal;
  const links: SupervisorLink[] = [];
  const newLink = (): SupervisorLink => {
    const link = new SupervisorLink(() => startTestSupervisor(engine, containerId));
    links.push(link);
    return link;
  };
  const lines = async (sandbox: DockerSandbox, file: string, callId: string): Promise<string> =>
    (await sandbox.exec({ command: `cat ${file}`, callId, timeoutMs: 10_000 }, signal)).stdout;

  before(async () => {
    containerId = await createTestContainer(engine, 'journal');
  });

  after(async () => {
    for (const l of links) await l.close().catch(() => {});
    if (containerId) await engine.removeContainer(containerId);
  });

  it('returns the recorded result to a call resent after a supervisor restart, without running it again', async () => {
    const command = 'echo ran >> /workspace/once.txt; wc -l < /workspace/once.txt';
    const first = newLink();
    const original = await new DockerSandbox(first).exec({ command, callId: 'j-once', timeoutMs: 10_000 }, signal);
    assert.equal(original.stdout, '1\n');
    await first.close();

    const second = new DockerSandbox(newLink());
    const resent = await second.exec({ command, callId: 'j-once', timeoutMs: 10_000 }, signal);
    assert.deepEqual({ ...resent, durationMs: 0 }, { ...original, durationMs: 0 });
    assert.equal(await lines(second, '/workspace/once.txt', 'j-once-check'), 'ran\n');
  });

  it('recall answers from the journal or joins, and never starts a call it has no record of', async () => {
    const sandbox = new DockerSandbox(newLink());
    const command = 'echo ran >> /workspace/recall.txt; echo done';
    assert.equal(await sandbox.recall({ command, callId: 'j-recall', timeoutMs: 10_000 }, signal), undefined);
    assert.equal(await lines(sandbox, '/workspace/recall.txt 2>/dev/null || true', 'j-recall-check-1'), '', 'recall started nothing');
    const ran = await sandbox.exec({ command, callId: 'j-recall', timeoutMs: 10_000 }, signal);
    const recalled = await new DockerSandbox(newLink()).recall({ command, callId: 'j-recall', timeoutMs: 10_000 }, signal);
    assert.deepEqual({ ...recalled, durationMs: 0 }, { ...ran, durationMs: 0 });
    assert.equal(await lines(sandbox, '/workspace/recall.txt', 'j-recall-check-2'), 'ran\n');
  });

  it('joins a call still running in the supervisor a crashed host left behind', async () => {
    const command = 'sleep 2; echo ran >> /workspace/crash.txt; echo finished';
    const crashed = newLink();
    const client = await crashed.client();
    const inFlight = client.call('exec', { callId: 'j-crash', command, timeoutMs: 30_000 });
    inFlight.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.destroy(); // What a host killed with -9 does to the connection.

    const fresh = new DockerSandbox(newLink());
    const resent = await fresh.exec({ command, callId: 'j-crash', timeoutMs: 30_000 }, signal);
    assert.equal(resent.exitCode, 0);
    assert.equal(resent.stdout, 'finished\n');
    assert.equal(await lines(fresh, '/workspace/crash.txt', 'j-crash-check'), 'ran\n');
  });

  it('resends over a fresh supervisor by itself when the channel drops mid-command', async () => {
    const link = newLink();
    const sandbox = new DockerSandbox(link);
    const command = 'sleep 1.5; echo ran >> /workspace/retry.txt; echo done';
    const pending = sandbox.exec({ command, callId: 'j-retry', timeoutMs: 30_000 }, signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    (await link.client()).destroy();
    const r = await pending;
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'done\n');
    assert.equal(await lines(sandbox, '/workspace/retry.txt', 'j-retry-check'), 'ran\n');
  });

  it('kills a call owned by a supervisor whose host is gone, and records it as aborted', async () => {
    const gone = newLink();
    const client = await gone.client();
    const inFlight = client.call('exec', { callId: 'j-kill', command: 'sleep 340', timeoutMs: 60_000 });
    inFlight.catch(() => {});
    await eventually(async () => (await processesMatching(engine, containerId, 'sleep 340')).length === 1, 'sleep 340 running');
    client.destroy();

    const fresh = newLink();
    const freshClient = await fresh.client();
    assert.deepEqual(await freshClient.call('kill', { callId: 'j-kill' }), { killed: true });
    const resent = await freshClient.call('exec', { callId: 'j-kill', command: 'sleep 340', timeoutMs: 60_000 });
    assert.equal(resent.aborted, true);
    assert.equal(resent.exitCode, null);
    assert.deepEqual(await processesMatching(engine, containerId, 'sleep 340'), []);
  });

  it('after an abort whose kill could not be delivered, the next supervisor still kills the command', async () => {
    const link = newLink();
    const sandbox = new DockerSandbox(link);
    const controller = new AbortController();
    const pending = sandbox.exec({ command: 'sleep 350', callId: 'j-abort-lost', timeoutMs: 60_000 }, controller.signal);
    await eventually(async () => (await processesMatching(engine, containerId, 'sleep 350')).length === 1, 'sleep 350 running');
    (await link.client()).destroy();
    controller.abort();
    const r = await pending;
    assert.equal(r.aborted, true);
    await eventually(async () => (await processesMatching(engine, containerId, 'sleep 350')).length === 0, 'sleep 350 killed');
  });
});
