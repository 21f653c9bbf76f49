import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { listHostFiles, type HostEntry } from '../../src/sandbox/sync/host-files.ts';
import { IgnoreRules } from '../../src/sandbox/sync/ignore-rules.ts';
import { git, initRepo, tempDir, writeTree } from '../support/workspace-fixture.ts';

/** A tree exercising root and nested .gitignore files, negations, dir-only patterns, modes and links. */
function writeFixture(ws: string): void {
  writeTree(ws, {
    '.gitignore': 'node_modules/\n*.log\n!keep.log\nbuild/\n',
    'src/a.ts': 'export const a = 1;\n',
    'src/app.log': 'ignored\n',
    'keep.log': 're-included\n',
    'node_modules/x/index.js': 'module.exports = 1;\n',
    'packages/p1/.gitignore': 'dist/\n*.tmp\n!important.tmp\n',
    'packages/p1/src/x.ts': 'x\n',
    'packages/p1/dist/out.js': 'built\n',
    'packages/p1/a.tmp': 'scratch\n',
    'packages/p1/important.tmp': 'kept\n',
    'packages/p2/dist/keep.js': 'p1 rules do not apply here\n',
    'build/x.o': 'object\n',
    'docs/build': 'a file named build is not a build/ directory\n',
    'tools/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
    'link-in': { link: 'src/a.ts' },
    'link-out': { link: '/etc/passwd' },
    'dir-link': { link: 'src' },
    '.crewbox/runs/r1/events.jsonl': '{}\n',
    'untracked.txt': 'new\n',
  });
}

const EXPECTED = [
  '.gitignore',
  'dir-link',
  'docs/build',
  'keep.log',
  'link-in',
  'link-out',
  'packages/p1/.gitignore',
  'packages/p1/important.tmp',
  'packages/p1/src/x.ts',
  'packages/p2/dist/keep.js',
  'src/a.ts',
  'tools/run.sh',
  'untracked.txt',
];

const paths = (entries: HostEntry[]): string[] => entries.map((e) => e.path);

describe('listHostFiles', () => {
  let ws: string;
  beforeEach(() => {
    ws = tempDir('crewbox-hostfiles-');
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  describe('in a git repository', () => {
    beforeEach(() => {
      initRepo(ws);
      writeFixture(ws);
      git(ws, 'add', 'src', '.gitignore', 'packages', 'tools', 'link-in');
      git(ws, 'commit', '-qm', 'init');
    });

    it('lists tracked and untracked files, leaves ignored ones (node_modules, nested rules) and .git/.crewbox out', async () => {
      const listing = await listHostFiles(ws);
      assert.equal(listing.source, 'git');
      assert.deepEqual(paths(listing.entries), EXPECTED);
    });

    it('gives the same files when no git binary is available (walk with .gitignore rules)', async () => {
      const listing = await listHostFiles(ws, { git: '/nonexistent/bin/git' });
      assert.equal(listing.source, 'walk');
      assert.deepEqual(paths(listing.entries), EXPECTED);
    });

    it('keeps a tracked file even when a pattern ignores it', async () => {
      writeTree(ws, { 'build/forced.txt': 'force-added\n' });
      git(ws, 'add', '-f', 'build/forced.txt');
      assert.ok(paths((await listHostFiles(ws)).entries).includes('build/forced.txt'));
    });

    it('honours .git/info/exclude in the walk as git does', async () => {
      writeTree(ws, { '.git/info/exclude': 'untracked.txt\n' });
      const expected = EXPECTED.filter((p) => p !== 'untracked.txt');
      assert.deepEqual(paths((await listHostFiles(ws)).entries), expected);
      assert.deepEqual(paths((await listHostFiles(ws, { git: false })).entries), expected);
    });

    it('walks a nested repository git reports as one directory, without its .git', async () => {
      const nested = `${ws}/vendor/lib`;
      writeTree(ws, { 'vendor/lib/.gitignore': 'tmp/\n', 'vendor/lib/index.js': 'lib\n', 'vendor/lib/tmp/cache': 'c\n' });
      initRepo(nested);
      const listed = paths((await listHostFiles(ws)).entries);
      assert.ok(listed.includes('vendor/lib/index.js'));
      assert.ok(listed.includes('vendor/lib/.gitignore'));
      assert.ok(!listed.some((p) => p.startsWith('vendor/lib/tmp') || p.includes('.git/')));
    });
  });

  it('walks a folder that is not a repository', async () => {
    writeFixture(ws);
    const listing = await listHostFiles(ws);
    assert.equal(listing.source, 'walk');
    assert.deepEqual(paths(listing.entries), EXPECTED);
  });

  it('keeps the executable bit and symlinks as links, never following them', async () => {
    writeFixture(ws);
    const byPath = new Map((await listHostFiles(ws, { git: false })).entries.map((e) => [e.path, e]));
    assert.equal(byPath.get('tools/run.sh')?.mode, 0o755);
    assert.equal(byPath.get('src/a.ts')?.mode, 0o644);
    assert.deepEqual([byPath.get('link-out')?.kind, byPath.get('link-out')?.linkTarget], ['symlink', '/etc/passwd']);
    assert.deepEqual([byPath.get('dir-link')?.kind, byPath.get('dir-link')?.linkTarget], ['symlink', 'src']);
    assert.ok(![...byPath.keys()].some((p) => p.startsWith('dir-link/')), 'a link to a directory is not descended');
  });
});

describe('IgnoreRules', () => {
  it('applies deeper rules after shallower ones, relative to their directory', () => {
    const rules = new IgnoreRules();
    rules.add('', '*.tmp\n/top-only\n');
    rules.add('a', '!keep.tmp\nsub/\n');
    assert.equal(rules.ignores('x.tmp', false), true);
    assert.equal(rules.ignores('a/x.tmp', false), true);
    assert.equal(rules.ignores('a/keep.tmp', false), false);
    assert.equal(rules.ignores('keep.tmp', false), true);
    assert.equal(rules.ignores('top-only', false), true);
    assert.equal(rules.ignores('a/top-only', false), false);
    assert.equal(rules.ignores('a/sub/file', false), true, 'inside an ignored directory');
    assert.equal(rules.ignores('a/sub', false), false, 'a file named like a dir-only pattern');
  });

  it('cannot re-include a file below an ignored directory', () => {
    const rules = new IgnoreRules();
    rules.add('', 'node_modules/\n');
    rules.add('node_modules/x', '!index.js\n');
    assert.equal(rules.ignores('node_modules/x/index.js', false), true);
  });
});
