/**
 * Builds a real CrewRuntime for tests: the real adapters and SDKs talk to the
 * fake provider server; the sandbox is a scripted double; the store is a temp
 * workspace on disk. Only the edges are doubles.
 */
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ProviderName, RunEvent } from '../../src/core/events/schema.ts';
import { createRuntimeDeps } from '../../src/core/compose.ts';
import { buildRunConfig, type ConfigInput } from '../../src/core/config.ts';
import { CrewRuntime } from '../../src/core/runtime/runtime.ts';
import type { RuntimeDeps } from '../../src/core/runtime/deps.ts';
import type { SandboxPort } from '../../src/core/sandbox/port.ts';
import { startFakeProvider, type FakeProvider } from './fake-provider/index.ts';
import type { Responder } from './fake-provider/types.ts';

export const PROVIDERS: readonly ProviderName[] = ['openai', 'anthropic'];

/** Environment that points both real SDKs at the fake server. */
export function fakeEnv(fake: FakeProvider): Record<string, string> {
  return {
    OPENAI_API_KEY: 'sk-test-openai-0000000000',
    OPENAI_BASE_URL: `${fake.url}/v1`,
    ANTHROPIC_API_KEY: 'sk-ant-test-000000000000',
    ANTHROPIC_BASE_URL: fake.url,
  };
}

export interface Harness {
  workspace: string;
  fake: FakeProvider;
  deps: RuntimeDeps;
  runtime: CrewRuntime;
  /** A fresh runtime over the same workspace (a reloaded window, a new CLI process). */
  restart(): CrewRuntime;
  config(extra?: ConfigInput): ReturnType<typeof buildRunConfig>;
  close(): Promise<void>;
}

export async function createHarness(opts: { provider: ProviderName; respond: Responder; sandbox: SandboxPort; git?: boolean }): Promise<Harness> {
  const workspace = await mkdtemp(path.join(tmpdir(), 'crewbox-ws-'));
  if (opts.git) await mkdir(path.join(workspace, '.git', 'info'), { recursive: true });
  const fake = await startFakeProvider({ respond: opts.respond });
  const makeDeps = () =>
    createRuntimeDeps({
      workspace,
      sandbox: opts.sandbox,
      env: fakeEnv(fake),
      // Keep retries quick in tests; the gateway's own suite covers the policy.
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      limits: { firstTokenMs: 5_000, idleMs: 5_000, totalMs: 20_000 },
    });
  const deps = makeDeps();
  return {
    workspace,
    fake,
    deps,
    runtime: new CrewRuntime(deps),
    restart: () => new CrewRuntime(makeDeps()),
    config: (extra = {}) => buildRunConfig({ provider: opts.provider, model: opts.provider === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5', ...extra }),
    async close() {
      await fake.close();
      await rm(workspace, { recursive: true, force: true });
    },
  };
}

export function ofType<T extends RunEvent['type']>(events: RunEvent[], type: T): Extract<RunEvent, { type: T }>[] {
  return events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
}
