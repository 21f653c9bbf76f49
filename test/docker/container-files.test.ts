/**
 * ChannelContainerFiles in a real container: bulk copy-in owned by the
 * sandbox user, change tracking that sees what shell commands did, snapshots
 * of files/symlinks/dirs/missing paths (large files in chunks), listAll,
 * deletePaths and clear.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { DockerEngine } from '../../src/sandbox/docker/engine.ts';
import { SupervisorLink } from '../../src/sandbox/channel/link.ts';
import { ChannelContainerFiles } from '../../src/sandbox/channel/container-files-impl.ts';
import { DockerSandbox } from '../../src/sandbox/docker-sandbox.ts';
import { createTestContainer, startTestSupervisor } from './sandbox-fixture.ts';

describe('ChannelContainerFiles (real container)', function () {
  this.timeout(60_000);
  const engine = new DockerEngine();
  const signal = new AbortController().signal;
  let containerId: string;
  let link: SupervisorLink;
  let files: ChannelContainerFiles;
  let sandbox: DockerSandbox;
  let hostDir: string;
  let seq = 0;
  const sh = async (command: string): Promise<string> => {
    const r = await sandbox.exec({ command, callId: `cf-${++seq}`, timeoutMs: 20_000 }, signal);
    assert.equal(r.exitCode, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    containerId = await createTestContainer(engine, 'container-files');
    link = new SupervisorLink(() => startTestSupervisor(engine, containerId));
    files = new ChannelContainerFiles(engine, containerId, link, { chunkBytes: 1024 * 1024 });
    sandbox = new DockerSandbox(link);
    hostDir = mkdtempSync(path.join(tmpdir(), 'crewbox-cf-'));
  });

  after(async () => {
    await link?.close();
    if (containerId) await engine.removeContainer(containerId);
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
  });

  it('treats the first drain from a new supervisor as an overflow, then tracks normally', async () => {
    const first = await files.drainChanges(signal);
    assert.equal(first.overflow, true);
    const second = await files.drainChanges(signal);
    assert.deepEqual(second, { paths: [], overflow: false });
  });

  it('copies a tar in, owned by the sandbox user with the modes of the archive', async () => {
    mkdirSync(path.join(hostDir, 'proj', 'bin'), { recursive: true });
    writeFileSync(path.join(hostDir, 'proj', 'readme.md'), '# hi\n');
    writeFileSync(path.join(hostDir, 'proj', 'bin', 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(hostDir, 'proj', 'bin', 'tool'), 0o750);
    symlinkSync('readme.md', path.join(hostDir, 'proj', 'link.md'));
    const archive = execFileSync('tar', ['-cf', '-', '--owner=0', '--group=0', '-C', hostDir, 'proj']);
    await files.putTar(Readable.from([archive]), signal);

    assert.equal(await sh('stat -c "%U:%G %a %n" proj proj/readme.md proj/bin/tool'), 'crewbox:crewbox 755 proj\ncrewbox:crewbox 644 proj/readme.md\ncrewbox:crewbox 750 proj/bin/tool\n');
    assert.equal(await sh('readlink proj/link.md'), 'readme.md\n');
    const drained = await files.drainChanges(signal);
    assert.equal(drained.overflow, false);
    const expected = ['proj', 'proj/bin', 'proj/bin/tool', 'proj/link.md', 'proj/readme.md'];
    for (const p of expected) assert.ok(drained.paths.includes(p), `${p} missing from ${JSON.stringify(drained.paths)}`);
    // The contract allows extra paths only when they do not exist (tar's chmod of a
    // directory after extracting can read as a child of the directory's own name).
    const extra = drained.paths.filter((p) => !expected.includes(p));
    for (const p of extra) assert.equal(await sh(`test -e '${p}' || test -L '${p}' || echo missing`), 'missing\n', `${p} was reported but exists`);
  });

  it('carries the changed files\' snapshots with the drain when few changed (one round trip), and only then', async () => {
    await files.drainChanges(signal);
    await sh('mkdir -p r && printf a > r/one.txt && head -c 2000000 /dev/zero > r/big.txt && ln -s one.txt r/ln && rm -f r/none');
    const small = await files.drainChanges(signal, { read: true });
    assert.equal(small.overflow, false);
    const byPath = new Map((small.files ?? []).map((f) => [f.path, f]));
    assert.deepEqual([...byPath.keys()].sort(), [...small.paths].sort(), 'a snapshot for every changed path');
    assert.equal(byPath.get('r/one.txt')?.content?.toString(), 'a');
    assert.equal(byPath.get('r/big.txt')?.content?.length, 2_000_000, 'a file past the inline size is fetched in chunks');
    assert.equal(byPath.get('r/ln')?.linkTarget, 'one.txt');
    assert.equal(byPath.get('r')?.kind, 'dir');

    await sh('for i in $(seq 1 100); do echo $i > r/f$i; done');
    const many = await files.drainChanges(signal, { read: true });
    assert.equal(many.paths.length, 100);
    assert.equal(many.files, undefined, 'many paths: names only');

    // A file that cannot be read: the drained paths still come back (without snapshots), never lost.
    await sh('echo secret > r/locked && chmod 000 r/locked');
    const failed = await files.drainChanges(signal, { read: true });
    assert.ok(failed.paths.includes('r/locked'), JSON.stringify(failed.paths));
    assert.equal(failed.files, undefined);
    await sh('chmod 644 r/locked');
  });

  it('reports what a shell command created, modified, deleted and moved', async () => {
    await sh('mkdir -p t/keep t/gone/sub && echo 1 > t/keep/mod.txt && echo 1 > t/gone/sub/x.txt && echo 1 > t/del.txt && mkdir t/olddir');
    await files.drainChanges(signal);
    await sh('echo 2 >> t/keep/mod.txt && rm t/del.txt && rm -r t/gone && mkdir -p t/new/a && echo n > t/new/a/n.txt && mv t/olddir t/newdir && ln -s keep t/ln');
    const { paths, overflow } = await files.drainChanges(signal);
    assert.equal(overflow, false);
    for (const p of ['t/keep/mod.txt', 't/del.txt', 't/gone', 't/new', 't/new/a', 't/new/a/n.txt', 't/olddir', 't/newdir', 't/ln']) {
      assert.ok(paths.includes(p), `${p} missing from ${JSON.stringify(paths)}`);
    }
    assert.ok(!paths.some((p) => p.startsWith('proj')), 'nothing outside the change is reported');

    const snaps = await files.readFiles(['t/keep/mod.txt', 't/del.txt', 't/ln', 't/newdir', 't/new/a/n.txt'], signal);
    assert.deepEqual(
      snaps.map((s) => ({ ...s, content: s.content?.toString('utf8') })),
      [
        { path: 't/keep/mod.txt', kind: 'file', mode: 0o644, content: '1\n2\n' },
        { path: 't/del.txt', kind: 'missing', mode: 0, content: undefined },
        { path: 't/ln', kind: 'symlink', mode: 0o777, linkTarget: 'keep', content: undefined },
        { path: 't/newdir', kind: 'dir', mode: 0o755, content: undefined },
        { path: 't/new/a/n.txt', kind: 'file', mode: 0o644, content: 'n\n' },
      ],
    );
  });

  it('reads large files in chunks, byte for byte', async () => {
    await sh('head -c 9437184 /dev/urandom > big.bin && sha256sum big.bin');
    const expected = (await sh('sha256sum big.bin')).split(' ')[0];
    const [snap] = await files.readFiles(['big.bin'], signal);
    assert.equal(snap?.kind, 'file');
    assert.equal(snap?.content?.length, 9_437_184);
    assert.equal(createHash('sha256').update(snap!.content!).digest('hex'), expected);
  });

  it('does not read through a symlinked parent directory', async () => {
    await sh('ln -s /etc etc-link');
    const [snap] = await files.readFiles(['etc-link/passwd'], signal);
    assert.deepEqual(snap, { path: 'etc-link/passwd', kind: 'missing', mode: 0 });
  });

  it('lists everything with kinds, modes and sizes, deletes paths and clears', async () => {
    const all = await files.listAll(signal);
    const readme = all.find((e) => e.path === 'proj/readme.md');
    assert.deepEqual(readme && { kind: readme.kind, mode: readme.mode, size: readme.size }, { kind: 'file', mode: 0o644, size: 5 });
    assert.equal(all.find((e) => e.path === 'proj/link.md')?.kind, 'symlink');
    assert.equal(all.find((e) => e.path === 'proj/bin')?.kind, 'dir');

    await files.deletePaths(['proj/bin', 'proj/readme.md', 'not/there'], signal);
    assert.equal(await sh('ls -A proj'), 'link.md\n');
    await files.clear(signal);
    assert.equal(await sh('ls -A /workspace | wc -l'), '0\n');
    assert.deepEqual(await files.listAll(signal), []);
  });
});
