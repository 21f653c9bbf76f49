/**
 * Builds the adapter for a provider. Explicit settings win; otherwise keys and
 * base URLs come from the standard environment variables. `env` is a parameter
 * so callers (the extension, the CLI, tests) decide what the environment is.
 */
import type { ProviderName } from '../../events/schema.ts';
import { ModelError } from '../errors.ts';
import type { ModelAdapter } from '../types.ts';
import { AnthropicAdapter } from './anthropic.ts';
import { OpenAIAdapter } from './openai.ts';

export { AnthropicAdapter, type AnthropicAdapterOptions } from './anthropic.ts';
export { OpenAIAdapter, type OpenAIAdapterOptions } from './openai.ts';

export interface AdapterConfig {
  provider: ProviderName;
  apiKey?: string | undefined;
  /** OpenAI: the API root including `/v1`. Anthropic: the server root. */
  baseURL?: string | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

const ENV_NAMES: Record<ProviderName, { key: string; baseURL: string; label: string }> = {
  openai: { key: 'OPENAI_API_KEY', baseURL: 'OPENAI_BASE_URL', label: 'OpenAI' },
  anthropic: { key: 'ANTHROPIC_API_KEY', baseURL: 'ANTHROPIC_BASE_URL', label: 'Anthropic' },
};

/** Throws ModelError('auth') when no key is configured, before any request is made. */
export function createAdapter(config: AdapterConfig, env: Env = process.env): ModelAdapter {
  const names = ENV_NAMES[config.provider];
  const apiKey = nonEmpty(config.apiKey) ?? nonEmpty(env[names.key]);
  if (apiKey === undefined) {
    throw new ModelError(
      'auth',
      `No ${names.label} API key is configured. Enter one in the Crewbox settings or set the ${names.key} environment variable.`,
      { provider: config.provider },
    );
  }
  const baseURL = nonEmpty(config.baseURL) ?? nonEmpty(env[names.baseURL]);
  switch (config.provider) {
    case 'openai':
      return new OpenAIAdapter({
        apiKey,
        baseURL,
        organization: nonEmpty(env['OPENAI_ORG_ID']),
        project: nonEmpty(env['OPENAI_PROJECT_ID']),
      });
    case 'anthropic':
      return new AnthropicAdapter({ apiKey, baseURL });
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
