/**
 * The blob collector (src/sandbox/store/gc.ts) over a real store on disk:
 * what runs, snapshots and the host index refer to stays; what nothing refers
 * to goes once it is older than the grace period; a damaged run stops it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import { acquireRunLock } from '../../src/core/store/locks.ts';
import { BlobStore } from '../../src/sandbox/store/blobs.ts';
import { CheckpointStore } from '../../src/sandbox/store/checkpoints.ts';
import { activeRuns, collectGarbage } from '../../src/sandbox/store/gc.ts';
import { collectIfDue } from '../../src/sandbox/store/gc-schedule.ts';
import { sha256, type Manifest } from '../../src/sandbox/store/manifest.ts';
import { sandboxStorePaths } from '../../src/sandbox/store/store-paths.ts';
import { recordingIo } from '../support/cli-io.ts';
import { tempDir } from '../support/workspace-fixture.ts';

const HOUR = 3600_000;

describe('blob collection (gc)', () => {
  let ws: string;
  let store: CheckpointStore;
  let blobs: BlobStore;
  beforeEach(() => {
    ws = tempDir('crewbox-gc-');
    store = new CheckpointStore(ws);
    blobs = new BlobStore(store.paths.objects);
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  const text = (s: string): Buffer => Buffer.from(`${s}\n`);
  const put = async (s: string): Promise<string> => (await blobs.put(text(s))).hash;
  const fileEntry = (hash: string, s: string) => ({ kind: 'file' as const, hash, mode: 0o644, size: text(s).length });
  /** Makes every file under .crewbox/objects and snapshots look `ageMs` old. */
  const age = (ageMs: number): void => {
    const at = new Date(Date.now() - ageMs);
    for (const dir of [store.paths.objects, store.paths.snapshots]) {
      if (!existsSync(dir)) continue;
      for (const d of readdirSync(dir, { recursive: true, withFileTypes: true })) if (d.isFile()) utimesSync(path.join(d.parentPath, d.name), at, at);
    }
  };
  const stored = (hash: string): boolean => new BlobStore(store.paths.objects).has(hash);

  async function runWith(runId: string, base: Record<string, string>, steps: Array<Record<string, string>>): Promise<void> {
    const manifest: Manifest = new Map();
    for (const [p, s] of Object.entries(base)) manifest.set(p, fileEntry(await put(s), s));
    await store.createRun(runId, await store.writeSnapshot(manifest));
    for (const [i, step] of steps.entries()) {
      const changes = [];
      for (const [p, s] of Object.entries(step)) changes.push({ path: p, entry: fileEntry(await put(s), s) });
      await store.append(runId, i + 1, changes);
    }
  }

  it('keeps what runs refer to and deletes old blobs nothing refers to', async () => {
    await runWith('r1', { 'a.ts': 'a0', 'b.ts': 'b0' }, [{ 'a.ts': 'a1' }]);
    const orphan = await put('nobody refers to this');
    age(2 * HOUR);
    const young = await put('written a moment ago');

    const report = await collectGarbage(ws);
    assert.equal(report.looseDeleted, 1);
    assert.equal(stored(orphan), false);
    assert.equal(stored(young), true, 'younger than the grace period');
    for (const s of ['a0', 'b0', 'a1']) assert.equal(stored(sha256(text(s))), true, s);
    assert.deepEqual((await store.stateAt('r1')).manifest.get('a.ts'), fileEntry(sha256(text('a1')), 'a1'));
  });

  it('a removed run frees its snapshot and the blobs only it named; shared ones stay', async () => {
    await runWith('keep', { 'a.ts': 'shared' }, [{ 'a.ts': 'keep-1' }]);
    await runWith('drop', { 'a.ts': 'shared', 'c.ts': 'only-drop' }, [{ 'a.ts': 'drop-1' }]);
    rmSync(store.paths.runDir('drop'), { recursive: true });
    age(2 * HOUR);

    const report = await collectGarbage(ws);
    assert.equal(report.snapshotsDeleted, 1);
    assert.equal(stored(sha256(text('only-drop'))), false);
    assert.equal(stored(sha256(text('drop-1'))), false);
    assert.equal(stored(sha256(text('shared'))), true);
    assert.equal(stored(sha256(text('keep-1'))), true);
  });

  it('deletes a pack only when none of its blobs is referenced, index first', async () => {
    const batch = (prefix: string): Promise<string[]> => {
      const b = blobs.batch();
      const hashes: string[] = [];
      for (let i = 0; i < 70; i++) {
        const data = text(`${prefix}-${i}`);
        hashes.push(sha256(data));
        b.add(sha256(data), data);
      }
      return b.commit().then(() => hashes);
    };
    const unused = await batch('unused');
    const used = await batch('used');
    await store.createRun('r', await store.writeSnapshot(new Map([['u.ts', fileEntry(used[0] as string, 'used-0')]])));
    age(2 * HOUR);

    const report = await collectGarbage(ws);
    assert.equal(report.packsDeleted, 1);
    const packDir = path.join(store.paths.objects, 'pack');
    assert.equal(readdirSync(packDir).filter((n) => n.endsWith('.idx')).length, 1);
    assert.equal(readdirSync(packDir).filter((n) => n.endsWith('.pack')).length, 1);
    assert.equal(stored(unused[0] as string), false);
    assert.equal(stored(used[69] as string), true, 'an unreferenced blob in a pack that is still needed stays');
  });

  it('keeps what the host index names, and a blob a put found again (freshened)', async () => {
    const indexed = await put('in the host index');
    const refound = await put('stored long ago, found again');
    age(2 * HOUR);
    mkdirSync(path.dirname(sandboxStorePaths(ws).hostIndex), { recursive: true });
    writeFileSync(sandboxStorePaths(ws).hostIndex, JSON.stringify({ v: 1, time: 0, entries: { 'x.ts': [1, 0, 0, 1, indexed] } }));
    // A checkpoint storing the same content again (a file reverted): the put dedups and freshens.
    await new BlobStore(store.paths.objects).putDurably([[refound, text('stored long ago, found again')]]);

    await collectGarbage(ws);
    assert.equal(stored(indexed), true);
    assert.equal(stored(refound), true);
  });

  it('deletes nothing when a run cannot be read', async () => {
    await runWith('r1', { 'a.ts': 'a0' }, []);
    const orphan = await put('orphan');
    writeFileSync(store.paths.runBase('r1'), 'not json');
    age(2 * HOUR);
    await assert.rejects(collectGarbage(ws));
    assert.equal(stored(orphan), true);
  });

  it('dry run reports without deleting; activeRuns names runs a live process drives', async () => {
    await put('orphan');
    age(2 * HOUR);
    const dry = await collectGarbage(ws, { dryRun: true });
    assert.equal(dry.looseDeleted, 1);
    assert.equal((await collectGarbage(ws, { dryRun: true })).looseDeleted, 1, 'still there');

    await runWith('busy', { 'a.ts': 'a0' }, []);
    const release = await acquireRunLock(ws, 'busy');
    try {
      assert.deepEqual(await activeRuns(ws), ['busy']);
    } finally {
      await release();
    }
    assert.deepEqual(await activeRuns(ws), []);
  });
});

describe('crewbox sandbox gc', () => {
  let ws: string;
  beforeEach(() => {
    ws = tempDir('crewbox-gc-cli-');
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('collects without Docker and says what it removed; refuses while a run is driven', async () => {
    const blobs = new BlobStore(sandboxStorePaths(ws).objects);
    const { hash } = await blobs.put(Buffer.from('orphan\n'));
    const old = new Date(Date.now() - 2 * HOUR);
    utimesSync(blobs.pathOf(hash), old, old);
    mkdirSync(new CheckpointStore(ws).paths.runDir('busy'), { recursive: true });
    const release = await acquireRunLock(ws, 'busy');
    try {
      const refused = recordingIo({ DOCKER_HOST: 'unix:///nonexistent.sock' });
      assert.equal(await main(['sandbox', 'gc', '--workspace', ws], refused), 1);
      assert.match(refused.stderr.join('\n'), /busy is in progress/);
    } finally {
      await release();
    }
    const io = recordingIo({ DOCKER_HOST: 'unix:///nonexistent.sock' });
    assert.equal(await main(['sandbox', 'gc', '--workspace', ws], io), 0);
    assert.match(io.stdout.join('\n'), /Removed 1 blobs/);
    assert.equal(existsSync(blobs.pathOf(hash)), false);
  });
});

describe('scheduled collection (collectIfDue, when a sandbox session closes)', () => {
  let ws: string;
  beforeEach(() => {
    ws = tempDir('crewbox-gc-due-');
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  const orphan = async (text: string): Promise<string> => {
    const blobs = new BlobStore(sandboxStorePaths(ws).objects);
    const { hash } = await blobs.put(Buffer.from(text));
    const old = new Date(Date.now() - 2 * HOUR);
    utimesSync(blobs.pathOf(hash), old, old);
    return blobs.pathOf(hash);
  };

  it('collects when never collected, then not again within the interval, then again after it', async () => {
    assert.deepEqual(await collectIfDue(ws), { collected: false, reason: 'no_store' });
    const first = await orphan('one\n');
    const done = await collectIfDue(ws);
    assert.equal(done.collected, true);
    assert.equal(existsSync(first), false);
    assert.equal(JSON.parse(readFileSync(sandboxStorePaths(ws).gcState, 'utf8')).report.looseDeleted, 1);

    const second = await orphan('two\n');
    assert.deepEqual(await collectIfDue(ws), { collected: false, reason: 'not_due' });
    assert.equal(existsSync(second), true);
    const tomorrow = Date.now() + 25 * HOUR;
    const later = await collectIfDue(ws, { now: () => tomorrow, graceMs: HOUR });
    assert.equal(later.collected, true);
    assert.equal(existsSync(second), false);
  });

  it('skips (and stays due) while a run is driven; a damaged state file means due', async () => {
    const file = await orphan('busy\n');
    writeFileSync(sandboxStorePaths(ws).gcState, '{not json');
    mkdirSync(new CheckpointStore(ws).paths.runDir('busy'), { recursive: true });
    const release = await acquireRunLock(ws, 'busy');
    try {
      assert.deepEqual(await collectIfDue(ws), { collected: false, reason: 'runs_active' });
      assert.equal(existsSync(file), true);
    } finally {
      await release();
    }
    assert.equal((await collectIfDue(ws)).collected, true);
    assert.equal(existsSync(file), false);
  });
});
