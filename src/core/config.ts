/**
 * Run configuration defaults. Settings (extension) and flags (CLI) override
 * these; the result is frozen into the run's first event.
 */
import type { Budgets, ModelSettings, ProviderName, RunConfig } from './events/schema.ts';
import { RunConfig as RunConfigSchema } from './events/schema.ts';

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

export function buildRunConfig(input: ConfigInput = {}): RunConfig {
  const provider = input.provider ?? 'openai';
  const defaults = DEFAULT_MODELS[provider];
  const role = (name: 'orchestrator' | 'developer' | 'tester', fallback: string): ModelSettings => {
    const r = input.roles?.[name] ?? {};
    return { ...r, provider: r.provider ?? provider, model: r.model ?? input.model ?? fallback };
  };
  return RunConfigSchema.parse({
    roles: {
      orchestrator: role('orchestrator', defaults.lead),
      developer: role('developer', defaults.worker),
      tester: role('tester', defaults.worker),
    },
    budgets: { ...DEFAULT_BUDGETS, ...input.budgets },
    requireTesterPass: input.requireTesterPass ?? true,
    network: input.network ?? false,
  });
}
