/**
 * The `crewbox.*` settings, read through a getter so this module never sees
 * `vscode`, and their mapping onto the core's RunConfig (the same defaults
 * and assembly as the CLI's flags: core/config-defaults.ts).
 *
 * Contract: reading never throws. A value of the wrong type or range falls
 * back to its default and is reported in `problems` (one sentence each), so a
 * typo in settings.json is explained instead of breaking every run.
 *
 * No zod here: activation reads the settings, and zod with the event schema
 * is half of what a bundle costs to load (bench/activation.bench.ts). The
 * checks below are the ranges package.json declares; the run config they make
 * is validated against the core's RunConfig schema when the runtime starts
 * the run (runtime.ts), exactly as the CLI's flags are (config.ts).
 */
import { assembleRunConfig, DEFAULT_BUDGETS, isProviderName } from '../core/config-defaults.ts';
import type { ProviderName, RunConfig } from '../core/events/schema.ts';

export interface CrewboxSettings {
  provider: ProviderName;
  /** Empty: the provider's default endpoint (or OPENAI_BASE_URL / ANTHROPIC_BASE_URL). */
  baseUrl: string;
  models: { orchestrator: string; developer: string; tester: string };
  maxSteps: number;
  maxCostUsd: number;
  network: boolean;
  requireTesterPass: boolean;
  sandbox: SandboxSettings;
}

/** Where the sandbox comes from and its limits (the container is recreated when these change). */
export interface SandboxSettings {
  /** '': devcontainer.json if the workspace has one, else the default image; 'default': the default image; else an image name. */
  image: string;
  memoryMb: number;
  cpus: number;
  pids: number;
}

/** The product's defaults (src/sandbox/container-config.ts DEFAULT_LIMITS), restated without importing the sandbox. */
export const DEFAULT_SANDBOX: Readonly<SandboxSettings> = { image: '', memoryMb: 4096, cpus: 2, pids: 512 };

export const SETTING_KEYS = {
  provider: 'provider',
  baseUrl: 'baseUrl',
  orchestrator: 'model.orchestrator',
  developer: 'model.developer',
  tester: 'model.tester',
  maxSteps: 'budget.maxSteps',
  maxCostUsd: 'budget.maxCostUsd',
  network: 'sandbox.network',
  requireTesterPass: 'requireTesterPass',
  image: 'sandbox.image',
  memoryMb: 'sandbox.memoryMb',
  cpus: 'sandbox.cpus',
  pids: 'sandbox.pids',
} as const;

/** Where the environment fallback for each provider's key lives (as in the CLI). */
export const ENV_KEY_VARS: Record<ProviderName, string> = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY' };

export const PROVIDER_LABELS: Record<ProviderName, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };

/** `key` is relative to the `crewbox` section, e.g. 'budget.maxSteps'. */
export type SettingGetter = (key: string) => unknown;

export interface SettingsRead {
  settings: CrewboxSettings;
  problems: string[];
}

/** A check of one setting's value (strings arrive trimmed). */
type Accepts<T> = (value: unknown) => value is T;

const MAX_MODEL_NAME = 200;
const isModelName: Accepts<string> = (v): v is string => typeof v === 'string' && v.length <= MAX_MODEL_NAME;
/** Empty, or an absolute http(s) URL. */
const isBaseUrl: Accepts<string> = (v): v is string => typeof v === 'string' && (v === '' || /^https?:$/.test(parsedUrl(v)?.protocol ?? ''));
const isPositiveInteger: Accepts<number> = (v): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isPositiveNumber: Accepts<number> = (v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isBoolean: Accepts<boolean> = (v): v is boolean => typeof v === 'boolean';
/** Empty, "default", or a Docker image reference (no spaces or shell characters). */
const isImageName: Accepts<string> = (v): v is string => typeof v === 'string' && v.length <= 255 && /^(|[a-z0-9][a-z0-9._\-/:@]*)$/i.test(v);
const atLeast = (min: number): Accepts<number> => (v): v is number => typeof v === 'number' && Number.isFinite(v) && v >= min;
const wholeAtLeast = (min: number): Accepts<number> => (v): v is number => Number.isSafeInteger(v) && (v as number) >= min;

function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

export function readSettings(get: SettingGetter): SettingsRead {
  const problems: string[] = [];
  function pick<T>(key: string, accepts: Accepts<T>, fallback: T, expected: string): T {
    const raw = get(key);
    if (raw === undefined || raw === null) return fallback;
    const value = typeof raw === 'string' ? raw.trim() : raw;
    if (accepts(value)) return value;
    problems.push(`The setting crewbox.${key} must be ${expected}; using the default.`);
    return fallback;
  }
  const model = (key: string) => pick(key, isModelName, '', 'a model name');
  return {
    settings: {
      provider: pick(SETTING_KEYS.provider, isProviderName, 'openai', '"openai" or "anthropic"'),
      baseUrl: pick(SETTING_KEYS.baseUrl, isBaseUrl, '', 'an http(s) URL or empty'),
      models: { orchestrator: model(SETTING_KEYS.orchestrator), developer: model(SETTING_KEYS.developer), tester: model(SETTING_KEYS.tester) },
      maxSteps: pick(SETTING_KEYS.maxSteps, isPositiveInteger, DEFAULT_BUDGETS.maxStepsTotal, 'a whole number above 0'),
      maxCostUsd: pick(SETTING_KEYS.maxCostUsd, isPositiveNumber, DEFAULT_BUDGETS.maxCostUsd, 'a number of dollars above 0'),
      network: pick(SETTING_KEYS.network, isBoolean, false, 'true or false'),
      requireTesterPass: pick(SETTING_KEYS.requireTesterPass, isBoolean, true, 'true or false'),
      sandbox: {
        image: pick(SETTING_KEYS.image, isImageName, DEFAULT_SANDBOX.image, 'empty, "default" or an image name'),
        memoryMb: pick(SETTING_KEYS.memoryMb, wholeAtLeast(64), DEFAULT_SANDBOX.memoryMb, 'a whole number of MiB, at least 64'),
        cpus: pick(SETTING_KEYS.cpus, atLeast(0.01), DEFAULT_SANDBOX.cpus, 'a number of CPUs, at least 0.01'),
        pids: pick(SETTING_KEYS.pids, wholeAtLeast(16), DEFAULT_SANDBOX.pids, 'a whole number, at least 16'),
      },
    },
    problems,
  };
}

/**
 * The run's frozen configuration; an empty model setting keeps the provider's
 * default for that role. Not validated here: the runtime parses it with the
 * RunConfig schema when it starts the run.
 */
export function runConfigFrom(s: CrewboxSettings): RunConfig {
  const role = (model: string) => (model ? { model } : {});
  return assembleRunConfig({
    provider: s.provider,
    roles: { orchestrator: role(s.models.orchestrator), developer: role(s.models.developer), tester: role(s.models.tester) },
    budgets: { maxStepsTotal: s.maxSteps, maxCostUsd: s.maxCostUsd },
    requireTesterPass: s.requireTesterPass,
    network: s.network,
  });
}

/** The base URL override for the configured provider only. */
export function baseUrlsFrom(s: CrewboxSettings): Partial<Record<ProviderName, string>> {
  return s.baseUrl ? { [s.provider]: s.baseUrl } : {};
}

/** The stored key wins; the environment variable is the fallback. Blank counts as absent. */
export function resolveApiKey(provider: ProviderName, stored: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const fromStore = stored?.trim();
  if (fromStore) return fromStore;
  const fromEnv = env[ENV_KEY_VARS[provider]]?.trim();
  return fromEnv || undefined;
}

/** What the sandbox session needs from the settings: the image choice and the container's limits. */
export function sandboxOptionsFrom(s: CrewboxSettings): { image?: string; limits: { memoryBytes: number; cpus: number; pids: number } } {
  return {
    ...(s.sandbox.image ? { image: s.sandbox.image } : {}),
    limits: { memoryBytes: s.sandbox.memoryMb * 1024 ** 2, cpus: s.sandbox.cpus, pids: s.sandbox.pids },
  };
}
