/**
 * Composition root of the core: builds a CrewRuntime from plain options. The
 * CLI and the extension both call this; tests may build RuntimeDeps directly.
 * Keys come from the caller (the extension passes SecretStorage) or the
 * environment; they go to the adapters and the redactor, nowhere else.
 */
import type { ProviderName } from './events/schema.ts';
import { createAdapter, type Env } from './model/adapters/index.ts';
import { BreakerRegistry, breakerKey } from './model/breaker.ts';
import { ModelGateway, type AttemptLimits, type RetryPolicy } from './model/gateway.ts';
import { contextWindowOf, costOf, type PriceOverrides } from './model/pricing.ts';
import { RetryGate } from './model/retry-gate.ts';
import type { ModelAdapter } from './model/types.ts';
import { createRedactor, secretsFromEnv } from './redact.ts';
import { nullLogger, type Logger } from './log/logger.ts';
import type { SandboxPort } from './sandbox/port.ts';
import type { RunFilesPort } from './sandbox/run-files.ts';
import { toolCatalog } from './tools/catalog.ts';
import { CrewRuntime } from './runtime/runtime.ts';
import type { RuntimeDeps } from './runtime/deps.ts';

export interface CoreOptions {
  workspace: string;
  sandbox: SandboxPort;
  /** The Docker sandbox's checkpoint store (absent: no file checkpoints). */
  runFiles?: RunFilesPort;
  /** Keys from the caller (SecretStorage); the environment is the fallback. */
  apiKeys?: Partial<Record<ProviderName, string>>;
  baseURLs?: Partial<Record<ProviderName, string>>;
  env?: Env;
  priceOverrides?: PriceOverrides;
  limits?: Partial<AttemptLimits>;
  retry?: Partial<RetryPolicy>;
  /** Process-wide breakers (one registry per extension host / CLI process). */
  breakers?: BreakerRegistry;
  logger?: Logger;
  now?: () => number;
}

export function createRuntimeDeps(opts: CoreOptions): RuntimeDeps {
  const env = opts.env ?? process.env;
  const breakers = opts.breakers ?? new BreakerRegistry();
  const secrets = [...secretsFromEnv(env), ...Object.values(opts.apiKeys ?? {}).filter((k): k is string => !!k)];
  const redactor = createRedactor({ secrets });
  const adapters = new Map<ProviderName, ModelAdapter>();
  const baseURLOf = (provider: ProviderName): string | undefined =>
    opts.baseURLs?.[provider] ?? env[provider === 'openai' ? 'OPENAI_BASE_URL' : 'ANTHROPIC_BASE_URL'];
  // Adapters are created on first use, so a run that uses one provider never
  // needs the other's key.
  const adapterFor = (provider: ProviderName): ModelAdapter => {
    let adapter = adapters.get(provider);
    if (!adapter) {
      adapter = createAdapter({ provider, apiKey: opts.apiKeys?.[provider], baseURL: opts.baseURLs?.[provider] }, env);
      adapters.set(provider, adapter);
    }
    return adapter;
  };
  return {
    workspace: opts.workspace,
    sandbox: opts.sandbox,
    ...(opts.runFiles ? { runFiles: opts.runFiles } : {}),
    modelsForRun: () =>
      new ModelGateway({
        adapterFor,
        gate: new RetryGate(),
        breakers,
        breakerKeyFor: (provider) => breakerKey(provider, baseURLOf(provider)),
        // Reasoning models can think for minutes before their first token.
        limits: { firstTokenMs: 180_000, ...opts.limits },
        ...(opts.retry ? { retry: opts.retry } : {}),
      }),
    tools: toolCatalog,
    priceOf: (model, usage) => costOf(model, usage, opts.priceOverrides).usd,
    contextWindowOf: (model) => contextWindowOf(model, opts.priceOverrides),
    redact: (value) => redactor.redactDeep(value),
    logger: opts.logger ?? nullLogger,
    now: opts.now ?? Date.now,
  };
}

export function createRuntime(opts: CoreOptions): CrewRuntime {
  return new CrewRuntime(createRuntimeDeps(opts));
}
