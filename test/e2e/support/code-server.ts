/**
 * Real VS Code for the e2e tier: code-server (installed by
 * .ci/setup-vscode.sh) with a fresh user-data-dir and extensions-dir, the
 * packaged .vsix installed through `--install-extension`, and settings that
 * point Crewbox at the fake provider. Secrets (the API key) reach the
 * extension host only through code-server's environment, never settings.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export interface CodeServerInstall {
  node: string;
  entry: string;
}

/** Where .ci/setup-vscode.sh put Node 24 and code-server (CREWBOX_E2E_DIR, default /opt/crewbox-e2e). */
export function codeServerInstall(): CodeServerInstall {
  const dir = process.env['CREWBOX_E2E_DIR'] ?? '/opt/crewbox-e2e';
  const envFile = path.join(dir, 'env');
  if (!existsSync(envFile)) throw new Error(`${envFile} is missing: run "bash .ci/setup-vscode.sh" first (it installs code-server and Node 24).`);
  const vars = Object.fromEntries(
    readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const node = vars['CREWBOX_E2E_NODE'];
  const entry = vars['CREWBOX_E2E_CODE_SERVER'];
  if (!node || !entry || !existsSync(node) || !existsSync(entry)) throw new Error(`${envFile} names a missing Node or code-server: run "bash .ci/setup-vscode.sh" again.`);
  return { node, entry };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface CodeServerOptions {
  install: CodeServerInstall;
  /** Holds user-data/ and extensions/. */
  stateDir: string;
  vsix: string;
  folder: string;
  settings: Record<string, unknown>;
  /** Added to code-server's environment (the extension host inherits it). */
  env: Record<string, string>;
  /** code-server's stdout and stderr go here. */
  logFile: string;
}

export interface CodeServer {
  url: string;
  userDataDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startCodeServer(o: CodeServerOptions): Promise<CodeServer> {
  const userDataDir = path.join(o.stateDir, 'user-data');
  const extensionsDir = path.join(o.stateDir, 'extensions');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), `${JSON.stringify(o.settings, null, 2)}\n`);
  // Its own config file too, so nothing is written to ~/.config/code-server.
  const common = ['--config', path.join(o.stateDir, 'config.yaml'), '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--disable-telemetry', '--disable-update-check'];
  const baseEnv = { ...process.env, ...o.env };
  delete baseEnv['VSCODE_IPC_HOOK_CLI'];

  execFileSync(o.install.node, [o.install.entry, ...common, '--install-extension', o.vsix, '--force'], { env: baseEnv, stdio: 'pipe', timeout: 120_000 });
  const installed = execFileSync(o.install.node, [o.install.entry, ...common, '--list-extensions', '--show-versions'], { env: baseEnv, encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (!installed.some((l) => l.startsWith('crewbox.crewbox@'))) throw new Error(`the .vsix did not install: ${installed.join(', ')}`);

  const port = await freePort();
  const log: WriteStream = createWriteStream(o.logFile, { flags: 'a' });
  const child = spawn(o.install.node, [o.install.entry, ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, o.folder], {
    env: baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, 60_000, () => child.exitCode !== null);
  return {
    url,
    userDataDir,
    child,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        // code-server forks extension hosts; end the whole process group it leads.
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, 10_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}

async function waitForHttp(url: string, timeoutMs: number, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gaveUp()) throw new Error(`code-server exited before it served ${url}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`code-server did not serve ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
