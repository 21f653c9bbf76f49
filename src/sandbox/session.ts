/**
 * Composition of the Docker sandbox for one host process: the engine, the
 * workspace's hardened container, one supervisor channel (restarted if it
 * drops), the SandboxPort for the tools and the RunFiles port for
 * checkpoints. The CLI and the extension both open one of these per run;
 * closing it also collects the workspace's blob store when that is due
 * (store/gc-schedule.ts).
 */
import path from 'node:path';
import type { RunFilesProgress } from '../core/sandbox/run-files.ts';
import { DockerEngine } from './docker/engine.ts';
import { ensureContainer, type SandboxContainer } from './container-manager.ts';
import type { SandboxLimits } from './container-config.ts';
import { startSupervisor } from './channel/launch.ts';
import { SupervisorLink } from './channel/link.ts';
import { ChannelContainerFiles } from './channel/container-files-impl.ts';
import { DockerSandbox } from './docker-sandbox.ts';
import { createRunFiles, type RunFiles } from './run-files.ts';
import { collectIfDue, type ScheduledGc } from './store/gc-schedule.ts';

export interface SandboxSessionOptions {
  workspace: string;
  /** The Crewbox installation (holds sandbox/Dockerfile and sandbox/supervisor/). */
  installDir: string;
  network: boolean;
  /** See SandboxOptions.image and .limits (container-manager.ts). */
  image?: string;
  limits?: Partial<SandboxLimits>;
  /** Read for DOCKER_HOST and CREWBOX_BASE_IMAGE only; never passed into the container. */
  env: Readonly<Record<string, string | undefined>>;
  /** The Node.js binary to copy into images without one (the extension passes its own). */
  hostNode?: string;
  labels?: Record<string, string>;
  onProgress?: (p: RunFilesProgress) => void;
  /** What the scheduled blob collection did when the session closed (for logs). */
  onCollected?: (gc: ScheduledGc | { collected: false; reason: 'failed'; error: unknown }) => void;
  signal?: AbortSignal;
}

export interface SandboxSession {
  engine: DockerEngine;
  container: SandboxContainer;
  sandbox: DockerSandbox;
  runFiles: RunFiles;
  close(): Promise<void>;
}

export async function openSandboxSession(opts: SandboxSessionOptions): Promise<SandboxSession> {
  const engine = new DockerEngine(opts.env);
  await engine.ping();
  const container = await ensureContainer(engine, {
    workspace: opts.workspace,
    installDir: opts.installDir,
    network: opts.network,
    env: opts.env,
    ...(opts.image ? { image: opts.image } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.hostNode ? { hostNode: opts.hostNode } : {}),
    ...(opts.labels ? { labels: opts.labels } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (p) => opts.onProgress?.({ phase: p.phase === 'image' ? 'image' : 'container', message: p.message }),
  });
  const supervisorDir = path.join(opts.installDir, 'sandbox', 'supervisor');
  const link = new SupervisorLink(() =>
    startSupervisor(engine, { id: container.id, user: container.user, nodePath: container.nodePath, stateDir: container.stateDir }, { supervisorDir }),
  );
  const sandbox = new DockerSandbox(link);
  const runFiles = createRunFiles({ workspace: opts.workspace, containerFiles: new ChannelContainerFiles(engine, container.id, link) });
  return {
    engine,
    container,
    sandbox,
    runFiles,
    close: async () => {
      await link.close();
      // The store is collected by itself about once a day (never while a run is driven); a failure only means later.
      const gc = await collectIfDue(opts.workspace).catch((e: unknown) => ({ collected: false as const, reason: 'failed' as const, error: e }));
      opts.onCollected?.(gc);
    },
  };
}
