/**
 * API keys live in SecretStorage only (never settings.json, never logs); the
 * environment (OPENAI_API_KEY / ANTHROPIC_API_KEY) is the fallback.
 */
import * as vscode from 'vscode';
import type { ProviderName } from '../core/events/schema.ts';
import { ENV_KEY_VARS, PROVIDER_LABELS, resolveApiKey } from './settings.ts';

const secretName = (provider: ProviderName): string => `crewbox.apiKey.${provider}`;

export class ApiKeys {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  async get(provider: ProviderName): Promise<string | undefined> {
    return resolveApiKey(provider, await this.secrets.get(secretName(provider)), this.env);
  }

  async set(provider: ProviderName, key: string): Promise<void> {
    await this.secrets.store(secretName(provider), key.trim());
  }

  async clear(provider: ProviderName): Promise<void> {
    await this.secrets.delete(secretName(provider));
  }
}

/** The Set API Key command: pick the provider, type the key in a password box. Returns whether a key was stored. */
export async function promptForApiKey(keys: ApiKeys, preferred: ProviderName): Promise<boolean> {
  const providers: ProviderName[] = preferred === 'openai' ? ['openai', 'anthropic'] : ['anthropic', 'openai'];
  const picked = await vscode.window.showQuickPick(
    providers.map((p) => ({ label: PROVIDER_LABELS[p], description: p === preferred ? 'configured provider' : '', provider: p })),
    { title: 'Crewbox: Set API Key', placeHolder: 'Which provider is the key for?' },
  );
  if (!picked) return false;
  const key = await vscode.window.showInputBox({
    title: `Crewbox: ${picked.label} API Key`,
    prompt: `Stored in VS Code's secret storage. Leave empty to remove the stored key (${ENV_KEY_VARS[picked.provider]} is then used if set).`,
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return false;
  if (key.trim() === '') {
    await keys.clear(picked.provider);
    void vscode.window.showInformationMessage(`Crewbox: the stored ${picked.label} API key was removed.`);
    return false;
  }
  await keys.set(picked.provider, key);
  void vscode.window.showInformationMessage(`Crewbox: ${picked.label} API key saved.`);
  return true;
}
