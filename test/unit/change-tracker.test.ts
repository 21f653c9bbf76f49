import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { ChangeTracker } = require('../../sandbox/supervisor/tracker.js') as {
  ChangeTracker: new (root: string) => { start(): void; close(): void; drain(): Promise<{ paths: string[]; overflow: boolean }> };
};

/** Waits until the kernel's events have been read: drains until something arrives (or a short while passes). */
async function drainSettled(t: InstanceType<typeof ChangeTracker>): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const { paths } = await t.drain();
    for (const p of paths) seen.add(p);
  }
  return [...seen].sort();
}

describe('supervisor change tracker (inotify, on this host)', () => {
  let root: string;
  let tracker: InstanceType<typeof ChangeTracker>;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'crewbox-tracker-'));
  });
  afterEach(() => {
    tracker?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('reports a directory whose attributes changed, and nothing that exists under a made-up name', async () => {
    mkdirSync(path.join(root, 'proj', 'bin'), { recursive: true });
    tracker = new ChangeTracker(root);
    tracker.start();
    await tracker.drain();
    chmodSync(path.join(root, 'proj', 'bin'), 0o700);
    utimesSync(path.join(root, 'proj'), new Date(), new Date(1_000_000));
    const paths = await drainSettled(tracker);
    assert.ok(paths.includes('proj/bin'), JSON.stringify(paths));
    assert.ok(paths.includes('proj'), JSON.stringify(paths));
    for (const p of paths.filter((x) => x !== 'proj' && x !== 'proj/bin')) {
      assert.equal(existsSync(path.join(root, p)), false, `${p} was reported and exists`);
    }
  });

  it('reports a child named like its directory when it is moved away or deleted', async () => {
    mkdirSync(path.join(root, 'a'));
    writeFileSync(path.join(root, 'a', 'a'), 'x');
    writeFileSync(path.join(root, 'a', 'keep'), 'x');
    tracker = new ChangeTracker(root);
    tracker.start();
    await tracker.drain();
    renameSync(path.join(root, 'a', 'a'), path.join(root, 'a', 'moved'));
    let paths = await drainSettled(tracker);
    assert.ok(paths.includes('a/a'), JSON.stringify(paths));
    assert.ok(paths.includes('a/moved'), JSON.stringify(paths));
    writeFileSync(path.join(root, 'a', 'a'), 'y');
    await drainSettled(tracker);
    rmSync(path.join(root, 'a', 'a'));
    paths = await drainSettled(tracker);
    assert.ok(paths.includes('a/a'), JSON.stringify(paths));
  });
});
