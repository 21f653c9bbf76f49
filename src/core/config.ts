/**
 * Run configuration defaults. Settings (extension) and flags (CLI) override
 * these; the result is frozen into the run's first event.
 *
 * The defaults and the assembly live in config-defaults.ts (no zod, so the
 * extension's activation can use them); this module adds the validation.
 */
import type { RunConfig } from './events/schema.ts';
import { RunConfig as RunConfigSchema } from './events/schema.ts';
import { assembleRunConfig, type ConfigInput } from './config-defaults.ts';

export { DEFAULT_BUDGETS, DEFAULT_MODELS, type ConfigInput } from './config-defaults.ts';

/** The defaults with `input` laid over them, validated; throws a ZodError on a bad value. */
export function buildRunConfig(input: ConfigInput = {}): RunConfig {
  return RunConfigSchema.parse(assembleRunConfig(input));
}
