import assert from 'node:assert/strict';
import { chmodSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyHunks } from '../../src/extension/review/hunks.ts';
import { planTextApply, planUseRunVersion, reviewFile, type ProposedFileWithText, type ReviewFile } from '../../src/extension/review/model.ts';
import { loadRunChanges, readHostEntry } from '../../src/extension/review/run-changes.ts';
import { setExecutable } from '../../src/extension/review/exec-bit.ts';
import { BlobStore } from '../../src/sandbox/store/blobs.ts';
import { CheckpointStore } from '../../src/sandbox/store/checkpoints.ts';
import { changesBetween, sha256 } from '../../src/sandbox/store/manifest.ts';
import { tempDir, writeTree, type FixtureFile } from '../support/workspace-fixture.ts';
import { manifestOf } from '../support/manifest-of.ts';

const lines = (n: number, tag = ''): string => Array.from({ length: n }, (_, i) => `line ${i + 1}${tag}`).join('\n') + '\n';


/** A workspace holding `base` on disk and a run (id `run-1`) whose latest files are `latest`. */
async function workspaceWithRun(base: Record<string, FixtureFile>, latest: Record<string, FixtureFile>): Promise<string> {
  const ws = tempDir('crewbox-review-');
  writeTree(ws, base);
  const store = new CheckpointStore(ws);
  const blobs = new BlobStore(store.paths.objects);
  const baseManifest = await manifestOf(blobs, base);
  const latestManifest = await manifestOf(blobs, latest);
  await store.createRun('run-1', await store.writeSnapshot(baseManifest));
  await store.append('run-1', 1, changesBetween(baseManifest, latestManifest));
  return ws;
}

/** Every proposed file of the run, reviewed against the workspace as it is now. */
async function review(ws: string): Promise<Map<string, ReviewFile>> {
  const { files } = await loadRunChanges(ws, 'run-1');
  const out = new Map<string, ReviewFile>();
  for (const f of files) out.set(f.path, reviewFile(f, await readHostEntry(ws, f.path), f.oldPath && f.kind === 'renamed' ? await readHostEntry(ws, f.oldPath) : undefined));
  return out;
}

const BASE: Record<string, FixtureFile> = {
  'src/edit.ts': lines(30),
  'src/gone.ts': 'delete me\n',
  'docs/old-name.md': lines(8, ' doc'),
  'src/moved.ts': lines(12, ' moved'),
  'run.sh': '#!/bin/sh\necho hi\n',
  'logo.bin': Buffer.from([0, 1, 2, 3]),
};

const LATEST: Record<string, FixtureFile> = {
  'src/edit.ts': lines(30).replace('line 5\n', 'line five\n').replace('line 25\n', 'line twenty-five\n'),
  'src/new.ts': 'export const fresh = true;\n',
  'docs/new-name.md': lines(8, ' doc'),
  'lib/moved.ts': lines(12, ' moved').replace('line 3 moved\n', 'line three moved\n'),
  'run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  'logo.bin': Buffer.from([0, 1, 2, 4]),
};

describe('review model', () => {
  let ws: string;
  beforeEach(async () => {
    ws = await workspaceWithRun(BASE, LATEST);
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('lists added, modified, deleted and renamed files, binary and mode-only changes', async () => {
    const files = await review(ws);
    const summary = [...files.values()].map((f) => `${f.kind} ${f.oldPath ? `${f.oldPath} → ` : ''}${f.path} via ${f.via} ${f.state}`);
    assert.deepEqual(summary.sort(), [
      'added src/new.ts via text pending',
      'deleted src/gone.ts via text pending',
      'modified logo.bin via fs pending',
      'modified run.sh via fs pending',
      'modified src/edit.ts via text pending',
      'renamed docs/old-name.md → docs/new-name.md via text pending',
      'renamed src/moved.ts → lib/moved.ts via text pending',
    ]);
    assert.equal(files.get('logo.bin')!.binary, true);
    assert.deepEqual(files.get('run.sh')!.modeChange, { from: false, to: true });
    assert.equal(files.get('src/edit.ts')!.hunks.length, 2);
    assert.equal(files.get('src/edit.ts')!.merged, false);
  });

  it('plans an exact whole-file apply when the host equals the base', async () => {
    const edit = (await review(ws)).get('src/edit.ts')!;
    const plan = planTextApply(edit);
    assert.equal(plan.op, 'write');
    assert.equal(plan.op === 'write' && plan.text, LATEST['src/edit.ts']);
  });

  it('applies one hunk of a two-hunk change; the file stays pending with one hunk applied', async () => {
    const edit = (await review(ws)).get('src/edit.ts')!;
    const plan = planTextApply(edit, [0]);
    assert.ok(plan.op === 'write');
    writeFileSync(path.join(ws, 'src/edit.ts'), plan.text);
    const after = (await review(ws)).get('src/edit.ts')!;
    assert.equal(after.state, 'pending');
    assert.deepEqual(after.hunks.map((h) => h.state), ['applied', 'pending']);
    assert.equal(after.merged, false, 'a partly applied file holds no edit of the user');
    const rest = planTextApply(after);
    assert.ok(rest.op === 'write');
    writeFileSync(path.join(ws, 'src/edit.ts'), rest.text);
    assert.equal((await review(ws)).get('src/edit.ts')!.state, 'applied');
  });

  it('merges the run\'s hunks into a file the user edited elsewhere, keeping the user\'s edit', async () => {
    const mine = (BASE['src/edit.ts'] as string).replace('line 15\n', 'line 15, mine\n');
    writeFileSync(path.join(ws, 'src/edit.ts'), mine);
    const edit = (await review(ws)).get('src/edit.ts')!;
    assert.equal(edit.state, 'pending');
    assert.equal(edit.merged, true);
    const plan = planTextApply(edit);
    assert.ok(plan.op === 'write');
    assert.equal(plan.text, (LATEST['src/edit.ts'] as string).replace('line 15\n', 'line 15, mine\n'));
  });

  it('reports a conflict where the user changed a region the run changed, and never plans over it', async () => {
    writeFileSync(path.join(ws, 'src/edit.ts'), (BASE['src/edit.ts'] as string).replace('line 24\n', 'line 24, mine\n'));
    const edit = (await review(ws)).get('src/edit.ts')!;
    assert.equal(edit.state, 'conflict');
    assert.deepEqual(edit.hunks.map((h) => h.state), ['pending', 'conflict']);
    assert.match(edit.reason ?? '', /src\/edit\.ts changed on the host/);
    assert.equal(planTextApply(edit).op, 'conflict');
    // The pending hunk alone can still be applied; the conflicting one never is.
    assert.throws(() => applyHunks(edit.hostText!, edit.hunks, [1]));
    assert.equal(planTextApply(edit, [1]).op, 'conflict');
    const first = planTextApply(edit, [0]);
    assert.ok(first.op === 'write');
    assert.ok(first.text.includes('line five\nline 6\n') && first.text.includes('line 24, mine\nline 25\n'));
    const use = planUseRunVersion(edit);
    assert.ok(use.op === 'write' && use.text === LATEST['src/edit.ts']);
  });

  it('states additions, deletions and renames against the host', async () => {
    writeFileSync(path.join(ws, 'src/new.ts'), 'something of mine\n');
    writeFileSync(path.join(ws, 'src/gone.ts'), 'changed by me\n');
    let files = await review(ws);
    assert.equal(files.get('src/new.ts')!.state, 'conflict');
    assert.equal(files.get('src/gone.ts')!.state, 'conflict');

    writeFileSync(path.join(ws, 'src/new.ts'), LATEST['src/new.ts'] as string);
    rmSync(path.join(ws, 'src/gone.ts'));
    files = await review(ws);
    assert.equal(files.get('src/new.ts')!.state, 'applied');
    assert.equal(files.get('src/gone.ts')!.state, 'applied');

    const moved = files.get('lib/moved.ts')!;
    assert.equal(moved.atOldPath, true);
    const plan = planTextApply(moved);
    assert.ok(plan.op === 'write');
    assert.equal(plan.renameFrom, 'src/moved.ts');
    assert.equal(plan.text, LATEST['lib/moved.ts']);
  });

  it('reports a conflict for a modified file the user deleted, and for a rename whose both paths exist', async () => {
    rmSync(path.join(ws, 'src/edit.ts'));
    writeTree(ws, { 'lib/moved.ts': 'mine\n' });
    const files = await review(ws);
    assert.equal(files.get('src/edit.ts')!.state, 'conflict');
    assert.match(files.get('src/edit.ts')!.reason ?? '', /deleted on the host/);
    const moved = files.get('lib/moved.ts')!;
    assert.equal(moved.state, 'conflict');
    assert.equal(planTextApply(moved).op, 'conflict');
    const use = planUseRunVersion(moved);
    assert.ok(use.op === 'write' && use.renameFrom === undefined && use.path === 'lib/moved.ts', 'the user\'s file at the old path is left alone');
  });

  it('"Use Run\'s Version" over a different file the user created keeps the added file executable, as a plain apply does', () => {
    const change: ProposedFileWithText = {
      path: 'bin/tool.sh',
      kind: 'added',
      binary: false,
      newMode: '100755',
      hunks: [{ oldStart: 0, oldLines: 0, newStart: 1, newLines: 2, lines: ['+#!/bin/sh', '+echo tool'] }],
      unifiedDiff: '',
      additions: 2,
      deletions: 0,
      proposedText: '#!/bin/sh\necho tool\n',
    };
    const pending = planTextApply(reviewFile(change, { kind: 'missing' }));
    assert.ok(pending.op === 'write' && pending.executable === true);
    const file = reviewFile(change, { kind: 'file', hash: sha256('mine\n'), executable: false, text: 'mine\n' });
    assert.equal(file.state, 'conflict');
    const use = planUseRunVersion(file);
    assert.ok(use.op === 'write' && use.text === change.proposedText);
    assert.equal(use.executable, true);
  });

  it('judges binary and mode-only changes by content hash and executable bit', async () => {
    let files = await review(ws);
    assert.equal(files.get('run.sh')!.state, 'pending');
    await setExecutable(ws, 'run.sh', true);
    assert.ok((statSync(path.join(ws, 'run.sh')).mode & 0o111) !== 0);
    writeFileSync(path.join(ws, 'logo.bin'), Buffer.from([9, 9]));
    files = await review(ws);
    assert.equal(files.get('run.sh')!.state, 'applied');
    assert.equal(files.get('logo.bin')!.state, 'conflict');
    chmodSync(path.join(ws, 'run.sh'), 0o644);
  });

  it('joins a file that became a symlink into one fs-level change', async () => {
    rmSync(ws, { recursive: true, force: true });
    ws = await workspaceWithRun({ swap: 'a file\n', 'target.txt': 'x\n' }, { swap: { link: 'target.txt' }, 'target.txt': 'x\n' });
    const { files } = await loadRunChanges(ws, 'run-1');
    assert.equal(files.length, 1);
    const f: ProposedFileWithText = files[0]!;
    assert.equal(f.typeChanged, true);
    const r = reviewFile(f, await readHostEntry(ws, 'swap'));
    assert.equal(r.via, 'fs');
    assert.equal(r.state, 'pending');
  });
});
