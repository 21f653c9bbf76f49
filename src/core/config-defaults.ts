/**
 * Run configuration defaults and the assembly of a RunConfig from overrides,
 * with no zod: the extension's activation reads settings against these, and
 * must not load zod or the event schema (bench/activation.bench.ts checks the
 * bundle). Only types come from the schema.
 *
 * Contract: `assembleRunConfig` does not validate. Callers that take input
 * from users validate it: config.ts's buildRunConfig parses the result with
 * the RunConfig schema (the CLI), and the runtime parses every config it
 * starts a run with (runtime.ts), so the extension's settings go through the
 * same schema before a run begins.
 */
import type { Budgets, ModelSettings, ProviderName, RunConfig } from './events/schema.ts';

/** Every provider, in the schema's order (ProviderName). */
export const PROVIDER_NAMES = ['openai', 'anthropic'] as const satisfies readonly ProviderName[];

export function isProviderName(value: unknown): value is ProviderName {
  return (PROVIDER_NAMES as readonly unknown[]).includes(value);
}

export const DEFAULT_MODELS: Record<ProviderName, { lead: string; worker: string }> = {
  openai: { lead: 'gpt-4.1', worker: 'gpt-4.1-mini' },
  anthropic: { lead: 'claude-sonnet-4-6', worker: 'claude-haiku-4-5' },
};

export const DEFAULT_BUDGETS: Budgets = {
  maxStepsTotal: 150,
  maxStepsPerAgent: 50,
  maxTokens: 4_000_000,
  maxCostUsd: 5,
  maxWallTimeMs: 60 * 60 * 1000,
};

export interface ConfigInput {
  provider?: ProviderName;
  /** Model for every role unless a role says otherwise. */
  model?: string;
  roles?: Partial<Record<'orchestrator' | 'developer' | 'tester', Partial<ModelSettings>>>;
  budgets?: Partial<Budgets>;
  requireTesterPass?: boolean;
  network?: boolean;
}

/** The defaults with `input` laid over them; not validated (see the contract above). */
export function assembleRunConfig(input: ConfigInput = {}): RunConfig {
  const provider = input.provider ?? 'openai';
  const defaults = DEFAULT_MODELS[provider];
  const role = (name: 'orchestrator' | 'developer' | 'tester', fallback: string): ModelSettings => {
    const r = input.roles?.[name] ?? {};
    return { ...r, provider: r.provider ?? provider, model: r.model ?? input.model ?? fallback };
  };
  return {
    roles: {
      orchestrator: role('orchestrator', defaults.lead),
      developer: role('developer', defaults.worker),
      tester: role('tester', defaults.worker),
    },
    budgets: { ...DEFAULT_BUDGETS, ...input.budgets },
    requireTesterPass: input.requireTesterPass ?? true,
    network: input.network ?? false,
  };
}
