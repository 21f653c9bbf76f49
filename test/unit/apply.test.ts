import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { applyChange } from '../../src/sandbox/diff/apply.ts';
import { BlobStore } from '../../src/sandbox/store/blobs.ts';
import { CheckpointStore } from '../../src/sandbox/store/checkpoints.ts';
import { changesBetween, sha256, type Manifest } from '../../src/sandbox/store/manifest.ts';
import { snapshotHost } from '../../src/sandbox/sync/host-snapshot.ts';
import { asObject, git, initRepo, readTree, tempDir, writeTree, type FixtureFile } from '../support/workspace-fixture.ts';

const HOST: Record<string, FixtureFile> = {
  '.gitignore': 'node_modules/\n',
  'src/edit.ts': 'export const v = 1;\n',
  'src/keep.ts': 'untouched\n',
  'src/old/name.ts': 'renamed content\n',
  'src/gone/only.ts': 'to delete\n',
  'run.sh': '#!/bin/sh\necho hi\n',
  'link': { link: 'src/edit.ts' },
  'node_modules/dep/index.js': 'dependency\n',
};

/** What the run proposes, relative to HOST: content, or null to delete. */
const PROPOSAL: Record<string, FixtureFile | null> = {
  'src/edit.ts': 'export const v = 2;\n',
  'src/new.ts': 'export const fresh = true;\n',
  'src/old/name.ts': null,
  'src/new/name.ts': 'renamed content\n',
  'src/gone/only.ts': null,
  'run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  'link': { link: 'src/new.ts' },
};

describe('applyChange', () => {
  let ws: string;
  let store: CheckpointStore;
  let blobs: BlobStore;

  /** Starts run r1 from the host as it is, and records `proposal` as its step 1. */
  async function propose(proposal: Record<string, FixtureFile | null>): Promise<void> {
    const base = (await snapshotHost(ws, blobs)).manifest;
    await store.createRun('r1', await store.writeSnapshot(base));
    const latest: Manifest = new Map(base);
    for (const [p, spec] of Object.entries(proposal)) {
      if (spec === null) latest.delete(p);
      else if (typeof spec === 'object' && !Buffer.isBuffer(spec) && 'link' in spec) latest.set(p, { kind: 'symlink', linkTarget: spec.link, mode: 0o777 });
      else {
        const content = Buffer.from(typeof spec === 'string' || Buffer.isBuffer(spec) ? spec : spec.content);
        const mode = typeof spec === 'object' && !Buffer.isBuffer(spec) ? (spec.mode ?? 0o644) : 0o644;
        await blobs.put(content);
        latest.set(p, { kind: 'file', hash: sha256(content), mode, size: content.length });
      }
    }
    await store.append('r1', 1, changesBetween(base, latest));
  }

  /** HOST with PROPOSAL applied, as a tree. */
  function expectedTree(proposal: Record<string, FixtureFile | null>): Record<string, string> {
    const dir = tempDir('crewbox-expected-');
    try {
      writeTree(dir, HOST);
      for (const [p, spec] of Object.entries(proposal)) {
        if (spec === null) rmSync(path.join(dir, p));
        else writeTree(dir, { [p]: spec });
      }
      return asObject(readTree(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  beforeEach(() => {
    ws = tempDir('crewbox-apply-');
    initRepo(ws);
    writeTree(ws, HOST);
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'init');
    store = new CheckpointStore(ws);
    blobs = new BlobStore(store.paths.objects);
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('applies additions, edits, deletions, renames, mode and link changes, and nothing else', async () => {
    await propose(PROPOSAL);
    const result = await applyChange(ws, 'r1');
    assert.deepEqual(result.conflicts, []);
    assert.deepEqual(result.applied.map((a) => `${a.kind}:${a.oldPath ? `${a.oldPath}->` : ''}${a.path}`).sort(), [
      'added:src/new.ts',
      'deleted:src/gone/only.ts',
      'modified:link',
      'modified:run.sh',
      'modified:src/edit.ts',
      'renamed:src/old/name.ts->src/new/name.ts',
    ]);
    assert.deepEqual(asObject(readTree(ws)), expectedTree(PROPOSAL));
    assert.equal(existsSync(path.join(ws, 'src/gone')), false, 'emptied directories are pruned');
    assert.equal(existsSync(path.join(ws, 'node_modules/dep/index.js')), true);
    assert.deepEqual(readdirTemp(ws), [], 'no temp files left');
  });

  it('refuses, per file, files changed on the host since the run started, and applies the rest', async () => {
    await propose(PROPOSAL);
    writeTree(ws, { 'src/edit.ts': 'export const v = 100; // host edit\n', 'src/new.ts': 'host made this\n' });
    rmSync(path.join(ws, 'src/old/name.ts'));
    const result = await applyChange(ws, 'r1');
    assert.deepEqual(result.conflicts.map((c) => c.path).sort(), ['src/edit.ts', 'src/new.ts', 'src/new/name.ts']);
    const reason = (p: string): string => result.conflicts.find((c) => c.path === p)?.reason ?? '';
    assert.match(reason('src/edit.ts'), /content changed on the host/);
    assert.match(reason('src/new.ts'), /created on the host/);
    assert.match(reason('src/new/name.ts'), /deleted on the host/, 'the rename source is gone');
    const tree = readTree(ws);
    assert.equal(tree.get('src/edit.ts'), `file:-:${Buffer.from('export const v = 100; // host edit\n').toString('base64')}`);
    assert.equal(tree.get('src/new.ts'), `file:-:${Buffer.from('host made this\n').toString('base64')}`);
    assert.equal(tree.has('src/new/name.ts'), false);
    assert.deepEqual(result.applied.map((a) => a.path).sort(), ['link', 'run.sh', 'src/gone/only.ts']);
  });

  it('overwrites host changes when forced', async () => {
    await propose(PROPOSAL);
    writeTree(ws, { 'src/edit.ts': 'host edit\n' });
    const result = await applyChange(ws, 'r1', { force: true });
    assert.deepEqual(result.conflicts, []);
    assert.deepEqual(asObject(readTree(ws)), expectedTree(PROPOSAL));
  });

  it('applies only the selected paths (a rename matches either side) and says which filters matched nothing', async () => {
    await propose(PROPOSAL);
    const result = await applyChange(ws, 'r1', { paths: ['src/old', './run.sh', 'nowhere/'] });
    assert.deepEqual(result.applied.map((a) => a.path).sort(), ['run.sh', 'src/new/name.ts']);
    assert.ok(result.skipped.some((s) => s.path === 'src/edit.ts' && s.reason === 'not selected'));
    assert.ok(result.skipped.some((s) => s.path === 'nowhere' && /no proposed change/.test(s.reason)));
    const tree = readTree(ws);
    assert.equal(tree.get('src/edit.ts'), `file:-:${Buffer.from('export const v = 1;\n').toString('base64')}`);
    assert.equal(tree.has('src/old/name.ts'), false);
  });

  it('skips what is already applied, so applying twice is harmless', async () => {
    await propose(PROPOSAL);
    await applyChange(ws, 'r1');
    const again = await applyChange(ws, 'r1');
    assert.deepEqual(again.applied, []);
    assert.deepEqual(again.conflicts, []);
    assert.equal(again.skipped.length, 6);
    assert.deepEqual(asObject(readTree(ws)), expectedTree(PROPOSAL));
  });

  it('turns a file into a directory and back', async () => {
    writeTree(ws, { 'd': 'a file\n', 'e/inner.txt': 'in a dir\n' });
    await propose({ 'd': null, 'd/child.txt': 'now a dir\n', 'e/inner.txt': null, 'e': 'now a file\n' });
    const result = await applyChange(ws, 'r1');
    assert.deepEqual(result.conflicts, []);
    const tree = readTree(ws);
    assert.equal(tree.get('d/child.txt'), `file:-:${Buffer.from('now a dir\n').toString('base64')}`);
    assert.equal(tree.get('e'), `file:-:${Buffer.from('now a file\n').toString('base64')}`);
  });

  it('never writes into .git or through a parent that is a symlink on the host', async () => {
    const elsewhere = tempDir('crewbox-elsewhere-');
    try {
      await propose({ '.git/hooks/pre-commit': { content: '#!/bin/sh\nevil\n', mode: 0o755 }, 'out/x.txt': 'escaped?\n', 'safe.txt': 'fine\n' });
      symlinkSync(elsewhere, path.join(ws, 'out'));
      const result = await applyChange(ws, 'r1', { force: true });
      assert.deepEqual(result.conflicts.map((c) => c.path).sort(), ['.git/hooks/pre-commit', 'out/x.txt']);
      assert.match(result.conflicts.find((c) => c.path === 'out/x.txt')?.reason ?? '', /symbolic link/);
      assert.equal(existsSync(path.join(ws, '.git/hooks/pre-commit')), false);
      assert.equal(existsSync(path.join(elsewhere, 'x.txt')), false);
      assert.deepEqual(result.applied.map((a) => a.path), ['safe.txt']);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

function readdirTemp(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[]).filter((p) => p.endsWith('.tmp') && !p.startsWith('.git/') && !p.startsWith('.crewbox/'));
}
