import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isStoreError } from '../../src/core/store/errors.ts';
import { BlobStore } from '../../src/sandbox/store/blobs.ts';
import { sha256 } from '../../src/sandbox/store/manifest.ts';
import { tempDir } from '../support/workspace-fixture.ts';

describe('BlobStore', () => {
  let dir: string;
  let blobs: BlobStore;
  beforeEach(() => {
    dir = tempDir('crewbox-blobs-');
    blobs = new BlobStore(path.join(dir, 'objects'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const allFiles = (): string[] => readdirSync(path.join(dir, 'objects'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);

  it('stores content under its sha256, once', async () => {
    const data = Buffer.from('hello world\n');
    const first = await blobs.put(data);
    assert.deepEqual(first, { hash: sha256(data), size: data.length, written: true });
    assert.equal(blobs.pathOf(first.hash), path.join(dir, 'objects', first.hash.slice(0, 2), first.hash.slice(2)));
    const again = await new BlobStore(path.join(dir, 'objects')).put(Buffer.from('hello world\n'));
    assert.equal(again.written, false);
    assert.deepEqual(await blobs.read(first.hash), data);
    assert.equal(allFiles().length, 1, 'no temp files left behind');
  });

  it('streams a file in with the same address as a buffered put', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'x');
    big.write('start', 0);
    const source = path.join(dir, 'big.bin');
    writeFileSync(source, big);
    const streamed = await blobs.putFile(source, 'deferred');
    assert.equal(streamed.hash, sha256(big));
    assert.equal(streamed.size, big.length);
    await blobs.flush();
    assert.equal(statSync(blobs.pathOf(streamed.hash)).size, big.length);
    assert.equal((await blobs.put(big)).written, false);
    assert.equal(allFiles().length, 1);
  });

  it('makes deferred writes readable at once and durable on flush', async () => {
    const hashes = [];
    for (let i = 0; i < 50; i++) hashes.push((await blobs.put(Buffer.from(`blob ${i}`), 'deferred')).hash);
    await blobs.flush();
    for (const [i, hash] of hashes.entries()) assert.equal((await blobs.read(hash)).toString(), `blob ${i}`);
    await blobs.flush(); // nothing pending: a no-op
  });

  it('reports a missing blob as not_found', async () => {
    await assert.rejects(blobs.read(sha256('absent')), (e) => isStoreError(e) && e.code === 'not_found');
    assert.equal(await blobs.has(sha256('absent')), false);
    assert.throws(() => blobs.pathOf('../../etc/passwd'));
  });

  describe('batches', () => {
    const packFiles = (): string[] => {
      try {
        return readdirSync(path.join(dir, 'objects', 'pack')).sort();
      } catch {
        return [];
      }
    };

    it('packs a large batch into one file, readable by any store once committed', async () => {
      await blobs.put(Buffer.from('already loose'));
      const batch = blobs.batch();
      const contents = Array.from({ length: 200 }, (_, i) => Buffer.from(`packed blob ${i}\n`.repeat(i % 7)));
      for (const c of [...contents, Buffer.from('already loose'), contents[3] as Buffer]) batch.add(sha256(c), c);
      const other = new BlobStore(path.join(dir, 'objects'));
      assert.equal(other.has(sha256(contents[5] as Buffer)), false, 'invisible before commit');
      await batch.commit();

      assert.equal(packFiles().filter((f) => f.endsWith('.pack')).length, 1);
      assert.equal(packFiles().filter((f) => f.endsWith('.idx')).length, 1);
      const reader = new BlobStore(path.join(dir, 'objects'));
      for (const c of contents) {
        const hash = sha256(c);
        assert.deepEqual(await reader.read(hash), c);
        assert.deepEqual(reader.readSync(hash), c);
        const chunks: Buffer[] = [];
        for await (const chunk of reader.readStream(hash)) chunks.push(chunk as Buffer);
        assert.deepEqual(Buffer.concat(chunks), c);
      }
      assert.deepEqual(await other.read(sha256(contents[5] as Buffer)), contents[5], 'a store created before the commit finds the new pack when reading');
      assert.equal((await reader.put(contents[9] as Buffer)).written, false, 'packed blobs are not written again');
    });

    it('writes a small batch as loose blobs', async () => {
      const batch = blobs.batch();
      for (let i = 0; i < 5; i++) batch.add(sha256(`small ${i}`), Buffer.from(`small ${i}`));
      await batch.commit();
      assert.deepEqual(packFiles(), []);
      assert.equal((await new BlobStore(path.join(dir, 'objects')).read(sha256('small 3'))).toString(), 'small 3');
    });

    it('ignores a pack whose index was never written (a crash mid-commit)', async () => {
      const batch = blobs.batch();
      for (let i = 0; i < 100; i++) batch.add(sha256(`b${i}`), Buffer.from(`b${i}`));
      batch.abort();
      writeFileSync(path.join(dir, 'objects', 'pack', 'orphan.pack'), 'bytes with no index');
      const reader = new BlobStore(path.join(dir, 'objects'));
      assert.equal(reader.has(sha256('b1')), false);
      await assert.rejects(reader.read(sha256('b1')), (e) => isStoreError(e) && e.code === 'not_found');
      assert.deepEqual(packFiles(), ['orphan.pack']);
    });
  });
});
