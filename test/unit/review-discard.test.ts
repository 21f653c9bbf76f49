import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { discardRun } from '../../src/extension/review/discard.ts';
import { isDiscarded, loadRunChanges } from '../../src/extension/review/run-changes.ts';
import { EventLog, readRunLog } from '../../src/core/store/event-log.ts';
import { crewboxPaths } from '../../src/core/store/layout.ts';
import { acquireRunLock } from '../../src/core/store/locks.ts';
import { RunIndex } from '../../src/core/store/run-index.ts';
import { summarizeRun } from '../../src/core/store/run-summary.ts';
import { foldRun } from '../../src/core/runtime/fold.ts';
import { buildSpans } from '../../src/core/trace/spans.ts';
import { BlobStore } from '../../src/sandbox/store/blobs.ts';
import { CheckpointStore } from '../../src/sandbox/store/checkpoints.ts';
import { sha256 } from '../../src/sandbox/store/manifest.ts';
import { modelTurn, runStarted } from '../support/store-builders.ts';
import { tempDir } from '../support/workspace-fixture.ts';
import { recordingIo } from '../support/cli-io.ts';
import { parseCommandLine, type ParsedCommand } from '../../src/cli/args.ts';
import { applyCommand } from '../../src/cli/commands/changes.ts';
import { createRuntime } from '../../src/core/compose.ts';
import { UnavailableSandbox } from '../../src/sandbox/unavailable.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** A stopped run `run-1` with one step and one proposed file. */
async function stoppedRun(ws: string): Promise<void> {
  const { log } = await EventLog.open(crewboxPaths(ws).runEvents('run-1'), 'run-1');
  log.append(runStarted());
  log.append(modelTurn(1));
  log.append({ type: 'run.interrupted', step: 1, reason: 'user' });
  log.close();
  const store = new CheckpointStore(ws);
  const blobs = new BlobStore(store.paths.objects);
  await blobs.put(Buffer.from('new\n'));
  await store.createRun('run-1', await store.writeSnapshot(new Map()));
  await store.append('run-1', 1, [{ path: 'a.txt', entry: { kind: 'file', hash: sha256('new\n'), mode: 0o644, size: 4 } }]);
}

describe('review: discard run', () => {
  let ws: string;
  beforeEach(async () => {
    ws = tempDir('crewbox-discard-');
    await stoppedRun(ws);
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('appends run.discarded to the log, once, and folds it into the summary and the index', async () => {
    assert.equal((await loadRunChanges(ws, 'run-1')).files.length, 1);
    const summary = await discardRun(ws, 'run-1');
    assert.equal(summary.discarded, true);
    assert.equal(summary.status, 'interrupted', 'the run keeps its status and stays in the history');
    await discardRun(ws, 'run-1');
    const { events, problems } = await readRunLog(crewboxPaths(ws).runEvents('run-1'));
    assert.deepEqual(problems, []);
    assert.deepEqual(events.map((e) => e.type), ['run.started', 'model.turn', 'run.interrupted', 'run.discarded']);
    assert.equal(events.at(-1)!.step, 1);
    assert.equal(summarizeRun(events).discarded, true);
    assert.equal(summarizeRun(events.slice(0, 3)).discarded, undefined);
    assert.equal((await (await RunIndex.open(ws)).get('run-1'))?.discarded, true);
    assert.equal(foldRun(events).status, 'interrupted');
    const run = buildSpans(events).find((s) => s.kind === 'run');
    assert.ok(run?.events.some((e) => e.name === 'run.discarded'), 'the trace shows the discard on the run span');
  });

  it('empties the run\'s proposed changes', async () => {
    await discardRun(ws, 'run-1');
    assert.equal(await isDiscarded(ws, 'run-1'), true);
    const changes = await loadRunChanges(ws, 'run-1');
    assert.equal(changes.discarded, true);
    assert.deepEqual(changes.files, []);
  });

  it('refuses a run another process drives (the run lock) and an unknown run', async () => {
    const release = await acquireRunLock(ws, 'run-1');
    try {
      await assert.rejects(discardRun(ws, 'run-1'), (e: unknown) => (e as { code?: string }).code === 'run_locked');
    } finally {
      await release();
    }
    assert.equal(await isDiscarded(ws, 'run-1'), false);
    await assert.rejects(discardRun(ws, 'no-such-run'), (e: unknown) => (e as { code?: string }).code === 'not_found');
  });

  it('closes the run to further work: resume refuses, the CLI does not apply it, and a fork starts open', async () => {
    await discardRun(ws, 'run-1');
    const runtime = createRuntime({ workspace: ws, sandbox: new UnavailableSandbox(), env: {} });
    await assert.rejects(runtime.resume('run-1', { message: 'go on' }), (e: unknown) => (e as { code?: string }).code === 'run_discarded');
    assert.equal((await readRunLog(crewboxPaths(ws).runEvents('run-1'))).events.at(-1)!.type, 'run.discarded', 'a refused resume records nothing');

    const io = recordingIo();
    const parsed = parseCommandLine(['apply', 'run-1', '--workspace', ws], ws) as ParsedCommand;
    assert.equal(await applyCommand(parsed, io), 1);
    assert.match(io.stderr.join('\n'), /was discarded/);
    assert.equal(existsSync(path.join(ws, 'a.txt')), false, 'nothing reached the workspace');

    const forkId = await runtime.fork('run-1', 1);
    const fork = await readRunLog(crewboxPaths(ws).runEvents(forkId));
    assert.equal(fork.events.some((e) => e.type === 'run.discarded'), false);
    assert.equal(foldRun(fork.events).discarded, false);
  });

  it('only run.discarded closes a run: retries, loop warnings and errors do not', async () => {
    const { events } = await readRunLog(crewboxPaths(ws).runEvents('run-1'));
    const base = events.at(-1)!;
    for (const extra of [
      { ...base, seq: base.seq + 1, type: 'error', message: 'boom', kind: 'network' },
      { ...base, seq: base.seq + 1, type: 'loop.warning', agentId: 'orchestrator-1', tool: 'x', count: 3 },
      { ...base, seq: base.seq + 1, type: 'model.retry', agentId: 'orchestrator-1', attempt: 1, delayMs: 10, kind: 'network' },
    ]) {
      assert.equal(foldRun([...events, extra as never]).discarded, false, `${extra.type} must not close the run`);
    }
    assert.equal(foldRun([...events, { ...base, seq: base.seq + 1, type: 'run.discarded' } as never]).discarded, true);
  });
});
