/**
 * DockerSandbox file tools in a real container: confinement to /workspace
 * (also through symlinks), typed errors, atomic writes, listing, and search
 * with ripgrep and with the JavaScript fallback giving the same answers.
 */
import assert from 'node:assert/strict';
import { SandboxToolError, type SandboxToolErrorCode } from '../../src/core/sandbox/port.ts';
import { DockerEngine } from '../../src/sandbox/docker/engine.ts';
import { SupervisorLink } from '../../src/sandbox/channel/link.ts';
import { DockerSandbox } from '../../src/sandbox/docker-sandbox.ts';
import { createTestContainer, startTestSupervisor } from './sandbox-fixture.ts';

const toolError = (code: SandboxToolErrorCode) => (e: unknown) => e instanceof SandboxToolError && e.code === code;

describe('DockerSandbox file tools (real container)', function () {
  this.timeout(60_000);
  const engine = new DockerEngine();
  const signal = new AbortController().signal;
  let containerId: string;
  let link: SupervisorLink;
  let jsLink: SupervisorLink;
  let sandbox: DockerSandbox;
  let seq = 0;
  const sh = async (command: string): Promise<string> => {
    const r = await sandbox.exec({ command, callId: `files-${++seq}`, timeoutMs: 20_000 }, signal);
    assert.equal(r.exitCode, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    containerId = await createTestContainer(engine, 'files');
    link = new SupervisorLink(() => startTestSupervisor(engine, containerId));
    jsLink = new SupervisorLink(() => startTestSupervisor(engine, containerId, { CREWBOX_SEARCH: 'js' }));
    sandbox = new DockerSandbox(link);
    await sh('mkdir -p src/lib .git/objects && ln -s /etc etc-link && ln -s src src-link && echo secret > /tmp/outside.txt');
  });

  after(async () => {
    await link?.close();
    await jsLink?.close();
    if (containerId) await engine.removeContainer(containerId);
  });

  it('writes atomically, creating parents, and reads back', async () => {
    await sandbox.writeFile('src/new/deep/file.txt', 'héllo\nwörld\n', signal);
    assert.equal(await sandbox.readFile('src/new/deep/file.txt', signal), 'héllo\nwörld\n');
    assert.equal(await sh('ls -A src/new/deep'), 'file.txt\n', 'no temp file left behind');
    assert.equal(await sh('stat -c %U src/new/deep/file.txt'), 'crewbox\n');
  });

  it('keeps the mode of a file it overwrites, and writes through a symlink to its target', async () => {
    await sh('printf "#!/bin/sh\\n" > src/run.sh && chmod 755 src/run.sh');
    await sandbox.writeFile('src/run.sh', '#!/bin/sh\necho hi\n', signal);
    assert.equal(await sh('stat -c %a src/run.sh'), '755\n');
    await sandbox.writeFile('src-link/via-link.txt', 'through the link', signal);
    assert.equal(await sh('cat src/via-link.txt; test -L src-link && echo still-a-link'), 'through the linkstill-a-link\n');
  });

  it('refuses paths outside the workspace, also through symlinks and absolute paths', async () => {
    for (const p of ['../etc/passwd', '/etc/passwd', 'etc-link/passwd', 'src/../../tmp/outside.txt']) {
      await assert.rejects(sandbox.readFile(p, signal), toolError('outside_workspace'), p);
    }
    await assert.rejects(sandbox.writeFile('etc-link/evil', 'x', signal), toolError('outside_workspace'));
    await assert.rejects(sandbox.writeFile('../tmp/evil', 'x', signal), toolError('outside_workspace'));
    await assert.rejects(sandbox.list('etc-link', 1, signal), toolError('outside_workspace'));
    await assert.rejects(sandbox.search({ pattern: 'root', path: 'etc-link', maxResults: 5 }, signal), toolError('outside_workspace'));
    assert.equal(await sh('test -e /etc/evil || echo absent'), 'absent\n');
  });

  it('reports missing files, directories and files in the way as typed errors', async () => {
    await assert.rejects(sandbox.readFile('nope.txt', signal), toolError('not_found'));
    await assert.rejects(sandbox.readFile('src', signal), toolError('is_directory'));
    await assert.rejects(sandbox.writeFile('src', 'x', signal), toolError('is_directory'));
    await sandbox.writeFile('plain.txt', 'x', signal);
    await assert.rejects(sandbox.writeFile('plain.txt/child.txt', 'x', signal), toolError('not_directory'));
    await assert.rejects(sandbox.list('plain.txt', 1, signal), toolError('not_directory'));
  });

  it('refuses binary files and files over the size limit', async () => {
    await sandbox.writeFile('text-with-nul.txt', 'a\u0000b', signal);
    await assert.rejects(sandbox.readFile('text-with-nul.txt', signal), toolError('binary'));
    await sh("printf 'PK\\003\\004\\000\\000' > archive.zip");
    await assert.rejects(sandbox.readFile('archive.zip', signal), toolError('binary'));
    await sandbox.writeFile('big.txt', 'x'.repeat(3 * 1024 * 1024), signal);
    assert.equal(await sh('stat -c %s big.txt'), `${3 * 1024 * 1024}\n`);
    await assert.rejects(sandbox.readFile('big.txt', signal), toolError('too_large'));
  });

  it('lists breadth first with root-relative paths, without descending into .git', async () => {
    await sh('mkdir -p tree/a/b && echo 12345 > tree/a/f.txt && echo x > tree/a/b/g.txt && mkdir -p tree/.git/refs && ln -s a tree/link');
    const one = await sandbox.list('tree', 1, signal);
    assert.deepEqual(one, [
      { path: 'tree/.git', type: 'dir' },
      { path: 'tree/a', type: 'dir' },
      { path: 'tree/link', type: 'symlink' },
    ]);
    const three = await sandbox.list('tree', 3, signal);
    assert.deepEqual(
      three.map((e) => e.path),
      ['tree/.git', 'tree/a', 'tree/link', 'tree/a/b', 'tree/a/f.txt', 'tree/a/b/g.txt'],
    );
    assert.equal(three.find((e) => e.path === 'tree/a/f.txt')?.size, 6);
  });

  it('searches with ripgrep and with the JavaScript walk alike', async () => {
    await sh(
      [
        'mkdir -p s/src/deep s/.git',
        'printf "const needle = 1;\\nother\\n" > s/src/a.ts',
        'printf "x\\nneedle/slash here\\n" > s/src/deep/b.test.ts',
        'printf "needle in js\\n" > s/src/c.js',
        'printf "needle\\n" > s/.git/config',
        "printf 'needle\\000bin' > s/bin.dat",
      ].join(' && '),
    );
    const jsSandbox = new DockerSandbox(jsLink);
    const queries = [
      { pattern: 'needle', path: 's', maxResults: 50 },
      { pattern: 'needle', path: 's/src', glob: '*.ts', maxResults: 50 },
      { pattern: 'needle', path: 's/src', glob: 'deep/**', maxResults: 50 },
      { pattern: 'needle\\/slash', path: 's', maxResults: 50 },
      { pattern: 'needle', path: 's/src/a.ts', maxResults: 50 },
      { pattern: 'needle', path: 's', maxResults: 2 },
    ];
    for (const q of queries) {
      const viaRg = await sandbox.search(q, signal);
      const viaJs = await jsSandbox.search(q, signal);
      assert.deepEqual(viaRg, viaJs, JSON.stringify(q));
    }
    assert.deepEqual(await sandbox.search(queries[0]!, signal), [
      { path: 's/src/a.ts', line: 1, text: 'const needle = 1;' },
      { path: 's/src/c.js', line: 1, text: 'needle in js' },
      { path: 's/src/deep/b.test.ts', line: 2, text: 'needle/slash here' },
    ]);
    assert.equal((await (await link.client()).call('search', { ...queries[0]!, maxResults: 50 })).engine, 'rg');
    assert.equal((await (await jsLink.client()).call('search', { ...queries[0]!, maxResults: 50 })).engine, 'js');
    await assert.rejects(sandbox.search({ pattern: '(unclosed', path: '.', maxResults: 5 }, signal), toolError('invalid'));
  });
});
