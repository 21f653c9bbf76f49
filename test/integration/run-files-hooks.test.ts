/**
 * The runtime's calls into the RunFiles port (the Docker checkpoint store):
 * open before driving with the run's step and fork origin, a checkpoint after
 * every tool that may change files and before its result is recorded, and a
 * sandbox failure ending the drive as a typed, resumable failure.
 */
import assert from 'node:assert/strict';
import type { RunFilesPort, OpenRunFiles } from '../../src/core/sandbox/run-files.ts';
import { CrewRuntime } from '../../src/core/runtime/runtime.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { scriptByRole } from '../support/fake-provider/index.ts';
import type { FakeResponse } from '../support/fake-provider/types.ts';
import { createHarness, ofType, type Harness } from '../support/team-harness.ts';

const call = (name: string, args: Record<string, unknown>): FakeResponse => ({ toolCalls: [{ name, args }] });

class RecordingRunFiles implements RunFilesPort {
  readonly opens: OpenRunFiles[] = [];
  readonly checkpoints: Array<{ runId: string; step: number }> = [];
  failOpen = false;
  async open(req: OpenRunFiles): Promise<void> {
    if (this.failOpen) throw new Error('Docker is not running: no Docker socket at /var/run/docker.sock.');
    this.opens.push(req);
  }
  async checkpoint(runId: string, step: number) {
    this.checkpoints.push({ runId, step });
    return { filesChanged: 1, paths: ['src/math.js'] };
  }
}

describe('runtime ↔ run files port', function () {
  this.timeout(20_000);
  let h: Harness;
  let files: RecordingRunFiles;
  let runtime: CrewRuntime;

  beforeEach(async () => {
    files = new RecordingRunFiles();
    h = await createHarness({
      provider: 'openai',
      sandbox: new MemorySandbox({ 'src/math.js': 'a - b\n' }).onCommand('npm test', () => ({ exitCode: 0, stdout: 'ok' })),
      respond: scriptByRole({
        orchestrator: [call('delegate', { agent: 'developer', task: 'Fix.' }), call('finish', { summary: 'Gave up.', verdict: 'fail' })],
        developer: [
          call('read_file', { path: 'src/math.js' }),
          call('edit_file', { path: 'src/math.js', old_string: '-', new_string: '+' }),
          call('run_command', { command: 'npm test' }),
          call('finish', { summary: 'Fixed.' }),
        ],
      }),
    });
    runtime = new CrewRuntime({ ...h.deps, runFiles: files });
  });
  afterEach(() => h.close());

  it('opens the files before driving and checkpoints after edits and commands only', async () => {
    const handle = await runtime.start('Fix', { config: h.config({ network: true }) });
    await handle.done;
    assert.deepEqual(files.opens, [{ runId: handle.runId, step: 0, network: true }]);
    // edit_file at step 3 and run_command at step 4 (read_file is read-only).
    assert.deepEqual(files.checkpoints.map((c) => c.step), [3, 4]);
    const events = await runtime.events(handle.runId);
    const edit = ofType(events, 'tool.completed').find((e) => e.name === 'edit_file')!;
    assert.equal(edit.meta?.['filesChanged'], 1);
    assert.deepEqual(edit.meta?.['changedPaths'], ['src/math.js']);

    const fork = await runtime.fork(handle.runId, 2);
    await (await runtime.resume(fork)).done;
    assert.deepEqual(files.opens[1], { runId: fork, step: 2, network: true, forkOf: { runId: handle.runId, step: 2 } });
  });

  it('ends the drive as a resumable sandbox failure when the files cannot be opened', async () => {
    files.failOpen = true;
    const handle = await runtime.start('Fix', { config: h.config() });
    const outcome = await handle.done;
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.kind, 'sandbox');
    assert.match(outcome.summary, /Docker is not running/);
    assert.equal(h.fake.requests.length, 0, 'no model call without a sandbox');
    files.failOpen = false;
    const resumed = await (await runtime.resume(handle.runId)).done;
    assert.equal(resumed.status, 'failed', 'the scripted orchestrator gives up with verdict fail');
    assert.equal(resumed.summary, 'Gave up.');
  });
});
