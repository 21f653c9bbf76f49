import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { dockerignoreRules, hashBuildContext, OUTSIDE_DOCKERFILE_NAME, packBuildContext, readBuildContext } from '../../src/sandbox/build-context.ts';

/** What a tar stream holds: name → type, mode and content (files) or target (symlinks). */
async function listTar(stream: Readable): Promise<Map<string, { type: string; mode: number; uid: number; body: string }>> {
  const extract = tar.extract();
  stream.pipe(extract);
  const out = new Map<string, { type: string; mode: number; uid: number; body: string }>();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const h = entry.header;
    out.set(h.name, { type: h.type, mode: h.mode, uid: h.uid, body: h.type === 'symlink' ? h.linkname : Buffer.concat(chunks).toString() });
  }
  return out;
}

describe('build context', () => {
  let dir: string;
  const write = (rel: string, content: string): void => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  };
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'crewbox-context-')));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('anchors .dockerignore patterns at the context root and keeps exceptions', () => {
    assert.deepEqual(dockerignoreRules('# comment\n\nnode_modules\n/dist/\n  *.log  \n!keep.log\n./tmp\n**/cache\n'), [
      '/node_modules',
      '/dist/',
      '/*.log',
      '!/keep.log',
      '/tmp',
      '/**/cache',
    ]);
  });

  it('sends what .dockerignore leaves, and always the Dockerfile and .dockerignore', async () => {
    write('Dockerfile', 'FROM base\n');
    write('.dockerignore', 'Dockerfile\n.dockerignore\nnode_modules\n*.log\n!keep.log\nsub/secret\n');
    write('app.js', 'console.log(1)\n');
    write('node_modules/x/index.js', 'x');
    write('sub/node_modules/y.js', 'kept: patterns are anchored');
    write('sub/secret', 's');
    write('a.log', 'no');
    write('keep.log', 'yes');
    chmodSync(path.join(dir, 'app.js'), 0o755);
    symlinkSync('app.js', path.join(dir, 'link.js'));
    const context = await readBuildContext(dir, path.join(dir, 'Dockerfile'));
    assert.equal(context.dockerfile, 'Dockerfile');
    assert.deepEqual(
      context.entries.map((e) => e.rel),
      ['.dockerignore', 'Dockerfile', 'app.js', 'keep.log', 'link.js', 'sub', 'sub/node_modules', 'sub/node_modules/y.js'],
    );
    const archive = await listTar(packBuildContext(context));
    assert.deepEqual([...archive.keys()].sort(), ['.dockerignore', 'Dockerfile', 'app.js', 'keep.log', 'link.js', 'sub', 'sub/node_modules', 'sub/node_modules/y.js']);
    assert.equal(archive.get('app.js')?.mode, 0o755);
    assert.equal(archive.get('app.js')?.body, 'console.log(1)\n');
    assert.equal(archive.get('app.js')?.uid, 0);
    assert.deepEqual(archive.get('link.js'), { type: 'symlink', mode: 0o777, uid: 0, body: 'app.js' });
  });

  it('adds a Dockerfile from outside the context under its own name', async () => {
    write('ctx/file.txt', 'f');
    write('docker/Dev.Dockerfile', 'FROM base\nCOPY file.txt /\n');
    const context = await readBuildContext(path.join(dir, 'ctx'), path.join(dir, 'docker/Dev.Dockerfile'));
    assert.equal(context.dockerfile, OUTSIDE_DOCKERFILE_NAME);
    const archive = await listTar(packBuildContext(context));
    assert.equal(archive.get(OUTSIDE_DOCKERFILE_NAME)?.body, 'FROM base\nCOPY file.txt /\n');
    assert.equal(archive.get('file.txt')?.body, 'f');
  });

  it('hashes content, names and modes of what is sent, not what is ignored', async () => {
    write('Dockerfile', 'FROM base\n');
    write('.dockerignore', 'ignored\n');
    write('a.txt', 'a');
    const hash = async (): Promise<string> => hashBuildContext(await readBuildContext(dir, path.join(dir, 'Dockerfile')));
    const first = await hash();
    assert.equal(await hash(), first);
    write('ignored/big.bin', 'changes nothing');
    assert.equal(await hash(), first);
    write('a.txt', 'b');
    const second = await hash();
    assert.notEqual(second, first);
    chmodSync(path.join(dir, 'a.txt'), 0o700);
    const third = await hash();
    assert.notEqual(third, second);
    write('Dockerfile', 'FROM other\n');
    assert.notEqual(await hash(), third);
  });
});
