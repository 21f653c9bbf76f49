/**
 * Runs the built CLI (dist/cli.cjs) as a real process against a temp copy of a
 * fixture repo, with the fake provider server standing in for the LLM and the
 * real Docker engine underneath.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { FakeProvider } from '../support/fake-provider/index.ts';

export const CLI = path.resolve('dist/cli.cjs');

export function fixtureWorkspace(name: string, opts: { git?: boolean } = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), `crewbox-e2e-${name}-`));
  cpSync(path.resolve('test/fixtures', name), dir, { recursive: true });
  if (opts.git !== false) {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
    git('init', '-q');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '-A');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'fixture');
  }
  return dir;
}

export function cliEnv(fake: FakeProvider, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/root',
    OPENAI_API_KEY: 'sk-e2e-openai-secret-123456',
    OPENAI_BASE_URL: `${fake.url}/v1`,
    ANTHROPIC_API_KEY: 'sk-ant-e2e-secret-123456',
    ANTHROPIC_BASE_URL: fake.url,
    CREWBOX_BASE_IMAGE: process.env['CREWBOX_BASE_IMAGE'] ?? 'crewbox-base:bookworm',
    ...extra,
  };
  if (process.env['DOCKER_HOST']) env['DOCKER_HOST'] = process.env['DOCKER_HOST'];
  return env;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Resolves with the first stdout line matching `test` (JSON events with --json). */
  waitForLine(test: (line: string) => boolean): Promise<string>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ test: (l: string) => boolean; resolve: (l: string) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout += `${line}\n`;
    for (const w of [...waiters]) {
      if (w.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    waitForLine: (test) => new Promise((resolve) => waiters.push({ test, resolve })),
    done,
  };
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return startCli(args, env).done;
}

export function jsonEvents(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function removeWorkspace(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
