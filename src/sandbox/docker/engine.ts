/**
 * The one module that imports dockerode. Everything else in Crewbox talks to
 * the Docker Engine through this narrow adapter and gets DockerError, whose
 * code is decided here from structured fields (errno codes, HTTP status),
 * with one user-facing sentence saying what is wrong and how to fix it.
 */
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { PassThrough } from 'node:stream';

export type DockerErrorCode =
  | 'not_installed'
  | 'daemon_down'
  | 'permission'
  | 'image_missing'
  | 'container_gone'
  | 'no_space'
  | 'build_failed'
  | 'engine';

export class DockerError extends Error {
  override readonly name = 'DockerError';
  constructor(readonly code: DockerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isDockerError(e: unknown): e is DockerError {
  return e instanceof DockerError;
}

interface EngineErrorLike {
  code?: string;
  errno?: number;
  statusCode?: number;
  json?: { message?: string } | null;
  message?: string;
}

/** Maps a dockerode / socket failure to a DockerError, from its structured fields. */
export function toDockerError(e: unknown, what: string, host: string): DockerError {
  if (e instanceof DockerError) return e;
  const err = (e ?? {}) as EngineErrorLike;
  const detail = err.json?.message ?? err.message ?? String(e);
  switch (err.code) {
    case 'ENOENT':
      return new DockerError('not_installed', `Docker is not running or not installed: no Docker socket at ${host}. Install Docker and start it (or set DOCKER_HOST).`, { cause: e });
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EPIPE':
      return new DockerError('daemon_down', `The Docker daemon at ${host} is not answering. Start Docker (e.g. "sudo systemctl start docker") and try again.`, { cause: e });
    case 'EACCES':
    case 'EPERM':
      return new DockerError('permission', `Permission denied on the Docker socket ${host}. Add your user to the "docker" group (then log in again) or use rootless Docker.`, { cause: e });
    case 'ENOSPC':
      return new DockerError('no_space', `Docker ran out of disk space while ${what}. Free space (e.g. "docker system prune") and try again.`, { cause: e });
  }
  if (err.statusCode === 404) return new DockerError('container_gone', `${what}: not found (${detail}).`, { cause: e });
  return new DockerError('engine', `Docker failed while ${what}: ${detail}`, { cause: e });
}

export interface ContainerSpec {
  name?: string;
  image: string;
  user: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  workingDir: string;
  cmd: string[];
  network: boolean;
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  /** Read-only bind mounts (host path → container path); never writable. */
  readOnlyMounts?: Array<{ source: string; target: string }>;
  /** Named volumes (name → container path). */
  volumes?: Array<{ name: string; target: string }>;
  tmpfs?: Record<string, string>;
}

export interface ContainerInfo {
  id: string;
  name: string;
  running: boolean;
  labels: Record<string, string>;
  image: string;
  /** What the engine reports, for hardening checks. */
  hostConfig: {
    capDrop: string[];
    securityOpt: string[];
    networkMode: string;
    memory: number;
    nanoCpus: number;
    pidsLimit: number;
    readonlyRootfs: boolean;
    binds: string[];
    privileged: boolean;
  };
  user: string;
}

export interface ExecSession {
  /** Raw hijacked stream: write to the process's stdin. */
  stdin: Duplex;
  /** The process's stdout and stderr, demultiplexed. */
  stdout: Readable;
  stderr: Readable;
  /** Exit code once the process has ended (null while running). */
  exitCode(): Promise<number | null>;
}

export interface ExecOptions {
  cmd: string[];
  user?: string;
  env?: Record<string, string>;
  workingDir?: string;
}

export interface BuildProgress {
  line: string;
}

/** dockerode options for a DOCKER_HOST value (unix://, npipe://, tcp:// with optional TLS, ssh://). */
export function connectionOptions(dockerHost: string | undefined, env: Readonly<Record<string, string | undefined>>): Docker.DockerOptions {
  if (!dockerHost) return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('npipe://')) return { socketPath: dockerHost.slice('npipe://'.length) };
  const url = new URL(dockerHost);
  if (url.protocol === 'ssh:') {
    return { protocol: 'ssh', host: url.hostname, port: Number(url.port || 22), ...(url.username ? { username: url.username } : {}) };
  }
  const tls = Boolean(env['DOCKER_TLS_VERIFY']) && env['DOCKER_TLS_VERIFY'] !== '0';
  const port = Number(url.port || (tls ? 2376 : 2375));
  if (!tls) return { protocol: 'http', host: url.hostname, port };
  const certDir = env['DOCKER_CERT_PATH'] ?? path.join(env['HOME'] ?? '', '.docker');
  return {
    protocol: 'https',
    host: url.hostname,
    port,
    ca: readFileSync(path.join(certDir, 'ca.pem')),
    cert: readFileSync(path.join(certDir, 'cert.pem')),
    key: readFileSync(path.join(certDir, 'key.pem')),
  };
}

export class DockerEngine {
  private readonly docker: Docker;
  readonly host: string;

  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    // DOCKER_HOST is read from the env we are given (not process.env), so the
    // extension and tests decide which engine is used.
    const dockerHost = env['DOCKER_HOST']?.trim() || undefined;
    this.host = dockerHost ?? '/var/run/docker.sock';
    this.docker = new Docker(connectionOptions(dockerHost, env));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toDockerError(e, what, this.host);
    }
  }

  async ping(): Promise<void> {
    await this.call('connecting', () => this.docker.ping());
  }

  async info(): Promise<{ serverVersion: string; rootDir: string }> {
    const info = await this.call('reading engine info', () => this.docker.info());
    return { serverVersion: String(info.ServerVersion ?? ''), rootDir: String(info.DockerRootDir ?? '') };
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (e) {
      const err = toDockerError(e, `inspecting image ${ref}`, this.host);
      if (err.code === 'container_gone') return false;
      throw err;
    }
  }

  /** Image id (sha256:...) of a local image, for configuration hashes. */
  async imageId(ref: string): Promise<string> {
    const info = await this.call(`inspecting image ${ref}`, () => this.docker.getImage(ref).inspect());
    return info.Id;
  }

  /** Builds from a tar of the build context; streams progress lines; throws build_failed with the engine's message. */
  async buildImage(context: Readable, opts: { tag: string; dockerfile: string; buildArgs: Record<string, string> }, onProgress?: (p: BuildProgress) => void): Promise<void> {
    const stream = await this.call(`building image ${opts.tag}`, () =>
      this.docker.buildImage(context, { t: opts.tag, dockerfile: opts.dockerfile, buildargs: opts.buildArgs, rm: true, forcerm: true }),
    );
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null, output: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
          const failed = err ?? output.find((o) => o.error);
          if (!failed) return resolve();
          const message = failed instanceof Error ? failed.message : failed.errorDetail?.message ?? failed.error ?? 'unknown error';
          reject(new DockerError('build_failed', `Building image ${opts.tag} failed: ${message.trim()}`));
        },
        (event: { stream?: string; status?: string }) => {
          const line = (event.stream ?? event.status ?? '').trimEnd();
          if (line) onProgress?.({ line });
        },
      );
    });
  }

  async listContainers(labels: Record<string, string>): Promise<Array<{ id: string; labels: Record<string, string>; running: boolean }>> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const list = await this.call('listing containers', () => this.docker.listContainers({ all: true, filters }));
    return list.map((c) => ({ id: c.Id, labels: c.Labels ?? {}, running: c.State === 'running' }));
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const binds = (spec.readOnlyMounts ?? []).map((m) => `${m.source}:${m.target}:ro`);
    const mounts = (spec.volumes ?? []).map((v) => ({ Type: 'volume' as const, Source: v.name, Target: v.target }));
    const container = await this.call('creating the sandbox container', () =>
      this.docker.createContainer({
        ...(spec.name ? { name: spec.name } : {}),
        Image: spec.image,
        User: spec.user,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: spec.labels,
        WorkingDir: spec.workingDir,
        Cmd: spec.cmd,
        Tty: false,
        OpenStdin: false,
        NetworkDisabled: !spec.network,
        HostConfig: {
          NetworkMode: spec.network ? 'bridge' : 'none',
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          Memory: spec.memoryBytes,
          MemorySwap: spec.memoryBytes,
          NanoCpus: spec.nanoCpus,
          PidsLimit: spec.pidsLimit,
          Privileged: false,
          Binds: binds,
          Mounts: mounts,
          Tmpfs: spec.tmpfs ?? {},
          Init: true,
        },
      }),
    );
    return container.id;
  }

  async inspectContainer(id: string): Promise<ContainerInfo> {
    const c = await this.call(`inspecting container ${id.slice(0, 12)}`, () => this.docker.getContainer(id).inspect());
    const hc = c.HostConfig ?? {};
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      running: Boolean(c.State?.Running),
      labels: c.Config?.Labels ?? {},
      image: c.Config?.Image ?? '',
      user: c.Config?.User ?? '',
      hostConfig: {
        capDrop: hc.CapDrop ?? [],
        securityOpt: hc.SecurityOpt ?? [],
        networkMode: hc.NetworkMode ?? '',
        memory: hc.Memory ?? 0,
        nanoCpus: hc.NanoCpus ?? 0,
        pidsLimit: hc.PidsLimit ?? 0,
        readonlyRootfs: Boolean(hc.ReadonlyRootfs),
        binds: hc.Binds ?? [],
        privileged: Boolean(hc.Privileged),
      },
    };
  }

  async startContainer(id: string): Promise<void> {
    await this.call('starting the sandbox container', async () => {
      try {
        await this.docker.getContainer(id).start();
      } catch (e) {
        // 304: already running.
        if ((e as EngineErrorLike).statusCode !== 304) throw e;
      }
    });
  }

  async removeContainer(id: string): Promise<void> {
    await this.call('removing the sandbox container', async () => {
      try {
        await this.docker.getContainer(id).remove({ force: true, v: false });
      } catch (e) {
        if ((e as EngineErrorLike).statusCode !== 404) throw e;
      }
    });
  }

  async removeVolume(name: string): Promise<void> {
    await this.call(`removing volume ${name}`, async () => {
      try {
        await this.docker.getVolume(name).remove({ force: true });
      } catch (e) {
        if ((e as EngineErrorLike).statusCode !== 404) throw e;
      }
    });
  }

  /** Starts a long-lived process with stdin attached (one hijacked connection). */
  async execAttached(id: string, opts: ExecOptions): Promise<ExecSession> {
    return this.call('starting a process in the sandbox', async () => {
      const exec = await this.docker.getContainer(id).exec({
        Cmd: opts.cmd,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        ...(opts.user ? { User: opts.user } : {}),
        ...(opts.env ? { Env: Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) } : {}),
        ...(opts.workingDir ? { WorkingDir: opts.workingDir } : {}),
      });
      const stream = (await exec.start({ hijack: true, stdin: true })) as unknown as Duplex;
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      this.docker.modem.demuxStream(stream, stdout, stderr);
      stream.on('end', () => {
        stdout.end();
        stderr.end();
      });
      stream.on('close', () => {
        stdout.end();
        stderr.end();
      });
      return {
        stdin: stream,
        stdout,
        stderr,
        exitCode: async () => {
          const info = await exec.inspect();
          return info.Running ? null : info.ExitCode ?? null;
        },
      };
    });
  }

  /** Runs a short command to completion and collects its output (setup tasks, not tool calls). */
  async execCollect(id: string, opts: ExecOptions): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
    const session = await this.execAttached(id, opts);
    session.stdin.end();
    const collect = (s: Readable) =>
      new Promise<string>((resolve) => {
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      });
    const [stdout, stderr] = await Promise.all([collect(session.stdout), collect(session.stderr)]);
    return { exitCode: await session.exitCode(), stdout, stderr };
  }

  /** Extracts a tar stream into a directory of the container (one bulk transfer). */
  async putArchive(id: string, path: string, tar: Readable): Promise<void> {
    await this.call('copying files into the sandbox', () => this.docker.getContainer(id).putArchive(tar, { path }));
  }

  /** A tar stream of a path in the container. */
  async getArchive(id: string, path: string): Promise<Readable> {
    return this.call('copying files out of the sandbox', () => this.docker.getContainer(id).getArchive({ path }) as Promise<Readable>);
  }

  /** Processes running in the container (`docker top`). */
  async top(id: string): Promise<Array<Record<string, string>>> {
    const result = await this.call('listing sandbox processes', () => this.docker.getContainer(id).top({ ps_args: '-eo pid,pgid,user,args' }));
    const titles: string[] = result.Titles ?? [];
    return (result.Processes ?? []).map((row: string[]) => Object.fromEntries(titles.map((t, i) => [t, row[i] ?? ''])));
  }
}
