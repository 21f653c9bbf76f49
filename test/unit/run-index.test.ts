import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunIndex } from '../../src/core/store/run-index.ts';
import type { IndexRecovery } from '../../src/core/store/run-index.ts';
import { EventLog, readRunLog } from '../../src/core/store/event-log.ts';
import { crewboxPaths } from '../../src/core/store/layout.ts';
import { isStoreError } from '../../src/core/store/errors.ts';
import { summarizeRun } from '../../src/core/store/run-summary.ts';
import { modelTurn, runStarted, stepEvents } from '../support/store-builders.ts';
import { runTsx } from '../support/tsx-child.ts';

describe('RunIndex', () => {
  let ws: string;
  beforeEach(() => {
    ws = mkdtempSync(path.join(tmpdir(), 'crewbox-index-'));
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  const clock = (iso: string) => () => new Date(iso);

  it('creates an entry with defaults and merges later patches into it', async () => {
    const index = await RunIndex.open(ws, { now: clock('2025-02-01T10:00:00.000Z') });
    const created = await index.upsert({ id: 'r1', goal: 'fix the build' });
    assert.deepEqual(created, {
      id: 'r1',
      goal: 'fix the build',
      status: 'running',
      createdAt: '2025-02-01T10:00:00.000Z',
      updatedAt: '2025-02-01T10:00:00.000Z',
      tokens: 0,
      costUsd: 0,
      steps: 0,
    });
    const later = await RunIndex.open(ws, { now: clock('2025-02-01T11:00:00.000Z') });
    await later.upsert({ id: 'r1', status: 'completed', verdict: 'pass', tokens: 1234, goal: undefined });
    assert.deepEqual(await index.get('r1'), {
      ...created,
      status: 'completed',
      verdict: 'pass',
      tokens: 1234,
      updatedAt: '2025-02-01T11:00:00.000Z',
    });
  });

  it('lists newest first and removes entries', async () => {
    const index = await RunIndex.open(ws);
    await index.upsert({ id: 'old', createdAt: '2025-01-01T00:00:00.000Z' });
    await index.upsert({ id: 'new', createdAt: '2025-03-01T00:00:00.000Z' });
    await index.upsert({ id: 'mid', createdAt: '2025-02-01T00:00:00.000Z' });
    assert.deepEqual((await index.list()).map((e) => e.id), ['new', 'mid', 'old']);
    assert.equal(await index.remove('mid'), true);
    assert.equal(await index.remove('mid'), false);
    assert.equal(await index.get('mid'), undefined);
    assert.deepEqual((await index.list()).map((e) => e.id), ['new', 'old']);
  });

  it('refuses invalid entries and ids without changing the file', async () => {
    const index = await RunIndex.open(ws);
    await index.upsert({ id: 'r1' });
    const before = readFileSync(crewboxPaths(ws).index, 'utf8');
    await assert.rejects(index.upsert({ id: 'r1', tokens: -1 }), (e) => isStoreError(e) && e.code === 'invalid_entry');
    await assert.rejects(index.upsert({ id: '../r1' }), (e) => isStoreError(e) && e.code === 'invalid_run_id');
    assert.equal(readFileSync(crewboxPaths(ws).index, 'utf8'), before);
  });

  it('leaves no temp or lock files behind', async () => {
    const index = await RunIndex.open(ws);
    await Promise.all([index.upsert({ id: 'a' }), index.upsert({ id: 'b' }), index.remove('a')]);
    assert.deepEqual(readdirSync(crewboxPaths(ws).root).sort(), ['index.json', 'runs']);
  });

  it('loses no update when many writers interleave in one process', async () => {
    const a = await RunIndex.open(ws);
    const b = await RunIndex.open(ws);
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).upsert({ id: `r${i}`, steps: i })));
    const entries = await a.list();
    assert.equal(entries.length, 20);
    assert.deepEqual(entries.map((e) => e.steps).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i));
  });

  it('loses no update when several processes upsert at once', async () => {
    const workers = 4;
    const count = 12;
    await RunIndex.open(ws);
    const outputs = await Promise.all(Array.from({ length: workers }, (_, w) => runTsx('index-upserter.ts', [ws, String(w), String(count)])));
    assert.deepEqual(outputs, Array(workers).fill('done\n'));

    const raw = readFileSync(crewboxPaths(ws).index, 'utf8');
    assert.doesNotThrow(() => JSON.parse(raw));
    const entries = await (await RunIndex.open(ws)).list();
    assert.equal(entries.length, workers * count);
    for (let w = 0; w < workers; w++) {
      for (let k = 0; k < count; k++) {
        const e = entries.find((x) => x.id === `w${w}-${k}`);
        assert.ok(e, `w${w}-${k} is missing`);
        assert.equal(e.goal, `goal ${w}/${k}`);
        assert.equal(e.tokens, k + 1);
        assert.equal(e.status, 'completed');
      }
    }
  });

  describe('recovery', () => {
    /** Two runs on disk: one finished, one whose log ends in a torn line. */
    async function writeRuns(): Promise<void> {
      const paths = crewboxPaths(ws);
      const done = await EventLog.open(paths.runEvents('done'), 'done');
      done.log.append(runStarted('ship it'));
      for (const e of stepEvents(1)) done.log.append(e);
      done.log.append({ type: 'run.finished', step: 1, status: 'completed', summary: 'ok', verdict: 'pass' });
      done.log.close();
      const torn = await EventLog.open(paths.runEvents('torn'), 'torn');
      torn.log.append(runStarted('half way'));
      torn.log.append(modelTurn(1));
      torn.log.close();
      appendFileSync(paths.runEvents('torn'), '{"v":1,"ru');
    }

    for (const [what, bytes] of [
      ['not JSON', '{"version":1,"runs":{'],
      ['empty', ''],
      ['JSON of the wrong shape', '{"version":1,"runs":{"x":{"id":"x"}}}'],
    ] as const) {
      it(`moves an index that is ${what} aside and rebuilds it from the run logs`, async () => {
        await writeRuns();
        const paths = crewboxPaths(ws);
        writeFileSync(paths.index, bytes);
        const recoveries: IndexRecovery[] = [];

        const index = await RunIndex.open(ws, { onRecovered: (r) => recoveries.push(r) });
        assert.equal(recoveries.length, 1);
        const recovery = recoveries[0];
        assert.ok(recovery);
        assert.equal(readFileSync(recovery.corruptCopy, 'utf8'), bytes);
        assert.equal(recovery.rebuiltRuns, 2);
        assert.match(recovery.summary, /could not be used .* moved to .*index\.json\.corrupt-.* rebuilt from 2 run log/);

        const expected = await Promise.all(['done', 'torn'].map(async (id) => summarizeRun((await readRunLog(paths.runEvents(id))).events)));
        assert.deepEqual(await index.get('done'), expected[0]);
        assert.deepEqual(await index.get('torn'), expected[1]);
        assert.equal((await index.get('done'))?.status, 'completed');
        assert.doesNotThrow(() => JSON.parse(readFileSync(paths.index, 'utf8')));

        await index.upsert({ id: 'torn', status: 'interrupted' });
        assert.equal(recoveries.length, 1);
      });
    }

    it('lists run logs it could not read', async () => {
      await writeRuns();
      const paths = crewboxPaths(ws);
      rmSync(paths.runEvents('torn'));
      await import('node:fs').then((fs) => fs.mkdirSync(paths.runEvents('torn')));
      writeFileSync(paths.index, 'garbage');
      const recoveries: IndexRecovery[] = [];
      const index = await RunIndex.open(ws, { onRecovered: (r) => recoveries.push(r) });
      assert.deepEqual(recoveries[0]?.skipped.map((s) => s.path), [paths.runEvents('torn')]);
      assert.deepEqual((await index.list()).map((e) => e.id), ['done']);
    });
  });
});
