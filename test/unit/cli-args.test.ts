import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCommandLine, positiveNumber, requireRunId, UsageError } from '../../src/cli/args.ts';
import { main } from '../../src/cli/main.ts';
import { recordingIo } from '../support/cli-io.ts';

describe('crewbox command line', () => {
  it('parses every command with --workspace defaulting to the current directory', () => {
    const p = parseCommandLine(['run', '--network', '--max-steps', '20', '--budget-usd', '0.5', '--json', 'fix', 'the', 'bug'], '/tmp/x');
    if (p === 'help') return assert.fail('parsed as help');
    assert.equal(p.command, 'run');
    assert.equal(p.workspace, '/tmp/x');
    assert.deepEqual(p.positionals, ['fix', 'the', 'bug']);
    assert.equal(p.values['network'], true);
    const q = parseCommandLine(['apply', 'run-1', '--workspace', 'ws', '--path', 'a.js', '--path', 'b.js'], '/tmp/x');
    if (q === 'help') return assert.fail('parsed as help');
    assert.equal(q.workspace, path.resolve('/tmp/x', 'ws'));
    assert.deepEqual(q.values['path'], ['a.js', 'b.js']);
  });

  it('refuses unknown commands, unknown flags and bad numbers', () => {
    assert.throws(() => parseCommandLine(['launch'], '/'), UsageError);
    assert.throws(() => parseCommandLine(['runs', '--colour'], '/'), UsageError);
    assert.throws(() => positiveNumber('-3', 'max-steps', true), /positive whole number/);
    assert.throws(() => positiveNumber('2.5', 'max-steps', true), /positive whole number/);
    assert.equal(positiveNumber('0.25', 'budget-usd', false), 0.25);
    const p = parseCommandLine(['diff'], '/');
    if (p === 'help') return assert.fail('parsed as help');
    assert.throws(() => requireRunId(p), /needs a RUN_ID/);
  });

  it('exits 2 with the usage on bad usage and 0 on --help', async () => {
    const io = recordingIo();
    assert.equal(await main(['frobnicate'], io), 2);
    assert.match(io.stderr.join('\n'), /Unknown command "frobnicate"[\s\S]*Usage: crewbox/);
    const help = recordingIo();
    assert.equal(await main(['--help'], help), 0);
    assert.match(help.stdout.join('\n'), /rollback RUN_ID --to STEP/);
    assert.equal(await main(['run', '--max-steps', 'lots', 'goal'], recordingIo()), 2);
  });

  it('refuses a run without a key before touching Docker, with one sentence', async () => {
    const io = recordingIo({});
    assert.equal(await main(['run', '--provider', 'anthropic', 'fix it'], io), 1);
    assert.deepEqual(io.stderr, ['No Anthropic API key: set ANTHROPIC_API_KEY (or pass --provider to use the other one).']);
  });

  it('says in one sentence that Docker is down, exits 1, and creates nothing', async () => {
    const ws = mkdtempSync(path.join(tmpdir(), 'crewbox-nodocker-'));
    try {
      const io = recordingIo({ OPENAI_API_KEY: 'sk-test-0000000000', DOCKER_HOST: `unix://${ws}/no-such.sock` });
      assert.equal(await main(['run', '--workspace', ws, 'fix it'], io), 1);
      assert.equal(io.stderr.length, 1);
      assert.match(io.stderr[0]!, /^Docker is not running or not installed: no Docker socket at unix:\/\/.*\. Install Docker and start it/);
      assert.equal(existsSync(path.join(ws, '.crewbox', 'runs')), false, 'no run was created');
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });
});
