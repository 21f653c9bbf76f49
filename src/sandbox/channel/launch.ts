/**
 * Starts the supervisor in a container: one `docker exec` with stdin attached
 * (the only exec per host connection), then JSON lines over it.
 *
 * The supervisor files go to /opt/crewbox/supervisor-<content hash>/, so a
 * directory is never rewritten while a supervisor of another host process
 * reads it, and a changed supervisor gets a new directory. The exec first
 * checks the directory (exit 99 when it is missing): only then is the bundle
 * copied in with one putArchive and the exec retried, so a warm start costs one
 * exec and nothing else.
 *
 * The supervisor runs as the sandbox user with the container's environment
 * plus CREWBOX_* settings: nothing of the host's environment enters.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerError, isDockerError, type DockerEngine, type ExecSession } from '../docker/engine.ts';
import { packTar, type TarEntry } from '../tar-pack.ts';
import { SandboxChannelError } from './errors.ts';
import { PROTOCOL_VERSION, type SupervisorInfo } from './protocol.ts';
import { RpcClient, type ChannelEnd } from './rpc-client.ts';

export const INSTALL_ROOT = '/opt/crewbox';
const NOT_INSTALLED_EXIT = 99;
const COMMAND_NOT_FOUND_EXIT = 127;
const DEFAULT_READY_TIMEOUT_MS = 20_000;
const LAUNCH_SCRIPT = `[ -f "$1/supervisor.js" ] || exit ${NOT_INSTALLED_EXIT}; exec "$2" "$1/supervisor.js"`;

export interface SupervisorContainer {
  id: string;
  /** User the supervisor and every command run as (e.g. "crewbox" or "1000:1000"). */
  user: string;
  /** Node.js (>= 18) in the container; default `node` on PATH. */
  nodePath?: string;
  /**
   * A directory only the sandbox user writes, on the container's disk and
   * outside /workspace (journal, working directories). Default: the
   * supervisor's $TMPDIR/crewbox-<uid>.
   */
  stateDir?: string;
}

export interface StartSupervisorOptions {
  /** Host folder holding sandbox/supervisor (supervisor.js and its siblings). */
  supervisorDir: string;
  readyTimeoutMs?: number;
  /** Supervisor settings (CREWBOX_* variables, see supervisor.js). */
  env?: Record<string, string>;
  onStderr?: (text: string) => void;
}

export interface Supervisor {
  client: RpcClient;
  info: SupervisorInfo;
  containerId: string;
  /** Ends the channel; the supervisor exits once its running commands finish. */
  close(): Promise<void>;
}

export interface SupervisorBundle {
  version: string;
  files: Array<{ name: string; content: Buffer }>;
}

/** The supervisor's files (*.js and package.json) and a hash of their content. */
export function loadSupervisorBundle(dir: string): SupervisorBundle {
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.js') || n === 'package.json')
    .sort();
  if (!names.includes('supervisor.js')) throw new SandboxChannelError('start_failed', `No supervisor.js in ${dir}.`);
  const files = names.map((name) => ({ name, content: readFileSync(path.join(dir, name)) }));
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.name}\0${f.content.length}\0`).update(f.content);
  return { version: hash.digest('hex').slice(0, 16), files };
}

export async function startSupervisor(engine: DockerEngine, container: SupervisorContainer, options: StartSupervisorOptions): Promise<Supervisor> {
  const bundle = loadSupervisorBundle(options.supervisorDir);
  const installDir = `${INSTALL_ROOT}/supervisor-${bundle.version}`;
  for (let attempt = 1; ; attempt++) {
    const session = await engine.execAttached(container.id, {
      cmd: ['sh', '-c', LAUNCH_SCRIPT, 'crewbox-supervisor', installDir, container.nodePath ?? 'node'],
      user: container.user,
      env: { ...options.env, ...(container.stateDir ? { CREWBOX_STATE_DIR: container.stateDir } : {}), CREWBOX_SUPERVISOR_VERSION: bundle.version },
      workingDir: '/',
    });
    const client = new RpcClient(
      { input: session.stdin, output: session.stdout, stderr: session.stderr },
      { describeLoss: (end) => describeLoss(engine, container.id, session, end), ...(options.onStderr ? { onStderr: options.onStderr } : {}) },
    );
    try {
      const info = await withTimeout(client.ready, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
      if (info.protocol !== PROTOCOL_VERSION) {
        await client.close(1000);
        throw new SandboxChannelError('start_failed', `The sandbox supervisor speaks protocol ${info.protocol}, this Crewbox speaks ${PROTOCOL_VERSION}.`);
      }
      return { client, info, containerId: container.id, close: () => client.close() };
    } catch (e) {
      if (isDockerError(e) || (e instanceof SandboxChannelError && e.code === 'start_failed')) throw e;
      const exit = await exitCodeOf(session);
      if (exit === NOT_INSTALLED_EXIT && attempt === 1) {
        await installBundle(engine, container.id, installDir, bundle);
        continue;
      }
      await client.close(500).catch(() => {});
      throw startFailure(exit, container, e);
    }
  }
}

/** Copies the bundle to `installDir` (created with its parents, root-owned, world-readable). */
export async function installBundle(engine: DockerEngine, containerId: string, installDir: string, bundle: SupervisorBundle): Promise<void> {
  const base = installDir.replace(/^\/+/, '');
  const entries: TarEntry[] = [
    { type: 'directory', name: `${base}/`, mode: 0o755 },
    ...bundle.files.map((f): TarEntry => ({ type: 'file', name: `${base}/${f.name}`, mode: 0o644, size: f.content.length, content: f.content })),
  ];
  await engine.putArchive(containerId, '/', packTar(entries));
}

async function describeLoss(engine: DockerEngine, containerId: string, session: ExecSession, end: ChannelEnd): Promise<Error> {
  const short = containerId.slice(0, 12);
  try {
    const info = await engine.inspectContainer(containerId);
    if (!info.running) return new DockerError('container_gone', `The sandbox container ${short} stopped; it is started again (or recreated) on the next run.`, { cause: end.cause });
  } catch (e) {
    if (isDockerError(e) && e.code === 'container_gone') {
      return new DockerError('container_gone', `The sandbox container ${short} was removed; a new one is created on the next run.`, { cause: end.cause });
    }
    return e instanceof Error ? e : new SandboxChannelError('closed', String(e));
  }
  const exit = await exitCodeOf(session);
  const tail = end.stderrTail.trim().split('\n').slice(-5).join(' | ');
  return new SandboxChannelError('closed', `The sandbox supervisor stopped (exit code ${exit ?? 'unknown'})${tail ? `: ${tail}` : '.'}`, { cause: end.cause });
}

/** The exec's exit code once the engine reports it ended (it may lag the stream's end a little). */
async function exitCodeOf(session: ExecSession): Promise<number | null> {
  for (let i = 0; i < 20; i++) {
    const code = await session.exitCode().catch(() => null);
    if (code !== null) return code;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return null;
}

function startFailure(exit: number | null, container: SupervisorContainer, cause: unknown): SandboxChannelError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  if (exit === COMMAND_NOT_FOUND_EXIT) {
    return new SandboxChannelError(
      'start_failed',
      `The sandbox image has no "${container.nodePath ?? 'node'}" (Node.js 18 or later is needed inside the container to run the Crewbox supervisor). Install Node.js in the image or set the path to a node binary in the container.`,
      { cause },
    );
  }
  return new SandboxChannelError('start_failed', `The Crewbox supervisor did not start in the sandbox (exit code ${exit ?? 'unknown'}): ${detail}`, { cause });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SandboxChannelError('timeout', `The sandbox supervisor was not ready within ${Math.round(ms / 1000)} s.`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
