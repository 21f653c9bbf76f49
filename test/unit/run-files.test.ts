import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { sha256 } from '../../src/sandbox/store/manifest.ts';
import type { ContainerFiles } from '../../src/sandbox/container-files.ts';
import { createRunFiles, type RunFiles } from '../../src/sandbox/run-files.ts';
import type { BlobStore } from '../../src/sandbox/store/blobs.ts';
import type { Manifest } from '../../src/sandbox/store/manifest.ts';
import { LocalContainerFiles, type LocalContainerFilesOptions } from '../support/local-container-files.ts';
import { asObject, git, initRepo, readTree, tempDir, writeTree } from '../support/workspace-fixture.ts';

const signal = new AbortController().signal;

/** The manifest as a tree in readTree's format, contents from the blob store. */
async function manifestTree(manifest: Manifest, blobs: BlobStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [p, e] of [...manifest].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.set(p, e.kind === 'symlink' ? `link:${e.linkTarget}` : `file:${(e.mode & 0o111) !== 0 ? 'x' : '-'}:${(await blobs.read(e.hash)).toString('base64')}`);
  }
  return out;
}

/** The container's files minus what the rules ignore in these tests. */
function visible(tree: Map<string, string>): Record<string, string> {
  return asObject(new Map([...tree].filter(([p]) => !p.startsWith('node_modules/') && !p.startsWith('gen/'))));
}

describe('run files (RunFilesPort over ContainerFiles)', () => {
  let ws: string;
  const containers: LocalContainerFiles[] = [];
  const container = (opts: LocalContainerFilesOptions = {}): LocalContainerFiles => {
    const c = new LocalContainerFiles(opts);
    containers.push(c);
    return c;
  };
  const runFiles = (c: ContainerFiles): RunFiles => createRunFiles({ workspace: ws, containerFiles: c });

  beforeEach(() => {
    ws = tempDir('crewbox-runfiles-');
    initRepo(ws);
    writeTree(ws, {
      '.gitignore': 'node_modules/\ngen/\n',
      'src/a.ts': 'export const a = 1;\n',
      'src/b.ts': 'export const b = 2;\n',
      'src/sub/c.ts': 'export const c = 3;\n',
      'README.md': '# project\n',
      'run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
      'link': { link: 'src/a.ts' },
      'node_modules/dep/index.js': 'module.exports = 1;\n',
    });
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'init');
    writeTree(ws, { 'notes.txt': 'untracked\n' });
  });
  afterEach(() => {
    for (const c of containers.splice(0)) c.dispose();
    rmSync(ws, { recursive: true, force: true });
  });

  it('copies tracked and untracked files in with one tar, without ignored files, .git or .crewbox', async () => {
    const c = container();
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    assert.deepEqual(asObject(c.tree()), asObject(readTree(ws, ['.git', '.crewbox', 'node_modules'])));
    assert.equal(c.calls.putTar, 1);
    assert.equal(rf.lastRestore?.mode, 'full');
    assert.deepEqual(await rf.checkpoint('r1', 1, signal), { filesChanged: 0, paths: [] }, 'the copy-in itself is not a change');
  });

  it('records shell-made changes: edits, creations, deletions, renames, modes, links, removed directories', async () => {
    const c = container({ tracking: 'scan' });
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    c.shell(
      [
        'echo "export const a = 10;" > src/a.ts',
        'mkdir -p lib/deep && echo "new" > lib/deep/n.ts',
        'rm -rf src/sub',
        'mv README.md README.txt',
        'chmod -x run.sh',
        'ln -sfn lib link',
        'mkdir -p node_modules/big && echo junk > node_modules/big/i.js',
        'mkdir -p gen && echo generated > gen/out.txt',
      ].join(' && '),
    );
    const listings = c.calls.listAll;
    const result = await rf.checkpoint('r1', 1, signal);
    assert.equal(c.calls.listAll, listings, 'new directories came with their entries: no listing needed');
    assert.deepEqual(result.paths.sort(), ['README.md', 'README.txt', 'link', 'lib/deep/n.ts', 'run.sh', 'src/a.ts', 'src/sub/c.ts'].sort());
    assert.equal(result.filesChanged, 7);
    const state = await rf.store.stateAt('r1', 1);
    assert.deepEqual(asObject(await manifestTree(state.manifest, rf.blobs)), visible(c.tree()));
  });

  it('reads only the paths the change list names', async () => {
    const c = container({ tracking: 'recorded' });
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    const before = { ...c.calls };
    c.write('src/a.ts', 'export const a = 5;\n');
    c.write('node_modules/dep/extra.js', 'ignored\n');
    assert.deepEqual(await rf.checkpoint('r1', 1, signal), { filesChanged: 1, paths: ['src/a.ts'] });
    assert.equal(c.calls.readWithDrain - before.readWithDrain, 1, 'a small change comes with the drain: one round trip');
    assert.equal(c.calls.readFiles, before.readFiles);
    assert.equal(c.calls.listAll, before.listAll);

    // Many changed paths: the drain names them only, and only the relevant one is read.
    const mid = { ...c.calls };
    c.write('src/a.ts', 'export const a = 6;\n');
    for (let i = 0; i < 100; i++) c.write(`node_modules/dep/f${i}.js`, 'ignored\n');
    assert.deepEqual(await rf.checkpoint('r1', 2, signal), { filesChanged: 1, paths: ['src/a.ts'] });
    assert.equal(c.calls.readWithDrain, mid.readWithDrain);
    assert.equal(c.calls.pathsRead - mid.pathsRead, 1);
    assert.equal(c.calls.listAll, before.listAll);
    const entry = (await rf.store.stateAt('r1')).manifest.get('src/a.ts');
    assert.equal(entry?.kind, 'file');
    if (entry?.kind === 'file') assert.equal((await rf.blobs.read(entry.hash)).toString(), 'export const a = 6;\n');
  });

  it('on overflow compares a listing and reads only the files whose stats changed', async () => {
    const c = container({ tracking: 'recorded' });
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    writeFileSync(c.abs('src/b.ts'), 'export const b = 20;\n');
    writeFileSync(c.abs('added.txt'), 'added\n');
    rmSync(c.abs('src/sub'), { recursive: true });
    c.overflowNext();
    const before = { ...c.calls };
    const result = await rf.checkpoint('r1', 1, signal);
    assert.deepEqual(result.paths.sort(), ['added.txt', 'src/b.ts', 'src/sub/c.ts']);
    assert.equal(c.calls.listAll - before.listAll, 1);
    assert.equal(c.calls.pathsRead - before.pathsRead, 2);
  });

  it('captures a directory moved in whole and files revealed by a .gitignore change', async () => {
    const c = container({ tracking: 'scan', newDirs: 'topmost' });
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    c.shell('mkdir -p gen && echo g > gen/out.txt');
    assert.equal((await rf.checkpoint('r1', 1, signal)).filesChanged, 0, 'gen/ is ignored');
    const staging = tempDir('crewbox-staging-');
    writeTree(staging, { 'pkg/one.ts': '1\n', 'pkg/inner/two.ts': '2\n' });
    c.shell(`mv ${staging}/pkg vendor-pkg && printf 'node_modules/\\n' > .gitignore`);
    rmSync(staging, { recursive: true, force: true });
    const result = await rf.checkpoint('r1', 2, signal);
    assert.deepEqual(result.paths.sort(), ['.gitignore', 'gen/out.txt', 'vendor-pkg/inner/two.ts', 'vendor-pkg/one.ts']);
  });

  it('rebuilds the files of any step exactly, in a fresh container or by rolling the same one back', async () => {
    const c = container({ tracking: 'scan' });
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    const expected = [visible(c.tree())];
    const commands = ['echo one >> src/a.ts && mkdir d && echo x > d/x', 'rm -rf d && echo d > d', 'rm d && mkdir -p d/e && printf "\\0bin" > d/e/b.bin && chmod +x d/e/b.bin', 'ln -s d/e elink && mv src/b.ts b.ts'];
    for (const [i, command] of commands.entries()) {
      c.shell(command);
      await rf.checkpoint('r1', i + 1, signal);
      expected.push(visible(c.tree()));
    }
    const shared = container();
    for (let step = 0; step <= commands.length; step++) {
      const fresh = container();
      await runFiles(fresh).open({ runId: `fresh-${step}`, step, network: false, forkOf: { runId: 'r1', step } }, signal);
      assert.deepEqual(asObject(fresh.tree()), expected[step], `fresh container at step ${step}`);
    }
    let previous: Record<string, string> = {};
    for (const step of [4, 1, 3, 0, 2]) {
      const rollback = runFiles(shared);
      await rollback.open({ runId: `back-${step}`, step, network: false, forkOf: { runId: 'r1', step } }, signal);
      const now = expected[step] as Record<string, string>;
      assert.deepEqual(visible(shared.tree()), now, `same container rolled to step ${step}`);
      const dirs = (await shared.listAll(signal)).filter((e) => e.kind === 'dir').map((e) => e.path).sort();
      const implied = [...new Set(Object.keys(now).flatMap((p) => p.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))].sort();
      assert.deepEqual(dirs, implied, `no directories left over from other steps at step ${step}`);
      const differing = Object.keys(now).filter((p) => now[p] !== previous[p]).length;
      assert.equal(rollback.lastRestore?.sent, differing, `only what differs from step ${step} is sent`);
      previous = now;
    }
  });

  it('resumes in a fresh container after the old one is gone, and goes on recording', async () => {
    const c = container({ tracking: 'scan' });
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    c.shell('echo changed > src/a.ts && rm src/b.ts && echo n > new.txt');
    await rf.checkpoint('r1', 3, signal);
    const before = visible(c.tree());
    c.dispose(); // docker rm -f

    const replacement = container({ tracking: 'scan' });
    replacement.overflowNext();
    const resumed = runFiles(replacement);
    await resumed.open({ runId: 'r1', step: 3, network: false }, signal);
    assert.deepEqual(asObject(replacement.tree()), before);
    replacement.shell('echo more >> new.txt');
    assert.deepEqual((await resumed.checkpoint('r1', 4, signal)).paths, ['new.txt']);
    assert.deepEqual((await resumed.store.readDeltas('r1')).map((d) => d.step), [3, 4], 'nothing recorded for the lost container');
  });

  it('writes a step\'s small new contents into its delta line and larger ones as blobs first; a new process rebuilds both', async () => {
    const c = container({ tracking: 'scan' });
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    const big = Buffer.alloc(300 * 1024, 'x');
    c.write('small.txt', 'small\n');
    c.write('big.bin', big);
    await rf.checkpoint('r1', 1, signal);
    assert.equal(rf.blobs.has(sha256(Buffer.from('small\n'))), false, 'small: in the log only');
    assert.equal(rf.blobs.has(sha256(big)), true, 'over the inline limit: stored in objects/ before the delta line');
    const log = readFileSync(rf.store.paths.runCheckpoints('r1'), 'utf8');
    assert.equal(log.trimEnd().split('\n').length, 2, 'one blob line and the delta line');
    const before = visible(c.tree());

    const fresh = container();
    await runFiles(fresh).open({ runId: 'r1', step: 1, network: false }, signal);
    assert.deepEqual(visible(fresh.tree()), before);
  });

  it('resumes in the same container from a new process without sending or reading anything', async () => {
    const c = container({ tracking: 'scan' });
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    c.shell('echo changed > src/a.ts');
    await rf.checkpoint('r1', 1, signal);
    c.overflowNext(); // a new process's first drain cannot vouch for what happened before it
    const before = { ...c.calls };
    const again = runFiles(c);
    await again.open({ runId: 'r1', step: 1, network: false }, signal);
    assert.deepEqual(again.lastRestore, { mode: 'delta', sent: 0, deleted: 0 });
    assert.equal(c.calls.putTar, before.putTar);
    assert.equal(c.calls.pathsRead - before.pathsRead, 1, 'only the file the run changed is read back to confirm it');
    assert.equal((await again.store.readDeltas('r1')).length, 1);
  });

  it('starts a new run in the previous run\'s container by sending only the difference', async () => {
    const c = container({ tracking: 'scan' });
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    c.shell('echo changed > src/a.ts && rm src/b.ts && echo n > new.txt && mkdir -p node_modules/cache && echo c > node_modules/cache/c');
    await rf.checkpoint('r1', 1, signal);
    writeTree(ws, { 'README.md': '# edited on the host\n' });

    const before = { ...c.calls };
    const next = runFiles(c);
    await next.open({ runId: 'r2', step: 0, network: false }, signal);
    assert.deepEqual(visible(c.tree()), asObject(readTree(ws, ['.git', '.crewbox', 'node_modules'])));
    assert.deepEqual(next.lastRestore, { mode: 'delta', sent: 3, deleted: 1 });
    assert.equal(c.calls.clear, before.clear);
    assert.ok(c.tree().has('node_modules/cache/c'), 'ignored build output is left in place, as git checkout does');
  });

  it('records, at resume, the changes of a call cut off by a crash instead of reverting them', async () => {
    const c = container({ tracking: 'scan' });
    const rf = runFiles(c);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    c.shell('echo one > one.txt');
    await rf.checkpoint('r1', 1, signal);
    c.shell('echo crashed > crashed.txt && rm src/b.ts'); // the host process dies before the checkpoint

    c.overflowNext();
    const resumed = runFiles(c);
    await resumed.open({ runId: 'r1', step: 2, network: false }, signal);
    assert.equal(c.tree().has('crashed.txt'), true);
    const deltas = await resumed.store.readDeltas('r1');
    assert.deepEqual(deltas.map((d) => [d.step, d.changes.map((ch) => ch.path).sort()]), [[1, ['one.txt']], [2, ['crashed.txt', 'src/b.ts']]]);
    assert.deepEqual(asObject(await manifestTree((await resumed.store.stateAt('r1')).manifest, resumed.blobs)), visible(c.tree()));
  });

  it('loses nothing when recording a checkpoint fails: the next checkpoint records it', async () => {
    const c = container({ tracking: 'recorded' });
    let failReads = false;
    const flaky: ContainerFiles = {
      putTar: (t, s) => c.putTar(t, s),
      drainChanges: (s) => c.drainChanges(s),
      readFiles: (p, s) => (failReads ? Promise.reject(new Error('channel closed')) : c.readFiles(p, s)),
      listAll: (s) => c.listAll(s),
      deletePaths: (p, s) => c.deletePaths(p, s),
      clear: (s) => c.clear(s),
    };
    const rf = runFiles(flaky);
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    c.write('src/a.ts', 'export const a = 99;\n');
    failReads = true;
    await assert.rejects(rf.checkpoint('r1', 1, signal), /channel closed/);
    failReads = false;
    c.write('src/b.ts', 'export const b = 99;\n');
    assert.deepEqual((await rf.checkpoint('r1', 2, signal)).paths.sort(), ['src/a.ts', 'src/b.ts']);
    const recorded = await manifestTree((await rf.store.stateAt('r1')).manifest, rf.blobs);
    assert.equal(recorded.get('src/a.ts'), `file:-:${Buffer.from('export const a = 99;\n').toString('base64')}`);
  });

  it('loses nothing when the process dies between draining and recording: the next open records it', async () => {
    const c = container({ tracking: 'recorded' });
    let failReads = false;
    const flaky: ContainerFiles = {
      putTar: (t, s) => c.putTar(t, s),
      drainChanges: (s) => c.drainChanges(s),
      readFiles: (p, s) => (failReads ? Promise.reject(new Error('process killed')) : c.readFiles(p, s)),
      listAll: (s) => c.listAll(s),
      deletePaths: (p, s) => c.deletePaths(p, s),
      clear: (s) => c.clear(s),
    };
    const first = runFiles(flaky);
    await first.open({ runId: 'r1', step: 0, network: false }, signal);
    const before = statSync(c.abs('src/a.ts'));
    c.write('src/a.ts', 'export const a = 7;\n');
    utimesSync(c.abs('src/a.ts'), before.atime, before.mtime); // same size and mtime: only the dirty record can tell
    failReads = true;
    await assert.rejects(first.checkpoint('r1', 1, signal), /process killed/);

    const second = runFiles(c);
    await second.open({ runId: 'r1', step: 1, network: false }, signal);
    const recorded = await manifestTree((await second.store.stateAt('r1')).manifest, second.blobs);
    assert.equal(recorded.get('src/a.ts'), `file:-:${Buffer.from('export const a = 7;\n').toString('base64')}`);
  });

  it('refuses a checkpoint for a run that is not open', async () => {
    const rf = runFiles(container());
    await rf.open({ runId: 'r1', step: 0, network: false }, signal);
    await assert.rejects(rf.checkpoint('r2', 1, signal), /not open/);
  });
});
