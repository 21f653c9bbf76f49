import assert from 'node:assert/strict';
import { RunError } from '../../src/core/runtime/errors.ts';
import { StoreError } from '../../src/core/store/errors.ts';
import { RequestFailed } from '../../src/protocol/host-channel.ts';
import { sandboxStatusAfter, toRequestFailed } from '../../src/extension/failures.ts';
import { DockerError } from '../../src/sandbox/docker/engine.ts';
import { SandboxSetupError } from '../../src/sandbox/setup-error.ts';

describe('extension: typed errors → replies', () => {
  it('maps each typed error by class and code, keeping its sentence', () => {
    const cases: Array<[Error, string, string[]]> = [
      [new DockerError('daemon_down', 'Docker is not running.'), 'failed', ['startDocker', 'showLogs']],
      [new DockerError('build_failed', 'The image did not build.'), 'failed', ['showLogs']],
      [new SandboxSetupError('root_user', 'The sandbox never runs as root.'), 'failed', ['showLogs']],
      [new StoreError('run_locked', 'Another window drives this run.'), 'conflict', []],
      [new StoreError('not_found', 'No such run.'), 'not_found', []],
      [new RunError('run_finished', 'Run already completed.'), 'conflict', []],
    ];
    for (const [error, code, actions] of cases) {
      const failed = toRequestFailed(error);
      assert.ok(failed instanceof RequestFailed, error.name);
      assert.equal(failed.code, code, `${error.name}`);
      assert.deepEqual(failed.actions, actions, `${error.name}`);
      assert.equal(failed.message, error.message);
    }
  });

  it('passes RequestFailed through and leaves unexpected errors to the internal path', () => {
    const own = new RequestFailed('untrusted', 'Restricted Mode.');
    assert.equal(toRequestFailed(own), own);
    assert.equal(toRequestFailed(new TypeError('x is undefined')), undefined);
    assert.equal(toRequestFailed('a string'), undefined);
  });

  it('says whether the sandbox is unavailable (Docker down) or broken', () => {
    assert.equal(sandboxStatusAfter(new DockerError('not_installed', 'Docker is not installed.')).state, 'unavailable');
    assert.equal(sandboxStatusAfter(new DockerError('no_space', 'Disk full.')).state, 'error');
    assert.equal(sandboxStatusAfter(new Error('boom')).state, 'error');
  });
});
