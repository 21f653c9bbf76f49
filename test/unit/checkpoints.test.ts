import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { isStoreError } from '../../src/core/store/errors.ts';
import { CheckpointStore } from '../../src/sandbox/store/checkpoints.ts';
import { lookupEntries, parseManifest, serializeManifest, sha256, type Manifest, type ManifestChange } from '../../src/sandbox/store/manifest.ts';
import { tempDir } from '../support/workspace-fixture.ts';

const h = (s: string): string => sha256(s);
const file = (content: string, mode = 0o644) => ({ kind: 'file' as const, hash: h(content), mode, size: content.length });
const upsert = (path: string, content: string, mode = 0o644): ManifestChange => ({ path, entry: file(content, mode) });
const del = (path: string): ManifestChange => ({ path, deleted: true });

function baseManifest(): Manifest {
  const m: Manifest = new Map();
  m.set('src/a.ts', file('a1'));
  m.set('README.md', file('readme'));
  m.set('bin', { kind: 'symlink', linkTarget: 'tools/bin', mode: 0o777 });
  return m;
}

const contents = (m: Manifest): Record<string, string> => Object.fromEntries([...m].map(([p, e]) => [p, e.kind === 'file' ? e.hash : `->${e.linkTarget}`]).sort());

describe('sandbox manifests', () => {
  it('serialise deterministically whatever the insertion order, and round-trip', () => {
    const a = baseManifest();
    const b = new Map([...a].reverse());
    assert.equal(serializeManifest(a), serializeManifest(b));
    assert.deepEqual(parseManifest(serializeManifest(a)), new Map([...a].sort(([x], [y]) => (x < y ? -1 : 1))));
  });

  it('find a few entries by binary search without parsing the rest, whatever the path characters', () => {
    const m: Manifest = new Map();
    for (let i = 0; i < 500; i++) m.set(`dir${i % 7}/file-${i}.ts`, file(`content ${i}`));
    const tricky = ['a"],["b', 'quote"', 'back\\slash', 'ünïcødé/名前.txt', 'z/last', '0first', 'space name'];
    for (const p of tricky) m.set(p, file(p));
    m.set('link', { kind: 'symlink', linkTarget: '"],["x', mode: 0o777 });
    const text = Buffer.from(serializeManifest(m));
    const wanted = [...tricky, 'link', 'dir3/file-3.ts', 'dir0/file-497.ts', 'absent', 'dir0/file-0.tsx'];
    const found = lookupEntries(text, wanted);
    assert.deepEqual([...found.keys()].sort(), wanted.filter((p) => m.has(p)).sort());
    for (const [p, e] of found) assert.deepEqual(e, m.get(p));
    assert.deepEqual(lookupEntries(Buffer.from(serializeManifest(new Map())), ['x']), new Map());
  });

  it('refuse entries that could escape the workspace or are malformed', () => {
    for (const bad of [
      '{"v":1,"entries":[["../x","f",420,1,"' + h('x') + '"]]}',
      '{"v":1,"entries":[["/etc/passwd","f",420,1,"' + h('x') + '"]]}',
      '{"v":1,"entries":[["a","f",420,1,"nothex"]]}',
      '{"v":2,"entries":[]}',
    ]) {
      assert.throws(() => parseManifest(bad), bad);
    }
  });
});

describe('CheckpointStore', () => {
  let ws: string;
  let store: CheckpointStore;
  beforeEach(() => {
    ws = tempDir('crewbox-ckpt-');
    store = new CheckpointStore(ws);
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('shares one snapshot file between runs over the same tree', async () => {
    const h1 = await store.writeSnapshot(baseManifest());
    const h2 = await new CheckpointStore(ws).writeSnapshot(new Map([...baseManifest()].reverse()));
    assert.equal(h1, h2);
    assert.equal(readdirSync(store.paths.snapshots).length, 1);
    await store.createRun('r1', h1);
    await store.createRun('r2', h2);
    assert.equal((await store.readBase('r1')).snapshot, (await store.readBase('r2')).snapshot);
  });

  it('rebuilds the state after each step from base + deltas', async () => {
    await store.createRun('r1', await store.writeSnapshot(baseManifest()));
    assert.equal((await store.append('r1', 1, [upsert('src/a.ts', 'a2')])).seq, 1);
    assert.equal((await store.append('r1', 3, [upsert('src/b.ts', 'b1'), del('README.md')])).seq, 2);
    assert.equal((await store.append('r1', 3, [upsert('src/b.ts', 'b2', 0o755)])).seq, 3);

    const fresh = new CheckpointStore(ws);
    assert.deepEqual(contents((await fresh.stateAt('r1', 0)).manifest), contents(baseManifest()));
    assert.deepEqual(contents((await fresh.stateAt('r1', 2)).manifest), { ...contents(baseManifest()), 'src/a.ts': h('a2') });
    const at3 = await fresh.stateAt('r1', 3);
    assert.deepEqual(contents(at3.manifest), { 'bin': '->tools/bin', 'src/a.ts': h('a2'), 'src/b.ts': h('b2') });
    assert.deepEqual(at3.manifest.get('src/b.ts'), file('b2', 0o755));
    assert.equal(at3.seq, 3);
    assert.equal(at3.step, 3);
    assert.deepEqual(contents((await fresh.stateAt('r1')).manifest), contents(at3.manifest));
  });

  it('ignores a torn last line and cuts it off before the next append', async () => {
    await store.createRun('r1', await store.writeSnapshot(baseManifest()));
    await store.append('r1', 1, [upsert('src/a.ts', 'a2')]);
    appendFileSync(store.paths.runCheckpoints('r1'), '{"step":2,"seq":2,"changes":[{"path":"src/a.ts","ha');

    const reader = new CheckpointStore(ws);
    assert.equal((await reader.readDeltas('r1')).length, 1);
    assert.equal((await reader.append('r1', 2, [upsert('src/c.ts', 'c')])).seq, 2);
    const lines = readFileSync(store.paths.runCheckpoints('r1'), 'utf8').split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    assert.deepEqual((await reader.readDeltas('r1')).map((d) => d.seq), [1, 2]);
  });

  it('treats an unparseable complete last line as torn, and damage earlier as an error', async () => {
    await store.createRun('r1', await store.writeSnapshot(baseManifest()));
    await store.append('r1', 1, [upsert('src/a.ts', 'a2')]);
    appendFileSync(store.paths.runCheckpoints('r1'), 'garbage\n');
    assert.equal((await new CheckpointStore(ws).readDeltas('r1')).length, 1);

    appendFileSync(store.paths.runCheckpoints('r1'), `${JSON.stringify({ step: 2, seq: 2, changes: [] })}\n`);
    await assert.rejects(new CheckpointStore(ws).readDeltas('r1'), (e) => isStoreError(e) && e.code === 'invalid_entry');
  });

  it('detects a damaged snapshot', async () => {
    const hash = await store.writeSnapshot(baseManifest());
    writeFileSync(store.paths.snapshot(hash), serializeManifest(new Map([['x', file('x')]])));
    await assert.rejects(new CheckpointStore(ws).readSnapshot(hash), (e) => isStoreError(e) && e.code === 'invalid_entry');
  });

  it('forks a run at a step: same base, deltas up to the step, independent afterwards', async () => {
    const hash = await store.writeSnapshot(baseManifest());
    await store.createRun('r1', hash);
    await store.append('r1', 1, [upsert('src/a.ts', 'a2')]);
    await store.append('r1', 2, [upsert('src/b.ts', 'b1')]);
    await store.append('r1', 4, [del('src/a.ts')]);

    await store.forkCheckpoints('r1', 2, 'r1-fork');
    const base = await store.readBase('r1-fork');
    assert.equal(base.snapshot, hash);
    assert.deepEqual(base.forkOf, { runId: 'r1', step: 2 });
    assert.deepEqual(contents((await store.stateAt('r1-fork')).manifest), contents((await store.stateAt('r1', 2)).manifest));

    await store.append('r1-fork', 3, [upsert('src/a.ts', 'fork')]);
    assert.equal(((await store.stateAt('r1-fork')).manifest.get('src/a.ts') as { hash: string }).hash, h('fork'));
    assert.equal((await store.stateAt('r1')).manifest.has('src/a.ts'), false);
    assert.deepEqual((await store.readDeltas('r1')).map((d) => d.step), [1, 2, 4]);
  });

  it('forks at step 0 with the base alone', async () => {
    await store.createRun('r1', await store.writeSnapshot(baseManifest()));
    await store.append('r1', 1, [upsert('src/a.ts', 'a2')]);
    await store.forkCheckpoints('r1', 0, 'r2');
    assert.deepEqual(contents((await store.stateAt('r2')).manifest), contents(baseManifest()));
    assert.equal((await store.append('r2', 1, [del('bin')])).seq, 1);
  });

  describe('inline blobs (a step\'s new contents written with its delta line)', () => {
    const inline = (...texts: string[]): Map<string, Buffer> => new Map(texts.map((t) => [h(t), Buffer.from(t)]));
    const read = async (s: CheckpointStore, content: string): Promise<string> => (await s.blobs.read(h(content))).toString();

    it('writes them in the same append, readable through any store that loads the log, never into objects/', async () => {
      await store.createRun('r1', await store.writeSnapshot(baseManifest()));
      const binary = Buffer.from([0, 1, 2, 255, 10, 13, 0x22]);
      const binHash = sha256(binary);
      await store.append('r1', 1, [upsert('src/a.ts', 'a2\n"quoted"'), { path: 'bin.dat', entry: { kind: 'file', hash: binHash, mode: 0o644, size: binary.length } }], new Map([...inline('a2\n"quoted"', 'not named by any change'), [binHash, binary]]));
      assert.equal(await read(store, 'a2\n"quoted"'), 'a2\n"quoted"', 'readable at once by the appending store');
      assert.equal(store.blobs.has(h('a2\n"quoted"')), false, 'has() counts objects/ only');
      assert.equal(existsSync(store.paths.objects), false);
      const lines = readFileSync(store.paths.runCheckpoints('r1'), 'utf8').trimEnd().split('\n');
      assert.equal(lines.length, 3, 'two blob lines (the unnamed content is dropped) and the delta line');
      assert.ok(lines.slice(0, 2).every((l) => JSON.parse(l).blob !== undefined), 'each line is JSON');

      const fresh = new CheckpointStore(ws);
      await assert.rejects(fresh.blobs.read(h('a2\n"quoted"')), (e) => isStoreError(e) && e.code === 'not_found', 'unknown before the log is loaded');
      const { latest } = await fresh.touchedAt('r1');
      assert.equal(latest.size, 2);
      assert.equal(await read(fresh, 'a2\n"quoted"'), 'a2\n"quoted"');
      assert.deepEqual(fresh.blobs.readSync(binHash), binary);
      const streamed: Buffer[] = [];
      for await (const chunk of fresh.blobs.readStream(binHash)) streamed.push(chunk as Buffer);
      assert.deepEqual(Buffer.concat(streamed), binary);
      await assert.rejects(fresh.blobs.read(h('not named by any change')), (e) => isStoreError(e) && e.code === 'not_found');

      // Later appends land after them (offsets stay right) and seq goes on.
      assert.equal((await fresh.append('r1', 2, [upsert('src/c.ts', 'c1')], inline('c1'))).seq, 2);
      const third = new CheckpointStore(ws);
      await third.stateAt('r1');
      assert.equal(await read(third, 'c1'), 'c1');
      assert.equal(await read(third, 'a2\n"quoted"'), 'a2\n"quoted"');
    });

    it('cuts off blob lines whose delta line never made it, and a damaged blob is a clear error on read', async () => {
      await store.createRun('r1', await store.writeSnapshot(baseManifest()));
      await store.append('r1', 1, [upsert('src/a.ts', 'a2')], inline('a2'));
      const log = store.paths.runCheckpoints('r1');
      const good = readFileSync(log);
      // A crash mid-append: complete blob lines, then a cut one, no delta line.
      appendFileSync(log, `{"blob":"${h('b1')}","data":"${Buffer.from('b1').toString('base64')}"}\n{"blob":"${h('b2')}","da`);
      const reader = new CheckpointStore(ws);
      assert.deepEqual((await reader.readDeltas('r1')).map((d) => d.seq), [1]);
      await assert.rejects(reader.blobs.read(h('b1')), (e) => isStoreError(e) && e.code === 'not_found', 'a torn blob line names nothing');
      assert.equal((await reader.append('r1', 2, [upsert('src/b.ts', 'b1')], inline('b1'))).seq, 2);
      assert.equal(readFileSync(log).subarray(0, good.length).equals(good), true);
      const after = new CheckpointStore(ws);
      assert.deepEqual((await after.readDeltas('r1')).map((d) => d.seq), [1, 2]);
      assert.equal(await read(after, 'b1'), 'b1');

      // Flip a byte of a blob's data: loading still works, reading that blob says the log is damaged.
      const text = readFileSync(log, 'utf8');
      const at = text.indexOf(Buffer.from('a2').toString('base64'));
      writeFileSync(log, text.slice(0, at) + (text[at] === 'Y' ? 'Z' : 'Y') + text.slice(at + 1));
      const damaged = new CheckpointStore(ws);
      assert.equal((await damaged.readDeltas('r1')).length, 2);
      await assert.rejects(damaged.blobs.read(h('a2')), (e) => isStoreError(e) && e.code === 'invalid_entry' && /damaged/.test(e.message));
    });

    it('appends at the real end of the log when another process appended meanwhile', async () => {
      await store.createRun('r1', await store.writeSnapshot(baseManifest()));
      const other = new CheckpointStore(ws);
      await store.append('r1', 1, [upsert('a', 'one')], inline('one'));
      await other.append('r1', 2, [upsert('b', 'two')], inline('two'));
      await store.append('r1', 3, [upsert('c', 'three')], inline('three'));
      assert.equal(await read(store, 'three'), 'three', 'its own offsets are right');
      const fresh = new CheckpointStore(ws);
      assert.deepEqual((await fresh.readDeltas('r1')).map((d) => d.seq), [1, 2, 3]);
      for (const t of ['one', 'two', 'three']) assert.equal(await read(fresh, t), t);
    });

    it('a content held by two runs stays readable when one run\'s log is rewritten; a long log takes no more inline blobs', async () => {
      const hash = await store.writeSnapshot(baseManifest());
      await store.createRun('r1', hash);
      await store.createRun('r2', hash);
      await store.append('r1', 1, [upsert('a', 'kept')], inline('kept'));
      await store.append('r1', 2, [upsert('b', 'shared')], inline('shared'));
      await store.append('r2', 1, [upsert('b', 'shared')], inline('shared'));
      await store.truncateAfter('r1', 1);
      assert.equal(store.blobs.has(h('shared')), false, 'not kept by r1: not moved to objects/');
      assert.equal(await read(store, 'shared'), 'shared', 'still in r2\'s log');

      const capped = new CheckpointStore(ws, undefined, { maxInlineLogBytes: 1 });
      await capped.append('r2', 2, [upsert('c', 'late')], inline('late'));
      assert.equal(capped.blobs.has(h('late')), true, 'stored in objects/ before the delta line');
      assert.ok(!readFileSync(capped.paths.runCheckpoints('r2'), 'utf8').includes(h('late') + '","data"'));
      assert.equal(await read(new CheckpointStore(ws), 'late'), 'late');
    });

    it('a fork or a truncation stores the kept deltas\' inline blobs in objects/ and writes a log without them', async () => {
      await store.createRun('r1', await store.writeSnapshot(baseManifest()));
      await store.append('r1', 1, [upsert('src/a.ts', 'a2')], inline('a2'));
      await store.append('r1', 2, [upsert('src/b.ts', 'b1')], inline('b1'));
      await store.forkCheckpoints('r1', 1, 'fork');
      assert.equal(store.blobs.has(h('a2')), true, 'kept: now in objects/');
      assert.equal(store.blobs.has(h('b1')), false, 'not kept: stays inline in r1 only');
      assert.ok(!readFileSync(store.paths.runCheckpoints('fork'), 'utf8').includes('"blob"'));
      const fresh = new CheckpointStore(ws);
      await fresh.stateAt('fork');
      assert.equal(await read(fresh, 'a2'), 'a2');

      assert.equal(await store.truncateAfter('r1', 1), 1);
      assert.ok(!readFileSync(store.paths.runCheckpoints('r1'), 'utf8').includes('"blob"'));
      assert.equal(await read(store, 'a2'), 'a2', 'found in objects/, not at a stale offset');
      await store.append('r1', 2, [upsert('src/c.ts', 'c1')], inline('c1'));
      const again = new CheckpointStore(ws);
      assert.deepEqual((await again.readDeltas('r1')).map((d) => d.seq), [1, 2]);
      assert.equal(await read(again, 'c1'), 'c1');
    });
  });

  it('knows which runs exist', async () => {
    assert.equal(await store.hasRun('r1'), false);
    await store.createRun('r1', await store.writeSnapshot(new Map()));
    assert.equal(await store.hasRun('r1'), true);
    assert.deepEqual((await store.stateAt('r1')).manifest, new Map());
  });
});
