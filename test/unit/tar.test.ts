import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobStore } from '../../src/sandbox/store/blobs.ts';
import { sha256, type ManifestEntry } from '../../src/sandbox/store/manifest.ts';
import { packEntries, tarMtime } from '../../src/sandbox/sync/tar.ts';
import { readTree, tempDir } from '../support/workspace-fixture.ts';

function extract(tar: Readable, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-x', '-p', '--no-same-owner', '-f', '-', '-C', into], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    tar.on('error', (e) => {
      child.kill();
      reject(e);
    });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar: ${code} ${stderr}`))));
    tar.pipe(child.stdin);
  });
}

describe('packEntries', () => {
  let dir: string;
  let blobs: BlobStore;
  beforeEach(() => {
    dir = tempDir('crewbox-tar-');
    blobs = new BlobStore(path.join(dir, 'objects'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const fileEntry = async (content: string | Buffer, mode = 0o644): Promise<ManifestEntry> => {
    const data = Buffer.from(content);
    await blobs.put(data);
    return { kind: 'file', hash: sha256(data), mode, size: data.length };
  };

  it('packs files with their modes, links, empty files and long or non-ASCII names', async () => {
    const longPath = `${'deep/'.repeat(30)}name-${'x'.repeat(120)}.txt`;
    const entries: Array<[string, ManifestEntry]> = [
      ['src/a.ts', await fileEntry('export const a = 1;\n')],
      ['bin/run.sh', await fileEntry('#!/bin/sh\n', 0o755)],
      ['empty', await fileEntry('')],
      ['données/çà.txt', await fileEntry('unicode\n')],
      [longPath, await fileEntry('long\n')],
      ['link', { kind: 'symlink', linkTarget: '../outside/target', mode: 0o777 }],
      ['big.bin', await fileEntry(Buffer.alloc(2 * 1024 * 1024 + 3, 7))],
    ];
    const out = path.join(dir, 'out');
    mkdirSync(out);
    const mtime = new Date('2024-05-01T10:00:00.750Z');
    await extract(packEntries(entries, blobs, { mtime }), out);

    const tree = readTree(out, []);
    assert.deepEqual([...tree.keys()].sort(), entries.map(([p]) => p).sort());
    assert.equal(tree.get('bin/run.sh'), `file:x:${Buffer.from('#!/bin/sh\n').toString('base64')}`);
    assert.equal(tree.get('link'), 'link:../outside/target');
    assert.equal(tree.get('empty'), 'file:-:');
    assert.equal(statSync(path.join(out, 'src/a.ts')).mtimeMs, tarMtime(mtime).getTime(), 'whole-second mtime from the header');
  });

  it('fails the stream when a blob is missing', async () => {
    const entries: Array<[string, ManifestEntry]> = [['gone.txt', { kind: 'file', hash: sha256('never stored'), mode: 0o644, size: 12 }]];
    mkdirSync(path.join(dir, 'out'));
    await assert.rejects(extract(packEntries(entries, blobs, { mtime: new Date() }), path.join(dir, 'out')));
  });
});
