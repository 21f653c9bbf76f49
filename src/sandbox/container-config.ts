/**
 * What defines a workspace's sandbox container, as pure data: its labels, the
 * hash of its configuration, resource limits, the user and the environment,
 * and the hardened engine spec built from them.
 *
 * Contract:
 * - `workspaceLabel` is the first 16 hex digits of sha256 of the absolute
 *   workspace path: the same folder always finds the same container.
 * - `configHash` changes whenever anything that is fixed at creation changes
 *   (image id, user, env, network, limits, devcontainer settings, setup
 *   version) and never with key order.
 * - The container's environment is only the devcontainer's containerEnv plus
 *   LANG; PATH and HOME come from the image and its passwd entry. Nothing of
 *   the host environment is ever copied in.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ContainerSpec } from './docker/engine.ts';
import { CONTAINER_WORKSPACE } from './devcontainer-vars.ts';
import { SandboxSetupError } from './setup-error.ts';

export const LABELS = {
  workspace: 'dev.crewbox.workspace',
  config: 'dev.crewbox.config',
  /** Host path of the workspace (status output only; never inside the container). */
  workspacePath: 'dev.crewbox.workspace-path',
  createdAt: 'dev.crewbox.created-at',
  user: 'dev.crewbox.user',
  network: 'dev.crewbox.network',
  image: 'dev.crewbox.image',
} as const;

/**
 * Bumped whenever what setup puts into a container changes (directories, node
 * injection, the setup record), so older containers are recreated.
 */
export const SETUP_VERSION = 1;

export interface SandboxLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
}

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = { memoryBytes: 4 * 1024 ** 3, cpus: 2, pids: 512 };

/** The user for the default image (created by sandbox/Dockerfile) and for images that name none. */
export const DEFAULT_IMAGE_USER = 'crewbox';
export const FALLBACK_USER = '1000:1000';

export const BASE_ENV: Readonly<Record<string, string>> = { LANG: 'C.UTF-8' };

export interface ContainerConfig {
  imageRef: string;
  imageId: string;
  user: string;
  env: Record<string, string>;
  network: boolean;
  limits: SandboxLimits;
  /** Honoured devcontainer settings that act after creation (postCreateCommand), or null. */
  devcontainer: unknown;
  setupVersion: number;
}

export function workspaceLabel(workspace: string): string {
  return createHash('sha256').update(path.resolve(workspace)).digest('hex').slice(0, 16);
}

export function containerName(label: string): string {
  return `crewbox-${label}`;
}

export function resolveLimits(overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  const limits = { ...DEFAULT_LIMITS, ...definedOnly(overrides) };
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new SandboxSetupError('invalid_limits', `Sandbox limit ${what}.`);
  };
  check(Number.isSafeInteger(limits.memoryBytes) && limits.memoryBytes >= 64 * 1024 ** 2, `memory must be a whole number of bytes of at least 64 MiB (got ${limits.memoryBytes})`);
  check(Number.isFinite(limits.cpus) && limits.cpus >= 0.01, `cpus must be at least 0.01 (got ${limits.cpus})`);
  check(Number.isSafeInteger(limits.pids) && limits.pids >= 16, `pids must be a whole number of at least 16 (got ${limits.pids})`);
  return limits;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The container environment: LANG plus the devcontainer's containerEnv (which may override LANG). */
export function sandboxEnv(containerEnv: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { ...BASE_ENV, ...containerEnv };
}

/** A user spec ("name", "uid", "name:group", "uid:gid") split into its parts. */
export function parseUserSpec(spec: string): { user: string; group?: string } {
  const colon = spec.indexOf(':');
  if (colon < 0) return { user: spec };
  return { user: spec.slice(0, colon), group: spec.slice(colon + 1) };
}

/** Refuses root by name or uid before anything is created; uid 0 under another name is caught after reading passwd. */
export function assertNotRoot(spec: string, source: string): void {
  const { user } = parseUserSpec(spec);
  if (user === 'root' || /^0+$/.test(user)) {
    throw new SandboxSetupError('root_user', `${source} asks for the user "${spec}", but the sandbox never runs as root; set a non-root remoteUser (or remove it to use ${FALLBACK_USER}).`);
  }
}

/** Key-order independent JSON, for hashing. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function configHash(config: ContainerConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 32);
}

/**
 * The engine spec: hardening (all capabilities dropped, no-new-privileges,
 * network none unless asked, limits) is applied by the engine adapter for
 * every container; this adds no mounts at all, so neither the Docker socket
 * nor any host path is visible inside.
 */
export function containerSpec(config: ContainerConfig, labels: Record<string, string>, name: string): ContainerSpec {
  return {
    name,
    image: config.imageId,
    user: config.user,
    env: { ...config.env },
    labels,
    workingDir: CONTAINER_WORKSPACE,
    cmd: ['sleep', 'infinity'],
    network: config.network,
    memoryBytes: config.limits.memoryBytes,
    nanoCpus: Math.round(config.limits.cpus * 1e9),
    pidsLimit: config.limits.pids,
  };
}
