import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Role } from '../../src/core/events/schema.ts';
import type { ExecRequest, SandboxPort } from '../../src/core/sandbox/port.ts';
import { SandboxToolError } from '../../src/core/sandbox/port.ts';
import { formatExecResult } from '../../src/core/tools/command.ts';
import type { ToolContext, ToolOutcome } from '../../src/core/tools/define.ts';
import { LIST_MAX_ENTRIES, SEARCH_MAX_RESULTS } from '../../src/core/tools/files.ts';
import { prepareCall } from '../../src/core/tools/registry.ts';
import { DirSandbox, readExecLog } from '../support/dir-sandbox.ts';
import { matchGlob } from '../support/glob.ts';
import { MemorySandbox } from '../support/memory-sandbox.ts';

interface RunOptions {
  role?: Role;
  signal?: AbortSignal;
  callId?: string;
  onOutput?: ToolContext['onOutput'];
}

/** Runs a tool call the way the runtime does: prepareCall, then execute. */
async function runTool(sandbox: SandboxPort, name: string, args: Record<string, unknown>, options: RunOptions = {}): Promise<ToolOutcome> {
  const prepared = prepareCall(options.role ?? 'developer', { id: options.callId ?? 'call-1', name, argsText: JSON.stringify(args) });
  assert.ok(prepared.ok, prepared.ok ? '' : prepared.error);
  assert.equal(prepared.tool.kind, 'action');
  if (prepared.tool.kind !== 'action') throw new Error('unreachable');
  return prepared.tool.execute(prepared.args, {
    sandbox,
    signal: options.signal ?? new AbortController().signal,
    callId: options.callId ?? 'call-1',
    ...(options.onOutput ? { onOutput: options.onOutput } : {}),
  });
}

async function ok(sandbox: SandboxPort, name: string, args: Record<string, unknown>, options?: RunOptions): Promise<ToolOutcome> {
  const outcome = await runTool(sandbox, name, args, options);
  assert.equal(outcome.isError, false, outcome.output);
  return outcome;
}

async function fails(sandbox: SandboxPort, name: string, args: Record<string, unknown>, options?: RunOptions): Promise<string> {
  const outcome = await runTool(sandbox, name, args, options);
  assert.equal(outcome.isError, true, `expected an error, got: ${outcome.output}`);
  return outcome.output;
}

const ESCAPES = ['../x', '/etc/passwd', 'a/../../b', 'a\0b', 'C:\\x', '/workspace/../etc'];

describe('file tools', () => {
  describe('read_file', () => {
    const sandbox = new MemorySandbox({
      'src/app.ts': 'one\ntwo\nthree\nfour\nfive\n',
      'empty.txt': '',
      'crlf.txt': 'a\r\nb\r\n',
      'long.txt': 'x'.repeat(2500),
      'bin.dat': 'PNG\0\0data',
      'big.txt': 'y'.repeat(300),
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.crewbox/runs/r1.jsonl': '{}',
    }, { maxFileBytes: 256 * 1024 });

    it('returns the file with line numbers', async () => {
      const { output, meta } = await ok(sandbox, 'read_file', { path: 'src/app.ts' });
      assert.equal(output, '     1\tone\n     2\ttwo\n     3\tthree\n     4\tfour\n     5\tfive');
      assert.deepEqual(meta, { path: 'src/app.ts', totalLines: 5 });
    });

    it('pages with offset and limit and says how to read on', async () => {
      const { output } = await ok(sandbox, 'read_file', { path: './src/app.ts', offset: 2, limit: 2 });
      assert.equal(output, '     2\ttwo\n     3\tthree\n[Lines 2-3 of 5. Use offset=4 to read on.]');
      const tail = await ok(sandbox, 'read_file', { path: 'src/app.ts', offset: 5 });
      assert.equal(tail.output, '     5\tfive');
    });

    it('reports an offset past the end as an error with the line count', async () => {
      assert.match(await fails(sandbox, 'read_file', { path: 'src/app.ts', offset: 9 }), /offset 9 is past the end of src\/app\.ts, which has 5 lines/);
    });

    it('says when a file is empty', async () => {
      assert.equal((await ok(sandbox, 'read_file', { path: 'empty.txt' })).output, '(empty.txt is empty)');
    });

    it('shows CRLF files without carriage returns and shortens very long lines', async () => {
      assert.equal((await ok(sandbox, 'read_file', { path: 'crlf.txt' })).output, '     1\ta\n     2\tb');
      assert.match((await ok(sandbox, 'read_file', { path: 'long.txt' })).output, /\.\.\. \[line shortened; 500 more characters\]$/);
    });

    it('accepts /workspace absolute paths and reads .git', async () => {
      assert.equal((await ok(sandbox, 'read_file', { path: '/workspace/src/app.ts', limit: 1 })).output.split('\n')[0], '     1\tone');
      assert.match((await ok(sandbox, 'read_file', { path: '.git/HEAD' })).output, /refs\/heads\/main/);
    });

    it('turns sandbox errors into error outcomes with their code', async () => {
      const missing = await runTool(sandbox, 'read_file', { path: 'nope.ts' });
      assert.deepEqual(missing, { output: 'File not found: nope.ts', isError: true, meta: { code: 'not_found' } });
      assert.equal((await runTool(sandbox, 'read_file', { path: 'src' })).meta?.code, 'is_directory');
      assert.equal((await runTool(sandbox, 'read_file', { path: 'bin.dat' })).meta?.code, 'binary');
      const small = new MemorySandbox({ 'big.txt': 'y'.repeat(300) }, { maxFileBytes: 100 });
      const large = await runTool(small, 'read_file', { path: 'big.txt' });
      assert.equal(large.meta?.code, 'too_large');
      assert.match(large.output, /300 bytes, over the 100-byte limit/);
    });

    it('refuses paths outside the workspace and .crewbox', async () => {
      for (const path of ESCAPES) assert.match(await fails(sandbox, 'read_file', { path }), /^Path /, path);
      assert.match(await fails(sandbox, 'read_file', { path: '.crewbox/runs/r1.jsonl' }), /Crewbox's own state/);
    });
  });

  describe('write_file', () => {
    it('creates a file with parent directories and reports its size', async () => {
      const sandbox = new MemorySandbox();
      const { output, meta } = await ok(sandbox, 'write_file', { path: 'src/new/mod.ts', content: 'export {};\n// é\n' });
      assert.equal(sandbox.files.get('src/new/mod.ts'), 'export {};\n// é\n');
      assert.equal(output, 'Wrote 17 bytes (2 lines) to src/new/mod.ts.');
      assert.deepEqual(meta, { path: 'src/new/mod.ts', bytes: 17 });
      assert.deepEqual(await sandbox.list('.', 5, new AbortController().signal), [
        { path: 'src', type: 'dir' },
        { path: 'src/new', type: 'dir' },
        { path: 'src/new/mod.ts', type: 'file', size: 17 },
      ]);
    });

    it('replaces an existing file and writes empty content', async () => {
      const sandbox = new MemorySandbox({ 'a.txt': 'old' });
      await ok(sandbox, 'write_file', { path: '/workspace/a.txt', content: '' });
      assert.equal(sandbox.files.get('a.txt'), '');
    });

    it('refuses .git, .crewbox and escapes without touching anything', async () => {
      const sandbox = new MemorySandbox({ '.git/config': '[core]' });
      for (const path of [...ESCAPES, '.git/hooks/pre-commit', '.crewbox/x', 'sub/.GIT/config']) {
        assert.match(await fails(sandbox, 'write_file', { path, content: 'pwned' }), /^Path /, path);
      }
      assert.deepEqual([...sandbox.files.keys()], ['.git/config']);
    });

    it('reports directory conflicts', async () => {
      const sandbox = new MemorySandbox({ 'src/a.ts': '', 'file.txt': '' });
      assert.equal((await runTool(sandbox, 'write_file', { path: 'src', content: 'x' })).meta?.code, 'is_directory');
      assert.equal((await runTool(sandbox, 'write_file', { path: 'file.txt/inner', content: 'x' })).meta?.code, 'not_directory');
      assert.equal((await runTool(sandbox, 'write_file', { path: '.', content: 'x' })).meta?.code, 'is_directory');
    });
  });

  describe('edit_file', () => {
    const file = 'let a = 1;\nlet b = 2;\nlet a2 = 1;\n';

    it('replaces a unique match and reports the line', async () => {
      const sandbox = new MemorySandbox({ 'x.ts': file });
      const { output, meta } = await ok(sandbox, 'edit_file', { path: 'x.ts', old_string: 'let b = 2;', new_string: 'let b = 3;\nlet c = 4;' });
      assert.equal(sandbox.files.get('x.ts'), 'let a = 1;\nlet b = 3;\nlet c = 4;\nlet a2 = 1;\n');
      assert.equal(output, 'Replaced 1 occurrence in x.ts (line 2).');
      assert.deepEqual(meta, { path: 'x.ts', replacements: 1 });
    });

    it('fails on zero matches, says so and leaves the file alone', async () => {
      const sandbox = new MemorySandbox({ 'x.ts': file });
      const error = await fails(sandbox, 'edit_file', { path: 'x.ts', old_string: 'let b = 5;', new_string: 'x' });
      assert.match(error, /not found in x\.ts \(0 matches\)/);
      assert.equal(sandbox.files.get('x.ts'), file);
    });

    it('hints when old_string carries read_file line-number prefixes', async () => {
      const sandbox = new MemorySandbox({ 'x.ts': file });
      assert.match(await fails(sandbox, 'edit_file', { path: 'x.ts', old_string: '     2\tlet b = 2;', new_string: 'x' }), /line-number prefixes/);
    });

    it('fails on several matches without replace_all, saying how many', async () => {
      const sandbox = new MemorySandbox({ 'x.ts': file });
      const error = await fails(sandbox, 'edit_file', { path: 'x.ts', old_string: '= 1;', new_string: '= 9;' });
      assert.match(error, /matches 2 times in x\.ts/);
      assert.match(error, /replace_all/);
      assert.equal(sandbox.files.get('x.ts'), file);
    });

    it('replaces every match with replace_all, literally', async () => {
      const sandbox = new MemorySandbox({ 'x.ts': file });
      const { output } = await ok(sandbox, 'edit_file', { path: 'x.ts', old_string: '= 1;', new_string: "= '$&$1';", replace_all: true });
      assert.equal(sandbox.files.get('x.ts'), "let a = '$&$1';\nlet b = 2;\nlet a2 = '$&$1';\n");
      assert.equal(output, 'Replaced 2 occurrences in x.ts (lines 1, 3).');
    });

    it('counts non-overlapping matches', async () => {
      const sandbox = new MemorySandbox({ 'x.txt': 'aaaa' });
      await ok(sandbox, 'edit_file', { path: 'x.txt', old_string: 'aa', new_string: 'b', replace_all: true });
      assert.equal(sandbox.files.get('x.txt'), 'bb');
    });

    it('matches text copied from the CRLF-less view of a CRLF file, keeping CRLF', async () => {
      const sandbox = new MemorySandbox({ 'w.txt': 'one\r\ntwo\r\nthree\r\n' });
      await ok(sandbox, 'edit_file', { path: 'w.txt', old_string: 'one\ntwo', new_string: 'uno\ndos' });
      assert.equal(sandbox.files.get('w.txt'), 'uno\r\ndos\r\nthree\r\n');
    });

    it('refuses a no-op edit, a missing file, .git and escapes', async () => {
      const sandbox = new MemorySandbox({ 'x.ts': file, '.git/config': 'x' });
      assert.match(await fails(sandbox, 'edit_file', { path: 'x.ts', old_string: 'a', new_string: 'a' }), /identical/);
      assert.equal((await runTool(sandbox, 'edit_file', { path: 'y.ts', old_string: 'a', new_string: 'b' })).meta?.code, 'not_found');
      assert.match(await fails(sandbox, 'edit_file', { path: '.git/config', old_string: 'x', new_string: 'y' }), /may not modify/);
      for (const path of ESCAPES) assert.match(await fails(sandbox, 'edit_file', { path, old_string: 'a', new_string: 'b' }), /^Path /, path);
      assert.equal(sandbox.files.get('.git/config'), 'x');
    });
  });

  describe('list_files', () => {
    const sandbox = new MemorySandbox({
      'README.md': '# hi\n',
      'src/app.ts': 'x',
      'src/lib/util.ts': 'yy',
      'src/lib/deep/z.ts': '',
      '.git/HEAD': 'ref',
      '.crewbox/runs/1.jsonl': '',
      'sub/.git/config': '',
      '.gitignore': 'node_modules\n',
    }).mkdir('empty');

    it('lists two levels by default, sorted, dirs with a slash and files with sizes', async () => {
      const { output } = await ok(sandbox, 'list_files', {});
      assert.equal(output, ['.gitignore (13 bytes)', 'README.md (5 bytes)', 'empty/', 'src/', 'src/app.ts (1 bytes)', 'src/lib/', 'sub/'].join('\n'));
    });

    it('honours path and depth', async () => {
      assert.equal((await ok(sandbox, 'list_files', { path: 'src', depth: 1 })).output, 'src/app.ts (1 bytes)\nsrc/lib/');
      assert.equal((await ok(sandbox, 'list_files', { path: 'src/lib', depth: 5 })).output, 'src/lib/deep/\nsrc/lib/deep/z.ts (0 bytes)\nsrc/lib/util.ts (2 bytes)');
    });

    it('shows .git when asked for it, and says when a directory is empty', async () => {
      assert.equal((await ok(sandbox, 'list_files', { path: '.git' })).output, '.git/HEAD (3 bytes)');
      assert.equal((await ok(sandbox, 'list_files', { path: 'empty' })).output, '(empty is empty)');
    });

    it('reports missing paths, files and escapes', async () => {
      assert.equal((await runTool(sandbox, 'list_files', { path: 'nope' })).meta?.code, 'not_found');
      assert.equal((await runTool(sandbox, 'list_files', { path: 'README.md' })).meta?.code, 'not_directory');
      for (const path of ESCAPES) assert.match(await fails(sandbox, 'list_files', { path }), /^Path /, path);
      assert.match(await fails(sandbox, 'list_files', { path: '.crewbox' }), /Crewbox's own state/);
    });

    it(`shows at most ${LIST_MAX_ENTRIES} entries and says how many were left out`, async () => {
      const files = Object.fromEntries(Array.from({ length: LIST_MAX_ENTRIES + 5 }, (_, i) => [`f${String(i).padStart(4, '0')}.txt`, '']));
      const { output } = await ok(new MemorySandbox(files), 'list_files', { depth: 1 });
      const lines = output.split('\n');
      assert.equal(lines.length, LIST_MAX_ENTRIES + 1);
      assert.match(lines.at(-1) ?? '', /^\[5 more entries not shown/);
    });
  });

  describe('search_files', () => {
    const sandbox = new MemorySandbox({
      'src/app.ts': 'import x from "y";\nfunction main() {}\n',
      'src/lib/util.ts': 'export function helper() {}\n',
      'src/lib/util.test.ts': 'function testHelper() {}\n',
      'docs/guide.md': 'Call main() first.\n',
      'bin.dat': 'function\0',
      '.git/COMMIT_EDITMSG': 'function in git\n',
    });

    it('lists matches as path:line: text', async () => {
      const { output, meta } = await ok(sandbox, 'search_files', { pattern: 'function \\w+\\(' });
      assert.equal(output, ['src/app.ts:2: function main() {}', 'src/lib/util.test.ts:1: function testHelper() {}', 'src/lib/util.ts:1: export function helper() {}'].join('\n'));
      assert.deepEqual(meta, { matches: 3 });
    });

    it('scopes by path and by glob (base name, or relative path when it has a slash)', async () => {
      assert.equal((await ok(sandbox, 'search_files', { pattern: 'main', path: 'docs' })).output, 'docs/guide.md:1: Call main() first.');
      assert.equal((await ok(sandbox, 'search_files', { pattern: 'function', glob: '*.test.ts' })).output, 'src/lib/util.test.ts:1: function testHelper() {}');
      assert.equal((await ok(sandbox, 'search_files', { pattern: 'function', path: 'src', glob: 'lib/*.{ts,js}' })).output.split('\n').length, 2);
      assert.equal((await ok(sandbox, 'search_files', { pattern: 'main', path: 'src/app.ts' })).output, 'src/app.ts:2: function main() {}');
    });

    it('says when nothing matches (not an error)', async () => {
      assert.equal((await ok(sandbox, 'search_files', { pattern: 'zzz', glob: '*.md' })).output, 'No matches for /zzz/ in the workspace (files matching *.md).');
    });

    it('rejects an invalid regular expression', async () => {
      assert.match(await fails(sandbox, 'search_files', { pattern: 'a(b' }), /not a valid regular expression/);
    });

    it('reports a missing path and refuses escapes', async () => {
      assert.equal((await runTool(sandbox, 'search_files', { pattern: 'x', path: 'nope' })).meta?.code, 'not_found');
      for (const path of ESCAPES) assert.match(await fails(sandbox, 'search_files', { pattern: 'x', path }), /^Path /, path);
    });

    it(`shows at most ${SEARCH_MAX_RESULTS} matches and says there were more`, async () => {
      const big = new MemorySandbox({ 'many.txt': 'hit\n'.repeat(SEARCH_MAX_RESULTS + 50) });
      const { output } = await ok(big, 'search_files', { pattern: 'hit' });
      const lines = output.split('\n');
      assert.equal(lines.length, SEARCH_MAX_RESULTS + 1);
      assert.match(lines.at(-1) ?? '', /Only the first 200 matches are shown/);
    });
  });
});

describe('run_command', () => {
  it('runs through the sandbox with the call id and reports exit code and output', async () => {
    const sandbox = new MemorySandbox().onCommand('npm test', () => ({ stdout: '3 passing\n', stderr: 'warn: x\n' }));
    const { output, meta } = await ok(sandbox, 'run_command', { command: 'npm test' }, { callId: 'c-42' });
    assert.equal(output, 'Exit code: 0\n--- stdout ---\n3 passing\n--- stderr ---\nwarn: x');
    assert.deepEqual(sandbox.execs, [{ callId: 'c-42', command: 'npm test' }]);
    assert.equal(meta?.exitCode, 0);
    assert.equal(meta?.timedOut, false);
    assert.equal(meta?.aborted, false);
    assert.equal(typeof meta?.durationMs, 'number');
  });

  it('marks a non-zero exit as an error', async () => {
    const sandbox = new MemorySandbox().onCommand(/^npm run lint/, () => ({ exitCode: 2, stdout: 'bad' }));
    const outcome = await runTool(sandbox, 'run_command', { command: 'npm run lint -- --fix' });
    assert.equal(outcome.isError, true);
    assert.match(outcome.output, /^Exit code: 2\n--- stdout ---\nbad$/);
  });

  it('reports an unknown command as exit 127', async () => {
    const outcome = await runTool(new MemorySandbox(), 'run_command', { command: 'frobnicate --all' });
    assert.equal(outcome.isError, true);
    assert.equal(outcome.meta?.exitCode, 127);
    assert.match(outcome.output, /frobnicate: command not found/);
  });

  it('passes timeout_s to the sandbox in milliseconds, 120 s by default', async () => {
    const requests: ExecRequest[] = [];
    class RecordingSandbox extends MemorySandbox {
      override exec(...call: Parameters<MemorySandbox['exec']>): ReturnType<MemorySandbox['exec']> {
        requests.push(call[0]);
        return super.exec(...call);
      }
    }
    const spy = new RecordingSandbox().onCommand('true', () => ({}));
    await ok(spy, 'run_command', { command: 'true' });
    await ok(spy, 'run_command', { command: 'true', timeout_s: 600 });
    assert.deepEqual(requests.map((r) => r.timeoutMs), [120_000, 600_000]);
  });

  it('streams output chunks to onOutput', async () => {
    const sandbox = new MemorySandbox().onCommand('build', (_cmd, ctx) => {
      ctx.write('stdout', 'step 1\n');
      ctx.write('stderr', 'careful\n');
      return { stdout: 'done\n' };
    });
    const chunks: string[] = [];
    const { output } = await ok(sandbox, 'run_command', { command: 'build' }, { onOutput: (stream, chunk) => chunks.push(`${stream}:${chunk}`) });
    assert.deepEqual(chunks, ['stdout:step 1\n', 'stderr:careful\n', 'stdout:done\n']);
    assert.equal(output, 'Exit code: 0\n--- stdout ---\nstep 1\ndone\n--- stderr ---\ncareful');
  });

  it('ends promptly on abort with aborted: true, and kills the handler', async () => {
    let handlerSignal: AbortSignal | undefined;
    const sandbox = new MemorySandbox().onCommand('sleep forever', (_cmd, ctx) => {
      handlerSignal = ctx.signal;
      ctx.write('stdout', 'partial\n');
      return new Promise(() => {});
    });
    const controller = new AbortController();
    const pending = runTool(sandbox, 'run_command', { command: 'sleep forever' }, { signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    const outcome = await pending;
    assert.equal(outcome.isError, true);
    assert.match(outcome.output, /^Aborted/);
    assert.match(outcome.output, /partial/);
    assert.deepEqual({ ...outcome.meta, durationMs: 0 }, { exitCode: null, timedOut: false, aborted: true, durationMs: 0 });
    assert.equal(handlerSignal?.aborted, true);
  });

  it('does not start a command when already aborted', async () => {
    const sandbox = new MemorySandbox().onCommand('rm -rf build', () => ({}));
    const controller = new AbortController();
    controller.abort();
    const outcome = await runTool(sandbox, 'run_command', { command: 'rm -rf build' }, { signal: controller.signal });
    assert.equal(outcome.meta?.aborted, true);
    assert.equal(sandbox.execCount(), 0);
  });

  it('reports timeouts, the working directory and empty output', () => {
    const base = { exitCode: null, stdout: '', stderr: '', timedOut: true, aborted: false, durationMs: 5 };
    const timedOut = formatExecResult(base, 30);
    assert.equal(timedOut.isError, true);
    assert.match(timedOut.output, /^Timed out after 30 s: the command was killed\./);
    assert.match(timedOut.output, /\(no output\)$/);
    const moved = formatExecResult({ ...base, timedOut: false, exitCode: 0, stdout: 'x', cwd: '/workspace/src' }, 30);
    assert.equal(moved.isError, false);
    assert.equal(moved.output, 'Exit code: 0\nWorking directory: /workspace/src\n--- stdout ---\nx');
    assert.equal(moved.meta?.cwd, '/workspace/src');
    assert.doesNotMatch(formatExecResult({ ...moved, ...base, timedOut: false, exitCode: 0, cwd: '/workspace' }, 1).output, /Working directory/);
  });

  it('lets infrastructure failures through as exceptions', async () => {
    const sandbox = new MemorySandbox().onCommand('x', () => {
      throw new Error('container gone');
    });
    await assert.rejects(runTool(sandbox, 'run_command', { command: 'x' }), /container gone/);
  });
});

describe('sandbox doubles', () => {
  const signal = new AbortController().signal;

  it('time out a slow command with timedOut: true and kill it', async () => {
    let killed: AbortSignal | undefined;
    const sandbox = new MemorySandbox().onCommand('slow', (_cmd, ctx) => {
      killed = ctx.signal;
      return new Promise(() => {});
    });
    const result = await sandbox.exec({ command: 'slow', callId: 'c1', timeoutMs: 5 }, signal);
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, null);
    assert.equal(killed?.aborted, true);
  });

  it('match globs like ripgrep: base name without a slash, relative path with one', () => {
    const cases: Array<[string, string, boolean]> = [
      ['*.ts', 'src/deep/a.ts', true],
      ['*.ts', 'src/a.tsx', false],
      ['src/*.ts', 'src/a.ts', true],
      ['src/*.ts', 'src/deep/a.ts', false],
      ['src/**/*.ts', 'src/a.ts', true],
      ['src/**/*.ts', 'src/x/y/a.ts', true],
      ['**/test/*.ts', 'test/a.ts', true],
      ['*.{ts,js}', 'a.js', true],
      ['file?.txt', 'file1.txt', true],
      ['file?.txt', 'file10.txt', false],
      ['[ab].md', 'b.md', true],
      ['[!ab].md', 'b.md', false],
      ['a+b.txt', 'a+b.txt', true],
      ['a.txt', 'abtxt', false],
    ];
    for (const [glob, path, expected] of cases) assert.equal(matchGlob(glob, path), expected, `${glob} vs ${path}`);
  });

  it('give handlers the files, and refuse non-normalised paths themselves', async () => {
    const sandbox = new MemorySandbox({ 'in.txt': 'data' }).onCommand('cp in.txt out.txt', (_cmd, { files }) => {
      files.set('out.txt', files.get('in.txt') ?? '');
      return {};
    });
    await sandbox.exec({ command: 'cp in.txt out.txt', callId: 'c1', timeoutMs: 1000 }, signal);
    assert.equal(await sandbox.readFile('out.txt', signal), 'data');
    for (const path of ['../x', '/etc/passwd', 'a/./b', 'a//b']) {
      await assert.rejects(sandbox.readFile(path, signal), (e: unknown) => e instanceof SandboxToolError && e.code === 'outside_workspace');
    }
  });

  describe('DirSandbox', () => {
    let sandbox: DirSandbox;
    beforeEach(() => {
      sandbox = new DirSandbox().seed({ 'src/a.ts': 'const a = 1;\n', 'README.md': 'hi\n' });
    });
    afterEach(() => sandbox.dispose());

    it('serves the file tools from a real directory', async () => {
      await ok(sandbox, 'edit_file', { path: 'src/a.ts', old_string: '1', new_string: '2' });
      assert.equal(readFileSync(join(sandbox.root, 'src/a.ts'), 'utf8'), 'const a = 2;\n');
      await ok(sandbox, 'write_file', { path: 'lib/b.ts', content: 'b' });
      assert.equal((await ok(sandbox, 'list_files', {})).output, 'README.md (3 bytes)\nlib/\nlib/b.ts (1 bytes)\nsrc/\nsrc/a.ts (13 bytes)');
      assert.equal((await ok(sandbox, 'search_files', { pattern: 'const', glob: '*.ts' })).output, 'src/a.ts:1: const a = 2;');
      assert.equal((await runTool(sandbox, 'read_file', { path: 'nope' })).meta?.code, 'not_found');
    });

    it('refuses a symlink that leads out of the workspace', async () => {
      const outside = mkdtempSync(join(tmpdir(), 'crewbox-outside-'));
      try {
        writeFileSync(join(outside, 'secret'), 'top secret');
        symlinkSync(outside, join(sandbox.root, 'link'));
        await assert.rejects(sandbox.readFile('link/secret', signal), (e: unknown) => e instanceof SandboxToolError && e.code === 'outside_workspace');
        await assert.rejects(sandbox.writeFile('link/new', 'x', signal), (e: unknown) => e instanceof SandboxToolError && e.code === 'outside_workspace');
        assert.equal(existsSync(join(outside, 'new')), false);
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }
    });

    it('appends every started command to the exec log', async () => {
      sandbox.onCommand('deploy', (_cmd, { files }) => {
        files.set('deployed.txt', 'yes');
        return {};
      });
      await sandbox.exec({ command: 'deploy', callId: 'c1', timeoutMs: 1000 }, signal);
      await sandbox.exec({ command: 'unknown', callId: 'c2', timeoutMs: 1000 }, signal);
      assert.deepEqual(readExecLog(sandbox.execLogPath), [
        { callId: 'c1', command: 'deploy' },
        { callId: 'c2', command: 'unknown' },
      ]);
      assert.equal(readFileSync(join(sandbox.root, 'deployed.txt'), 'utf8'), 'yes');
    });

    it('keeps the exec log across kill -9 of the process running the commands', async function () {
      const script = `${sandbox.root}-child.mts`;
      const moduleUrl = pathToFileURL(join(process.cwd(), 'test/support/dir-sandbox.ts')).href;
      writeFileSync(
        script,
        [
          `import { DirSandbox } from ${JSON.stringify(moduleUrl)};`,
          `const sandbox = new DirSandbox({ root: ${JSON.stringify(sandbox.root)}, execLogPath: ${JSON.stringify(sandbox.execLogPath)} });`,
          `sandbox.onCommand('migrate', (_c, { files }) => { files.set('migrated.txt', '1'); return {}; });`,
          `sandbox.onCommand('serve', () => { process.stdout.write('serving\\n'); return new Promise(() => {}); });`,
          `const signal = new AbortController().signal;`,
          `await sandbox.exec({ command: 'migrate', callId: 'm1', timeoutMs: 60000 }, signal);`,
          `await sandbox.exec({ command: 'serve', callId: 's1', timeoutMs: 60000 }, signal);`,
        ].join('\n'),
      );
      try {
        const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('serving') && resolve());
          child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
        });
        const exited = new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
        child.kill('SIGKILL');
        assert.equal(await exited, 'SIGKILL');
        assert.deepEqual(readExecLog(sandbox.execLogPath), [
          { callId: 'm1', command: 'migrate' },
          { callId: 's1', command: 'serve' },
        ]);
        assert.equal(readFileSync(join(sandbox.root, 'migrated.txt'), 'utf8'), '1');
      } finally {
        rmSync(script, { force: true });
      }
    });

    it('ignores a torn final line in the exec log', () => {
      writeFileSync(sandbox.execLogPath, '{"callId":"a","command":"x"}\n{"callId":"b","comm');
      assert.deepEqual(readExecLog(sandbox.execLogPath), [{ callId: 'a', command: 'x' }]);
    });
  });
});
