/**
 * reownTar against archives made and read by GNU tar (the system's, a real
 * implementation at the edge): owners change, everything else stays.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { SandboxChannelError } from '../../src/sandbox/channel/errors.ts';
import { reownTar } from '../../src/sandbox/channel/tar-owner.ts';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Feeds `data` in small, odd-sized chunks so headers straddle chunk boundaries. */
function chunked(data: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

function listing(archive: Buffer): string[] {
  const out = spawnSync('tar', ['-tvf', '-', '--numeric-owner'], { input: archive });
  assert.equal(out.status, 0, out.stderr.toString());
  return out.stdout.toString().trim().split('\n');
}

describe('reownTar', () => {
  let dir: string;
  let archive: Buffer;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'crewbox-tar-owner-'));
    mkdirSync(path.join(dir, 'src', 'a-directory-with-a-rather-long-name-to-force-extended-headers'.repeat(3)), { recursive: true });
    writeFileSync(path.join(dir, 'src', 'small.txt'), 'hello\n');
    writeFileSync(path.join(dir, 'src', 'block.bin'), Buffer.alloc(512 * 3 + 17, 7));
    writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(path.join(dir, 'run.sh'), 0o755);
    symlinkSync('src/small.txt', path.join(dir, 'link'));
    archive = execFileSync('tar', ['-cf', '-', '--owner=0', '--group=0', '--format=gnu', '-C', dir, '.']);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const size of [65_536, 500, 37]) {
    it(`rewrites every owner and keeps names, modes, links and content (chunks of ${size} bytes)`, async () => {
      const out = await collect(chunked(archive, size).pipe(reownTar(1000, 1001)));
      assert.equal(out.length, archive.length);
      const before = listing(archive);
      const after = listing(out);
      assert.equal(after.length, before.length);
      for (const [i, line] of after.entries()) {
        const [mode, owner, ...rest] = line.split(/\s+/);
        const [modeBefore, ownerBefore, ...restBefore] = (before[i] ?? '').split(/\s+/);
        assert.equal(ownerBefore, '0/0');
        assert.equal(owner, '1000/1001', line);
        assert.deepEqual([mode, ...rest], [modeBefore, ...restBefore]);
      }
      // Content is untouched: extract and compare.
      const target = mkdtempSync(path.join(tmpdir(), 'crewbox-tar-owner-out-'));
      try {
        const res = spawnSync('tar', ['-xf', '-', '-C', target, '--no-same-owner'], { input: out });
        assert.equal(res.status, 0, res.stderr.toString());
        assert.equal(execFileSync('diff', ['-r', '--no-dereference', dir, target]).toString(), '');
      } finally {
        rmSync(target, { recursive: true, force: true });
      }
    });
  }

  it('hands the engine large chunks however small the pieces it is fed', async () => {
    // Many one-block files, fed a block at a time (what tar-stream does: header, body, padding).
    const many: string[] = [];
    for (let i = 0; i < 600; i++) many.push(`f${i}`);
    const src = mkdtempSync(path.join(tmpdir(), 'crewbox-tar-owner-many-'));
    try {
      for (const name of many) writeFileSync(path.join(src, name), 'x'.repeat(300));
      const big = execFileSync('tar', ['-cf', '-', '--format=gnu', '-C', src, '.']);
      const chunks: Buffer[] = [];
      for await (const chunk of chunked(big, 512).pipe(reownTar(1000, 1000))) chunks.push(chunk as Buffer);
      assert.deepEqual(Buffer.concat(chunks).length, big.length);
      assert.ok(chunks.length <= Math.ceil(big.length / (256 * 1024)) + 1, `${chunks.length} chunks for ${big.length} bytes`);
      assert.equal(listing(Buffer.concat(chunks)).length, many.length + 1);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('fails on a stream that is not a tar archive', async () => {
    const garbage = new PassThrough();
    garbage.end(Buffer.alloc(1024, 'x'));
    await assert.rejects(collect(garbage.pipe(reownTar(1000, 1000))), (e: unknown) => e instanceof SandboxChannelError && e.code === 'protocol');
  });
});
