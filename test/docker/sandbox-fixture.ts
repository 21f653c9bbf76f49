/**
 * A throwaway sandbox container for the Docker suites: the default image with
 * the production hardening (CapDrop ALL, no-new-privileges, network none,
 * non-root user, pids/memory/CPU limits), labelled dev.crewbox.test=1 so a
 * crashed suite's leftovers can be found and removed.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DockerEngine } from '../../src/sandbox/docker/engine.ts';
import { startSupervisor, type Supervisor } from '../../src/sandbox/channel/launch.ts';

export const SANDBOX_IMAGE = process.env['CREWBOX_IMAGE'] ?? 'crewbox-sandbox:latest';
export const SANDBOX_USER = 'crewbox';
export const SUPERVISOR_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'sandbox', 'supervisor');
export const TEST_LABEL = { 'dev.crewbox.test': '1' };

/** `limits`: the container's memory/CPU/pids (default: small test limits; the benches pass the product's DEFAULT_LIMITS). */
export async function createTestContainer(
  engine: DockerEngine,
  suite: string,
  limits: { memoryBytes: number; cpus: number; pids: number } = { memoryBytes: 1024 ** 3, cpus: 1, pids: 256 },
): Promise<string> {
  const id = await engine.createContainer({
    image: SANDBOX_IMAGE,
    user: SANDBOX_USER,
    env: {},
    labels: { ...TEST_LABEL, 'dev.crewbox.test.suite': suite },
    workingDir: '/workspace',
    cmd: ['sleep', 'infinity'],
    network: false,
    memoryBytes: limits.memoryBytes,
    nanoCpus: Math.round(limits.cpus * 1e9),
    pidsLimit: limits.pids,
  });
  await engine.startContainer(id);
  return id;
}

export function startTestSupervisor(engine: DockerEngine, id: string, env?: Record<string, string>): Promise<Supervisor> {
  return startSupervisor(engine, { id, user: SANDBOX_USER }, { supervisorDir: SUPERVISOR_DIR, ...(env ? { env } : {}) });
}

/** Live processes in the container whose command line contains `needle` (zombies excluded). */
export async function processesMatching(engine: DockerEngine, id: string, needle: string): Promise<string[]> {
  const rows = await engine.top(id);
  return rows.map((r) => r['COMMAND'] ?? r['CMD'] ?? r['ARGS'] ?? '').filter((args) => args.includes(needle) && !args.includes('<defunct>'));
}

/** Polls `check` until it returns true (bounded), for effects that land asynchronously. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out waiting for: ${what}`);
}
