import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { compareManifests, proposedChange } from '../../src/sandbox/diff/proposed-change.ts';
import { BlobStore } from '../../src/sandbox/store/blobs.ts';
import { CheckpointStore } from '../../src/sandbox/store/checkpoints.ts';
import { changesBetween, sha256 } from '../../src/sandbox/store/manifest.ts';
import { sandboxStorePaths } from '../../src/sandbox/store/store-paths.ts';
import { asObject, git, initRepo, readTree, tempDir, writeTree, type FixtureFile } from '../support/workspace-fixture.ts';
import { manifestOf } from '../support/manifest-of.ts';


class CountingBlobStore extends BlobStore {
  readonly reads: string[] = [];
  override async read(hash: string): Promise<Buffer> {
    this.reads.push(hash);
    return super.read(hash);
  }
}

const lines = (n: number, tag = ''): string => Array.from({ length: n }, (_, i) => `line ${i + 1}${tag}`).join('\n') + '\n';

const BASE: Record<string, FixtureFile> = {
  'src/edit.ts': lines(20),
  'src/gone.ts': 'delete me\n',
  'docs/old-name.md': lines(8, ' doc'),
  'src/moved.ts': lines(12, ' moved'),
  'run.sh': '#!/bin/sh\necho hi\n',
  'private.txt': 'private\n',
  'link': { link: 'src/edit.ts' },
  'swap': 'a file that becomes a link\n',
};

const LATEST: Record<string, FixtureFile> = {
  'src/edit.ts': lines(20).replace('line 10\n', 'line ten\n'),
  'src/new.ts': 'export const fresh = true;\n',
  'docs/new-name.md': lines(8, ' doc'),
  'lib/moved.ts': lines(12, ' moved').replace('line 3 moved\n', 'line three moved\n'),
  'run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  'private.txt': { content: 'private\n', mode: 0o600 },
  'link': { link: 'src/new.ts' },
  'swap': { link: 'src/edit.ts' },
};

describe('proposed change', () => {
  let dir: string;
  let blobs: CountingBlobStore;
  beforeEach(() => {
    dir = tempDir('crewbox-diff-');
    blobs = new CountingBlobStore(sandboxStorePaths(dir).objects);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('describes every kind of change as structured data', async () => {
    const change = await compareManifests(await manifestOf(blobs, BASE), await manifestOf(blobs, LATEST), blobs);
    const summary = change.files.map((f) => [f.kind, f.oldPath ?? '', f.path, f.oldMode ?? '', f.newMode ?? '', f.additions, f.deletions]);
    assert.deepEqual(summary, [
      ['renamed', 'docs/old-name.md', 'docs/new-name.md', '100644', '100644', 0, 0],
      ['renamed', 'src/moved.ts', 'lib/moved.ts', '100644', '100644', 1, 1],
      ['modified', '', 'link', '120000', '120000', 1, 1],
      ['modified', '', 'run.sh', '100644', '100755', 0, 0],
      ['modified', '', 'src/edit.ts', '100644', '100644', 1, 1],
      ['deleted', '', 'src/gone.ts', '100644', '', 0, 1],
      ['added', '', 'src/new.ts', '', '100644', 1, 0],
      ['deleted', '', 'swap', '100644', '', 0, 1],
      ['added', '', 'swap', '', '120000', 1, 0],
    ]);
    const byPath = new Map(change.files.map((f) => [`${f.kind}:${f.path}`, f]));
    assert.equal(byPath.get('renamed:docs/new-name.md')?.similarity, 100);
    assert.ok((byPath.get('renamed:lib/moved.ts')?.similarity ?? 0) >= 50);
    assert.equal(byPath.get('modified:src/edit.ts')?.baseHash, sha256(BASE['src/edit.ts'] as string));
    assert.deepEqual(byPath.get('modified:src/edit.ts')?.hunks[0]?.lines.filter((l) => /^[+-]/.test(l)), ['-line 10', '+line ten']);
    assert.equal([change.additions, change.deletions].join('/'), '5/5');
  });

  it('renders a git-style unified diff that git apply accepts', async () => {
    const change = await compareManifests(await manifestOf(blobs, BASE), await manifestOf(blobs, LATEST), blobs);
    assert.match(change.unifiedDiff, /^diff --git a\/docs\/old-name\.md b\/docs\/new-name\.md\nsimilarity index 100%\nrename from docs\/old-name\.md\nrename to docs\/new-name\.md\n/m);
    assert.match(change.unifiedDiff, /^diff --git a\/run\.sh b\/run\.sh\nold mode 100644\nnew mode 100755\n/m);
    assert.match(change.unifiedDiff, /^new file mode 100644\n--- \/dev\/null\n\+\+\+ b\/src\/new\.ts\n/m);
    assert.match(change.unifiedDiff, /^deleted file mode 100644\n--- a\/src\/gone\.ts\n\+\+\+ \/dev\/null\n/m);
    assert.match(change.unifiedDiff, /^\+src\/new\.ts\n\\ No newline at end of file$/m);

    const repo = tempDir('crewbox-apply-');
    try {
      initRepo(repo);
      writeTree(repo, BASE);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-qm', 'base');
      execFileSync('git', ['apply', '--whitespace=nowarn', '-'], { cwd: repo, input: change.unifiedDiff });
      const expected = tempDir('crewbox-expected-');
      writeTree(expected, LATEST);
      // git tracks the executable bit only: 0600 stays as the file had it.
      assert.deepEqual(asObject(readTree(repo)), asObject(readTree(expected)));
      rmSync(expected, { recursive: true, force: true });
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('marks binary files, with no hunks and a "Binary files differ" line', async () => {
    const base = await manifestOf(blobs, { 'img.png': Buffer.from([0x89, 0x50, 0x00, 0x01]), 'data.bin': Buffer.from([0, 1, 2]) });
    const latest = await manifestOf(blobs, { 'img.png': Buffer.from([0x89, 0x50, 0x00, 0x02]), 'text.txt': 'now text\n' });
    const change = await compareManifests(base, latest, blobs);
    assert.deepEqual(change.files.map((f) => [f.kind, f.path, f.binary, f.hunks.length]), [
      ['deleted', 'data.bin', true, 0],
      ['modified', 'img.png', true, 0],
      ['added', 'text.txt', false, 1],
    ]);
    assert.match(change.unifiedDiff, /^Binary files a\/img\.png and b\/img\.png differ$/m);
    assert.match(change.unifiedDiff, /^Binary files a\/data\.bin and \/dev\/null differ$/m);
  });

  it('reads only the contents of changed files, however large the workspace', async () => {
    const files: Record<string, FixtureFile> = {};
    for (let i = 0; i < 500; i++) files[`pkg/${i % 10}/file-${i}.ts`] = `export const v${i} = ${i};\n`;
    const base = await manifestOf(blobs, files);
    const latest = await manifestOf(blobs, { ...files, 'pkg/3/file-3.ts': 'export const v3 = 33;\n', 'added.ts': 'new\n' });
    blobs.reads.length = 0;
    const change = await compareManifests(base, latest, blobs);
    assert.equal(change.files.length, 2);
    assert.deepEqual(blobs.reads.sort(), [sha256('export const v3 = 3;\n'), sha256('export const v3 = 33;\n'), sha256('new\n')].sort());
  });

  it('computes a run\'s change from its records, at its latest state or at a step', async () => {
    const store = new CheckpointStore(dir);
    const base = await manifestOf(blobs, BASE);
    await store.createRun('r1', await store.writeSnapshot(base));
    const step1 = await manifestOf(blobs, { ...BASE, 'src/new.ts': 'one\n' });
    await store.append('r1', 1, changesBetween(base, step1));
    await store.append('r1', 2, changesBetween(step1, await manifestOf(blobs, LATEST)));

    const atStep1 = await proposedChange(dir, 'r1', { step: 1 });
    assert.deepEqual(atStep1.files.map((f) => [f.kind, f.path]), [['added', 'src/new.ts']]);
    const latest = await proposedChange(dir, 'r1');
    assert.equal(latest.files.length, 9);
    const structureOnly = await proposedChange(dir, 'r1', { hunks: false });
    assert.equal(structureOnly.unifiedDiff, '');
    assert.deepEqual(structureOnly.files.map((f) => f.kind), latest.files.map((f) => f.kind));
  });

  it('proposes nothing when only non-executable permission bits changed', async () => {
    const change = await compareManifests(await manifestOf(blobs, { 'a.txt': 'a\n' }), await manifestOf(blobs, { 'a.txt': { content: 'a\n', mode: 0o600 } }), blobs);
    assert.deepEqual(change.files, []);
    assert.equal(change.unifiedDiff, '');
  });
});
