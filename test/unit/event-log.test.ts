import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventLog, readRunLog } from '../../src/core/store/event-log.ts';
import { isStoreError } from '../../src/core/store/errors.ts';
import type { StoreErrorCode } from '../../src/core/store/errors.ts';
import type { EventInput } from '../../src/core/events/schema.ts';
import { modelTurn, runStarted, stepEvents, toolCompleted } from '../support/store-builders.ts';

const RUN = 'run-1';

function rejectsWith(code: StoreErrorCode): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isStoreError(e), `expected a StoreError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

describe('EventLog', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'crewbox-log-'));
    file = path.join(dir, 'runs', RUN, 'events.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes `steps` full steps after a run.started; returns the file's bytes. */
  async function writeSteps(steps: number): Promise<Buffer> {
    const { log } = await EventLog.open(file, RUN);
    log.append(runStarted());
    for (let s = 1; s <= steps; s++) for (const e of stepEvents(s)) log.append(e);
    log.close();
    return readFileSync(file);
  }

  function lines(): string[] {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  }

  describe('append', () => {
    it('numbers events densely, stamps them and writes one JSON line each', async () => {
      const clock = new Date('2025-01-02T03:04:05.000Z');
      const { log, events, recovery } = await EventLog.open(file, RUN, { now: () => clock });
      assert.deepEqual(events, []);
      assert.equal(recovery, undefined);
      const a = log.append(runStarted());
      const b = log.append(modelTurn(1));
      log.close();
      assert.deepEqual([a.seq, b.seq], [1, 2]);
      assert.equal(a.runId, RUN);
      assert.equal(a.v, 1);
      assert.equal(b.ts, '2025-01-02T03:04:05.000Z');
      assert.deepEqual(lines().map((l) => JSON.parse(l) as unknown), [a, b]);
    });

    it('returns the event as stored, with schema defaults applied', async () => {
      const { log } = await EventLog.open(file, RUN);
      const turn = modelTurn(1) as Extract<EventInput, { type: 'model.turn' }>;
      const stored = log.append({ ...turn, usage: { inputTokens: 5, outputTokens: 1 } as typeof turn.usage });
      log.close();
      assert.ok(stored.type === 'model.turn');
      assert.equal(stored.usage.cacheReadTokens, 0);
      const { events } = await readRunLog(file);
      assert.deepEqual(events, [stored]);
    });

    it('refuses ephemeral events without writing or using a seq', async () => {
      const { log } = await EventLog.open(file, RUN);
      log.append(runStarted());
      assert.throws(() => log.append({ type: 'model.delta', step: 0, text: 'tok' }), rejectsWith('ephemeral_event'));
      assert.equal(log.append(modelTurn(1)).seq, 2);
      log.close();
      assert.equal(lines().length, 2);
    });

    it('refuses a schema-invalid event without writing', async () => {
      const { log } = await EventLog.open(file, RUN);
      log.append(runStarted());
      const bad = { ...toolCompleted(1), output: 42 } as unknown as EventInput;
      assert.throws(() => log.append(bad), rejectsWith('invalid_event'));
      log.close();
      assert.equal(lines().length, 1);
    });

    it('refuses a step lower than the last one', async () => {
      const { log } = await EventLog.open(file, RUN);
      log.append(modelTurn(3));
      assert.throws(() => log.append(toolCompleted(2)), rejectsWith('invalid_event'));
      log.close();
    });

    it('appends a batch with dense seqs, or nothing when one event is invalid', async () => {
      const { log } = await EventLog.open(file, RUN);
      log.append(runStarted());
      const bad = { ...toolCompleted(1), isError: 'no' } as unknown as EventInput;
      assert.throws(() => log.appendBatch([modelTurn(1), bad]), rejectsWith('invalid_event'));
      assert.throws(() => log.appendBatch([modelTurn(2), toolCompleted(1)]), rejectsWith('invalid_event'));
      assert.equal(log.lastSeq, 1);
      assert.deepEqual(log.appendBatch([]), []);
      const batch = log.appendBatch(stepEvents(1));
      assert.deepEqual(batch.map((e) => e.seq), [2, 3, 4]);
      log.close();
      const { events, problems } = await readRunLog(file);
      assert.deepEqual(problems, []);
      assert.deepEqual(events.slice(1), batch);
    });

    it('refuses appends after close', async () => {
      const { log } = await EventLog.open(file, RUN);
      log.close();
      log.close();
      assert.throws(() => log.append(runStarted()), rejectsWith('log_closed'));
    });
  });

  describe('reopening', () => {
    it('returns the existing events and continues the seq', async () => {
      await writeSteps(2);
      const { log, events, recovery } = await EventLog.open(file, RUN);
      assert.equal(recovery, undefined);
      assert.equal(events.length, 7);
      assert.equal(log.lastSeq, 7);
      assert.equal(log.lastStep, 2);
      for (const e of stepEvents(3)) log.append(e);
      log.close();
      const read = await readRunLog(file);
      assert.deepEqual(read.problems, []);
      assert.deepEqual(read.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('refuses a log that belongs to another run and leaves it untouched', async () => {
      const before = await writeSteps(1);
      await assert.rejects(EventLog.open(file, 'run-2'), rejectsWith('run_mismatch'));
      assert.deepEqual(readFileSync(file), before);
    });
  });

  describe('torn last line', () => {
    it('is reported with its line number and excluded from the events', async () => {
      await writeSteps(1);
      appendFileSync(file, '{"v":1,"runId":"run-1","seq":5,"ts":"2025');
      const { events, problems } = await readRunLog(file);
      assert.equal(events.length, 4);
      assert.equal(problems.length, 1);
      assert.equal(problems[0]?.kind, 'torn_tail');
      assert.equal(problems[0]?.line, 5);
      assert.match(problems[0]?.message ?? '', /Line 5 is incomplete/);
    });

    it('is recovered on open: original bytes saved, live file cut to the good prefix, seq continues', async () => {
      const good = await writeSteps(1);
      appendFileSync(file, '{"v":1,"runId":"run-1","seq":5,"ts":"2025');
      const damaged = readFileSync(file);

      const { log, events, recovery } = await EventLog.open(file, RUN);
      assert.ok(recovery);
      assert.equal(recovery.keptEvents, 4);
      assert.equal(recovery.droppedBytes, damaged.length - good.length);
      assert.match(recovery.summary, /Line 5 is incomplete/);
      assert.match(recovery.summary, /saved as .*events\.jsonl\.corrupt-/);
      assert.deepEqual(readFileSync(recovery.corruptCopy), damaged);
      assert.deepEqual(readFileSync(file), good);
      assert.equal(events.length, 4);

      assert.equal(log.append(modelTurn(2)).seq, 5);
      log.close();
      const read = await readRunLog(file);
      assert.deepEqual(read.problems, []);
      assert.deepEqual(read.events.map((e) => e.seq), [1, 2, 3, 4, 5]);
    });

    it('drops a complete event that lacks its line end (its append never returned)', async () => {
      await writeSteps(1);
      const whole = readFileSync(file, 'utf8').split('\n')[1] ?? '';
      appendFileSync(file, whole.replace('"seq":2', '"seq":5'));
      const { events, problems } = await readRunLog(file);
      assert.equal(events.length, 4);
      assert.equal(problems[0]?.kind, 'torn_tail');
    });

    it('never overwrites an earlier corrupt copy', async () => {
      const fixed = new Date('2025-01-01T00:00:00.000Z');
      await writeSteps(1);
      appendFileSync(file, '{"torn');
      (await EventLog.open(file, RUN, { now: () => fixed })).log.close();
      appendFileSync(file, '{"torn again');
      const second = await EventLog.open(file, RUN, { now: () => fixed });
      second.log.close();
      const copies = readdirSync(path.dirname(file)).filter((n) => n.includes('.corrupt-'));
      assert.equal(copies.length, 2);
      assert.match(readFileSync(second.recovery?.corruptCopy ?? '', 'utf8'), /torn again$/);
    });
  });

  describe('damage in the middle', () => {
    /** Replaces line `n` (1-based) of the log. */
    function replaceLine(n: number, text: string | undefined): void {
      const all = readFileSync(file, 'utf8').split('\n');
      if (text === undefined) all.splice(n - 1, 1);
      else all[n - 1] = text;
      writeFileSync(file, all.join('\n'));
    }

    it('reports a corrupt line once and keeps only the events before it', async () => {
      await writeSteps(2);
      replaceLine(4, '{"v":1,"runId":"run-1","se\u0000\u0000');
      const { events, problems } = await readRunLog(file);
      assert.deepEqual(events.map((e) => e.seq), [1, 2, 3]);
      assert.deepEqual(problems.map((p) => [p.kind, p.line]), [['corrupt_line', 4]]);
      assert.equal(problems[0]?.message, 'Line 4 is not valid JSON.');
    });

    it('reports a schema-invalid event', async () => {
      await writeSteps(1);
      const line = JSON.parse(readFileSync(file, 'utf8').split('\n')[2] ?? '') as Record<string, unknown>;
      replaceLine(3, JSON.stringify({ ...line, readOnly: 'yes' }));
      const { events, problems } = await readRunLog(file);
      assert.equal(events.length, 2);
      assert.deepEqual(problems.map((p) => [p.kind, p.line]), [['invalid_event', 3]]);
      assert.match(problems[0]?.message ?? '', /^Line 3 is not a valid run event at "readOnly"/);
    });

    it('reports a seq gap', async () => {
      await writeSteps(2);
      replaceLine(3, undefined);
      const { events, problems } = await readRunLog(file);
      assert.equal(events.length, 2);
      assert.deepEqual(problems.map((p) => [p.kind, p.line]), [['seq_gap', 3]]);
      assert.match(problems[0]?.message ?? '', /seq 4 where 3 was expected/);
    });

    it('is recovered on open: the damaged file is kept and appending resumes after the good prefix', async () => {
      await writeSteps(2);
      replaceLine(5, 'garbage');
      const damaged = readFileSync(file);
      const { log, events, recovery } = await EventLog.open(file, RUN);
      assert.equal(events.length, 4);
      assert.deepEqual(readFileSync(recovery?.corruptCopy ?? ''), damaged);
      assert.equal(log.append(modelTurn(2)).seq, 5);
      log.close();
      const read = await readRunLog(file);
      assert.deepEqual(read.problems, []);
      assert.equal(read.events.length, 5);
    });
  });

  describe('unreadable files', () => {
    it('reports a missing log as not_found', async () => {
      await assert.rejects(readRunLog(file), rejectsWith('not_found'));
    });

    it('reports a log that is a directory as unreadable, for reading and for opening', async () => {
      mkdirSync(file, { recursive: true });
      await assert.rejects(readRunLog(file), rejectsWith('unreadable'));
      await assert.rejects(EventLog.open(file, RUN), rejectsWith('unreadable'));
      assert.ok(statSync(file).isDirectory());
    });
  });
});

describe('event log: a line synced with the next one', () => {
  it('writes an unsynced event at once, in order, and keeps it across the next append and close', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = (await import('node:path')).default;
    const { EventLog, readRunLog } = await import('../../src/core/store/event-log.ts');
    const { runStarted, modelTurn } = await import('../support/store-builders.ts');
    const dir = mkdtempSync(path.join(tmpdir(), 'crewbox-log-sync-'));
    try {
      const file = path.join(dir, 'events.jsonl');
      const { log } = await EventLog.open(file, 'run-1');
      log.append(runStarted());
      const turn = log.append(modelTurn(1), { sync: false });
      assert.equal(turn.seq, 2);
      assert.deepEqual((await readRunLog(file)).events.map((e) => e.type), ['run.started', 'model.turn'], 'written before any sync');
      log.append({ type: 'run.interrupted', step: 1, reason: 'user' });
      log.append(modelTurn(2), { sync: false });
      log.close();
      const { events, problems } = await readRunLog(file);
      assert.deepEqual(problems, []);
      assert.deepEqual(events.map((e) => [e.seq, e.type]), [[1, 'run.started'], [2, 'model.turn'], [3, 'run.interrupted'], [4, 'model.turn']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
