import assert from 'node:assert/strict';
import { isHiddenBelow, resolveWorkspacePath, WORKSPACE_ROOT } from '../../src/core/tools/paths.ts';

function resolved(input: string, access: 'read' | 'write' = 'read'): string {
  const result = resolveWorkspacePath(input, access);
  assert.ok(result.ok, `expected ${JSON.stringify(input)} to resolve, got: ${result.ok ? '' : result.error}`);
  return result.path;
}

function refusal(input: string, access: 'read' | 'write' = 'read'): string {
  const result = resolveWorkspacePath(input, access);
  assert.ok(!result.ok, `expected ${JSON.stringify(input)} to be refused, got ${result.ok ? result.path : ''}`);
  return result.error;
}

describe('resolveWorkspacePath', () => {
  it('normalises relative paths', () => {
    assert.equal(resolved('src/app.ts'), 'src/app.ts');
    assert.equal(resolved('./src/app.ts'), 'src/app.ts');
    assert.equal(resolved('src/../lib/x.ts'), 'lib/x.ts');
    assert.equal(resolved('src//a///b.ts'), 'src/a/b.ts');
    assert.equal(resolved('src/'), 'src');
    assert.equal(resolved('a/./b'), 'a/b');
  });

  it('treats "", "." and the mount point as the root', () => {
    for (const root of ['', '.', './', '/workspace', '/workspace/', 'src/..']) assert.equal(resolved(root), WORKSPACE_ROOT);
  });

  it('accepts /workspace/... absolute paths as workspace-relative', () => {
    assert.equal(resolved('/workspace/src/app.ts'), 'src/app.ts');
    assert.equal(resolved('/workspace/src/../README.md'), 'README.md');
  });

  it('keeps names that only look like dot-dot', () => {
    assert.equal(resolved('..foo/bar'), '..foo/bar');
    assert.equal(resolved('a/..b'), 'a/..b');
  });

  it('refuses escapes with `..`', () => {
    assert.match(refusal('../x'), /outside the workspace/);
    assert.match(refusal('..'), /outside the workspace/);
    assert.match(refusal('a/../../b'), /outside the workspace/);
    assert.match(refusal('./../../etc/passwd'), /outside the workspace/);
  });

  it('refuses absolute paths outside the mount, including ones that normalise out of it', () => {
    assert.match(refusal('/etc/passwd'), /outside the workspace/);
    assert.match(refusal('/workspace/../etc'), /outside the workspace/);
    assert.match(refusal('/workspacefoo/x'), /outside the workspace/);
    assert.match(refusal('//etc/passwd'), /outside the workspace/);
  });

  it('refuses NUL and control characters', () => {
    assert.match(refusal('a\0b'), /NUL/);
    assert.match(refusal('\0'), /NUL/);
    assert.match(refusal('a\nb'), /control character/);
  });

  it('refuses Windows drive paths and backslashes', () => {
    assert.match(refusal('C:\\x'), /backslash/);
    assert.match(refusal('C:/x'), /Windows drive/);
    assert.match(refusal('c:x'), /Windows drive/);
    assert.match(refusal('..\\x'), /backslash/);
    assert.match(refusal('src\\..\\..\\x'), /backslash/);
    assert.match(refusal('\\\\server\\share'), /backslash/);
  });

  it('refuses overlong paths', () => {
    assert.match(refusal('a/'.repeat(3000)), /longer than/);
  });

  it('allows reading .git but refuses writing into it, on any segment and in any case', () => {
    assert.equal(resolved('.git/config'), '.git/config');
    assert.match(refusal('.git/config', 'write'), /"\.git"/);
    assert.match(refusal('.GIT/hooks/pre-commit', 'write'), /may not modify/);
    assert.match(refusal('vendor/lib/.git/hooks/post-checkout', 'write'), /"\.git"/);
    assert.match(refusal('/workspace/.git/HEAD', 'write'), /"\.git"/);
    assert.equal(resolved('.gitignore', 'write'), '.gitignore');
    assert.equal(resolved('src/.github/workflows/ci.yml', 'write'), 'src/.github/workflows/ci.yml');
  });

  it('refuses both reading and writing .crewbox', () => {
    assert.match(refusal('.crewbox/runs/log.jsonl'), /Crewbox's own state/);
    assert.match(refusal('.crewbox'), /Crewbox's own state/);
    assert.match(refusal('.Crewbox/x', 'write'), /may not modify/);
    assert.match(refusal('src/../.crewbox/x', 'write'), /may not modify/);
  });

  it('quotes the offending input in the error', () => {
    assert.match(refusal('../secret'), /"\.\.\/secret"/);
  });
});

describe('isHiddenBelow', () => {
  it('hides .git and .crewbox contents under the browsed directory', () => {
    assert.equal(isHiddenBelow('.', '.git'), true);
    assert.equal(isHiddenBelow('.', '.git/HEAD'), true);
    assert.equal(isHiddenBelow('.', 'sub/.git/config'), true);
    assert.equal(isHiddenBelow('.', '.crewbox/runs'), true);
    assert.equal(isHiddenBelow('.', 'src/app.ts'), false);
    assert.equal(isHiddenBelow('.', '.gitignore'), false);
  });

  it('shows the contents of .git when .git itself is browsed', () => {
    assert.equal(isHiddenBelow('.git', '.git/HEAD'), false);
    assert.equal(isHiddenBelow('.git', '.git/refs/heads'), false);
  });
});

describe('host-safe workspace paths', () => {
  it('refuses a backslash only on a Windows host, where it is a separator', async () => {
    const { isHostSafePath } = await import('../../src/sandbox/store/store-paths.ts');
    assert.equal(isHostSafePath('a\\..\\..\\x', 'linux'), true);
    assert.equal(isHostSafePath('a\\..\\..\\x', 'win32'), false);
    assert.equal(isHostSafePath('src/a.ts', 'win32'), true);
    assert.equal(isHostSafePath('../x', 'linux'), false);
  });
});
