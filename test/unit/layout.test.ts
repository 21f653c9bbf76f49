import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertRunId, crewboxPaths, ensureCrewboxDir, findRepository } from '../../src/core/store/layout.ts';
import { isStoreError } from '../../src/core/store/errors.ts';

describe('store layout', () => {
  let dir: string;
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'crewbox-layout-')));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('puts everything under .crewbox/', () => {
    const p = crewboxPaths(dir);
    assert.equal(p.root, path.join(dir, '.crewbox'));
    assert.equal(p.index, path.join(dir, '.crewbox', 'index.json'));
    assert.equal(p.runEvents('r1'), path.join(dir, '.crewbox', 'runs', 'r1', 'events.jsonl'));
    assert.equal(p.runLock('r1'), path.join(dir, '.crewbox', 'runs', 'r1', 'run.lock'));
  });

  it('refuses run ids that could escape the runs directory', () => {
    for (const bad of ['', '..', '../x', 'a/b', 'a\\b', '.hidden', 'a..b', 'x'.repeat(129)]) {
      assert.throws(() => assertRunId(bad), (e) => isStoreError(e) && e.code === 'invalid_run_id', bad);
      assert.throws(() => crewboxPaths(dir).runEvents(bad), (e) => isStoreError(e) && e.code === 'invalid_run_id', bad);
    }
    assertRunId('run-2025-01-01T00-00_ab.c');
  });

  describe('ensureCrewboxDir', () => {
    const exclude = (gitDir: string): string => readFileSync(path.join(gitDir, 'info', 'exclude'), 'utf8');
    const excludeLines = (gitDir: string): string[] => exclude(gitDir).split('\n').filter((l) => l === '.crewbox/');

    it('creates the directory and leaves a folder without git alone', async () => {
      const { paths, gitExclude } = await ensureCrewboxDir(dir);
      assert.ok(statSync(paths.runsDir).isDirectory());
      assert.deepEqual(gitExclude, { status: 'no_repo' });
    });

    it('adds .crewbox/ to .git/info/exclude once and never touches .gitignore', async () => {
      mkdirSync(path.join(dir, '.git'));
      writeFileSync(path.join(dir, '.gitignore'), 'node_modules\n');
      const first = await ensureCrewboxDir(dir);
      assert.deepEqual(first.gitExclude, { status: 'added', file: path.join(dir, '.git', 'info', 'exclude') });
      const second = await ensureCrewboxDir(dir);
      assert.equal(second.gitExclude.status, 'present');
      assert.deepEqual(excludeLines(path.join(dir, '.git')), ['.crewbox/']);
      assert.equal(readFileSync(path.join(dir, '.gitignore'), 'utf8'), 'node_modules\n');
    });

    it('keeps existing exclude lines and starts its own on a new line', async () => {
      mkdirSync(path.join(dir, '.git', 'info'), { recursive: true });
      writeFileSync(path.join(dir, '.git', 'info', 'exclude'), '# mine\n*.log');
      await ensureCrewboxDir(dir);
      const lines = exclude(path.join(dir, '.git')).split('\n');
      assert.deepEqual(lines.slice(0, 2), ['# mine', '*.log']);
      assert.ok(lines.includes('.crewbox/'));
    });

    it('accepts an anchored pattern only when the workspace is the repository root', async () => {
      mkdirSync(path.join(dir, '.git', 'info'), { recursive: true });
      writeFileSync(path.join(dir, '.git', 'info', 'exclude'), '/.crewbox\n');
      assert.equal((await ensureCrewboxDir(dir)).gitExclude.status, 'present');
      const sub = path.join(dir, 'packages', 'app');
      mkdirSync(sub, { recursive: true });
      assert.equal((await ensureCrewboxDir(sub)).gitExclude.status, 'added');
      assert.deepEqual(excludeLines(path.join(dir, '.git')), ['.crewbox/']);
    });

    it('follows a .git file to a worktree git dir and writes the common dir exclude', async () => {
      const common = path.join(dir, 'main', '.git');
      const wtGitDir = path.join(common, 'worktrees', 'wt');
      mkdirSync(wtGitDir, { recursive: true });
      writeFileSync(path.join(wtGitDir, 'commondir'), '../..\n');
      const wt = path.join(dir, 'wt');
      mkdirSync(wt);
      writeFileSync(path.join(wt, '.git'), `gitdir: ${wtGitDir}\n`);
      const { gitExclude } = await ensureCrewboxDir(wt);
      assert.deepEqual(gitExclude, { status: 'added', file: path.join(common, 'info', 'exclude') });
      assert.ok(!existsSync(path.join(wtGitDir, 'info')));
    });

    it('follows a relative .git file of a submodule (no commondir)', async () => {
      const modDir = path.join(dir, '.git', 'modules', 'sub');
      mkdirSync(modDir, { recursive: true });
      const sub = path.join(dir, 'sub');
      mkdirSync(sub);
      writeFileSync(path.join(sub, '.git'), 'gitdir: ../.git/modules/sub\n');
      assert.deepEqual(await findRepository(sub), { worktree: sub, gitDir: modDir, commonDir: modDir });
      const { gitExclude } = await ensureCrewboxDir(sub);
      assert.deepEqual(gitExclude, { status: 'added', file: path.join(modDir, 'info', 'exclude') });
    });

    it('writes nothing for a .git file whose git dir is gone (a pruned worktree)', async () => {
      writeFileSync(path.join(dir, '.git'), 'gitdir: /nonexistent/crewbox/worktrees/wt\n');
      assert.deepEqual((await ensureCrewboxDir(dir)).gitExclude, { status: 'no_repo' });
      assert.ok(!existsSync('/nonexistent'));
    });

    it('reports an exclude file it cannot write without failing', async () => {
      mkdirSync(path.join(dir, '.git', 'info', 'exclude'), { recursive: true });
      const { paths, gitExclude } = await ensureCrewboxDir(dir);
      assert.ok(statSync(paths.runsDir).isDirectory());
      assert.equal(gitExclude.status, 'failed');
    });

    it('hides .crewbox/ from a real git worktree', async () => {
      const git = (cwd: string, ...args: string[]): string =>
        execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined } });
      const repo = path.join(dir, 'repo');
      mkdirSync(repo);
      git(repo, 'init', '-q');
      writeFileSync(path.join(repo, 'a.txt'), 'a\n');
      git(repo, 'add', 'a.txt');
      git(repo, 'commit', '-q', '-m', 'init');
      const wt = path.join(dir, 'wt');
      git(repo, 'worktree', 'add', '-q', wt);

      const { paths } = await ensureCrewboxDir(wt);
      writeFileSync(path.join(paths.root, 'index.json'), '{}');
      assert.equal(git(wt, 'status', '--porcelain', '--untracked-files=all'), '');
    });
  });
});
