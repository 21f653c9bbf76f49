import assert from 'node:assert/strict';
import { rmSync, unlinkSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { BlobStore } from '../../src/sandbox/store/blobs.ts';
import { sha256 } from '../../src/sandbox/store/manifest.ts';
import { sandboxStorePaths } from '../../src/sandbox/store/store-paths.ts';
import { snapshotHost, type SnapshotHostOptions } from '../../src/sandbox/sync/host-snapshot.ts';
import { git, initRepo, tempDir, writeTree } from '../support/workspace-fixture.ts';

describe('snapshotHost', () => {
  let ws: string;
  let blobs: BlobStore;
  let hashed: string[];
  /** Counts hashing, and dates the index a minute ahead so freshly written files are not "racily clean". */
  let opts: SnapshotHostOptions;

  beforeEach(() => {
    ws = tempDir('crewbox-snap-');
    blobs = new BlobStore(sandboxStorePaths(ws).objects);
    hashed = [];
    opts = {
      hash: (data) => {
        hashed.push(data.toString('utf8'));
        return sha256(data);
      },
      now: () => Date.now() + 60_000,
    };
    initRepo(ws);
    writeTree(ws, {
      '.gitignore': 'node_modules/\n',
      'src/a.ts': 'a\n',
      'src/b.ts': 'b\n',
      'src/same.ts': 'a\n',
      'node_modules/dep/index.js': 'dep\n',
      'run.sh': { content: '#!/bin/sh\n', mode: 0o755 },
      'link': { link: 'src/a.ts' },
    });
    git(ws, 'add', '-A');
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('hashes every file the first time into a manifest with blobs', async () => {
    const snap = await snapshotHost(ws, blobs, opts);
    assert.deepEqual([...snap.manifest.keys()].sort(), ['.gitignore', 'link', 'run.sh', 'src/a.ts', 'src/b.ts', 'src/same.ts']);
    assert.deepEqual(snap.manifest.get('run.sh'), { kind: 'file', hash: sha256('#!/bin/sh\n'), mode: 0o755, size: 10 });
    assert.deepEqual(snap.manifest.get('link'), { kind: 'symlink', linkTarget: 'src/a.ts', mode: 0o777 });
    assert.equal(snap.stats.hashed, 5);
    assert.equal((await blobs.read(sha256('a\n'))).toString(), 'a\n');
  });

  it('re-hashes only what changed on the host since the last snapshot', async () => {
    await snapshotHost(ws, blobs, opts);
    hashed = [];
    const again = await snapshotHost(ws, blobs, opts);
    assert.deepEqual(hashed, []);
    assert.equal(again.stats.reused, 5);

    writeTree(ws, { 'src/b.ts': 'b changed\n', 'src/new.ts': 'new\n' });
    unlinkSync(path.join(ws, 'src/a.ts'));
    const later = await snapshotHost(ws, blobs, opts);
    assert.deepEqual(hashed.sort(), ['b changed\n', 'new\n']);
    assert.equal(later.manifest.has('src/a.ts'), false);
    assert.deepEqual(later.manifest.get('src/b.ts'), { kind: 'file', hash: sha256('b changed\n'), mode: 0o644, size: 10 });
  });

  it('re-hashes a file whose mtime changed even if its size did not', async () => {
    await snapshotHost(ws, blobs, opts);
    hashed = [];
    writeTree(ws, { 'src/b.ts': 'B\n' });
    utimesSync(path.join(ws, 'src/b.ts'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const snap = await snapshotHost(ws, blobs, opts);
    assert.deepEqual(hashed, ['B\n']);
    assert.equal((snap.manifest.get('src/b.ts') as { hash: string }).hash, sha256('B\n'));
  });

  it('does not trust a file modified right around the previous snapshot (racy clean)', async () => {
    await snapshotHost(ws, blobs, { ...opts, now: () => Date.now() });
    hashed = [];
    await snapshotHost(ws, blobs, opts);
    assert.equal(hashed.length, 5, 'files written within the racy window are hashed again');
  });

  it('re-hashes when a cached blob has gone from the store', async () => {
    await snapshotHost(ws, blobs, opts);
    rmSync(sandboxStorePaths(ws).objects, { recursive: true });
    hashed = [];
    const fresh = new BlobStore(sandboxStorePaths(ws).objects);
    await snapshotHost(ws, fresh, opts);
    assert.equal(hashed.length, 5);
    assert.equal((await fresh.read(sha256('b\n'))).toString(), 'b\n');
  });

  it('survives a damaged index by hashing again', async () => {
    await snapshotHost(ws, blobs, opts);
    writeTree(ws, { '.crewbox/host-index.json': '{not json' });
    hashed = [];
    await snapshotHost(ws, blobs, opts);
    assert.equal(hashed.length, 5);
  });
});
