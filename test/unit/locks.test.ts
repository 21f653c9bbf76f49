import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { acquireRunLock, isRunLocked, withFileLock } from '../../src/core/store/locks.ts';
import { crewboxPaths } from '../../src/core/store/layout.ts';
import { isStoreError } from '../../src/core/store/errors.ts';
import { firstLine, killHard, spawnTsx } from '../support/tsx-child.ts';

const runLocked = (e: unknown): boolean => isStoreError(e) && e.code === 'run_locked';

describe('run lock', () => {
  let ws: string;
  beforeEach(() => {
    ws = mkdtempSync(path.join(tmpdir(), 'crewbox-lock-'));
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  /** Plants a lock file as another process would have left it. */
  function plantLock(runId: string, holder: { pid: number; host: string }, ageMs = 0): string {
    const file = crewboxPaths(ws).runLock(runId);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ ...holder, token: 'planted', acquiredAt: new Date().toISOString() }));
    const t = new Date(Date.now() - ageMs);
    utimesSync(file, t, t);
    return file;
  }

  it('refuses a second acquirer until released, then lets it in', async () => {
    const release = await acquireRunLock(ws, 'r1');
    assert.equal(await isRunLocked(ws, 'r1'), true);
    await assert.rejects(acquireRunLock(ws, 'r1'), runLocked);
    assert.equal(await isRunLocked(ws, 'r2'), false);
    await release();
    await release();
    assert.equal(await isRunLocked(ws, 'r1'), false);
    const again = await acquireRunLock(ws, 'r1');
    await again();
  });

  it('release never removes a lock that is no longer ours', async () => {
    const release = await acquireRunLock(ws, 'r1');
    const file = plantLock('r1', { pid: process.pid, host: hostname() });
    await release();
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).token, 'planted');
  });

  it('takes over a lock whose holder process is gone on this host', async () => {
    plantLock('r1', { pid: 2 ** 22 + 12345, host: hostname() });
    const release = await acquireRunLock(ws, 'r1');
    await release();
  });

  it('judges a lock from another host by its heartbeat', async () => {
    plantLock('fresh', { pid: 1, host: 'elsewhere.invalid' });
    await assert.rejects(acquireRunLock(ws, 'fresh', { staleMs: 60_000 }), runLocked);
    plantLock('old', { pid: 1, host: 'elsewhere.invalid' }, 120_000);
    assert.equal(await isRunLocked(ws, 'old', { staleMs: 60_000 }), false);
    const release = await acquireRunLock(ws, 'old', { staleMs: 60_000 });
    await release();
  });

  it('treats an unreadable lock file as held until it goes stale', async () => {
    const file = crewboxPaths(ws).runLock('r1');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '{"pid":');
    await assert.rejects(acquireRunLock(ws, 'r1', { staleMs: 60_000 }), runLocked);
    const old = new Date(Date.now() - 120_000);
    utimesSync(file, old, old);
    await (await acquireRunLock(ws, 'r1', { staleMs: 60_000 }))();
  });

  it('is refused to another process while held, and taken over after that process is kill -9ed', async () => {
    const holder = spawnTsx('run-lock-holder.ts', [ws, 'r1']);
    try {
      assert.equal(await firstLine(holder), 'locked');
      await assert.rejects(acquireRunLock(ws, 'r1'), runLocked);
      const rival = spawnTsx('run-lock-holder.ts', [ws, 'r1']);
      assert.equal(await firstLine(rival).catch(String), 'refused run_locked');
      await killHard(rival);

      await killHard(holder);
      assert.ok(existsSync(crewboxPaths(ws).runLock('r1')), 'a killed holder leaves its lock file behind');
      assert.equal(await isRunLocked(ws, 'r1'), false);
      const release = await acquireRunLock(ws, 'r1');
      await release();
    } finally {
      await killHard(holder);
    }
  });

  it('lets the winner of a race take the lock and refuses everyone else', async () => {
    plantLock('r1', { pid: 2 ** 22 + 12345, host: hostname() });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => acquireRunLock(ws, 'r1')));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    assert.ok(results.every((r) => r.status === 'fulfilled' || runLocked(r.reason)));
    await (won[0] as PromiseFulfilledResult<() => Promise<void>>).value();
  });
});

describe('withFileLock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'crewbox-flock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs critical sections one at a time', async () => {
    const lockPath = path.join(dir, 'x.lock');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        withFileLock(lockPath, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((resolve) => setImmediate(resolve));
          inside--;
        }),
      ),
    );
    assert.equal(most, 1);
    assert.equal(existsSync(lockPath), false);
  });

  it('releases the lock when the section throws', async () => {
    const lockPath = path.join(dir, 'x.lock');
    await assert.rejects(withFileLock(lockPath, () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await withFileLock(lockPath, () => Promise.resolve(42)), 42);
  });
});
