import assert from 'node:assert/strict';
import { DEFAULT_LIMITS } from '../../src/sandbox/container-config.ts';
import { readFileSync } from 'node:fs';
import { DEFAULT_BUDGETS, DEFAULT_MODELS } from '../../src/core/config.ts';
import { PROVIDER_NAMES } from '../../src/core/config-defaults.ts';
import { ProviderName, RunConfig } from '../../src/core/events/schema.ts';
import { DEFAULT_SANDBOX, baseUrlsFrom, readSettings, resolveApiKey, runConfigFrom, sandboxOptionsFrom } from '../../src/extension/settings.ts';

const from = (values: Record<string, unknown>) => (key: string) => values[key];

describe('extension: settings → run config', () => {
  it('uses the defaults when nothing is set', () => {
    const { settings, problems } = readSettings(from({}));
    assert.deepEqual(problems, []);
    const config = runConfigFrom(settings);
    assert.equal(config.roles.orchestrator.provider, 'openai');
    assert.equal(config.roles.orchestrator.model, DEFAULT_MODELS.openai.lead);
    assert.equal(config.roles.developer.model, DEFAULT_MODELS.openai.worker);
    assert.equal(config.budgets.maxStepsTotal, DEFAULT_BUDGETS.maxStepsTotal);
    assert.equal(config.budgets.maxCostUsd, DEFAULT_BUDGETS.maxCostUsd);
    assert.equal(config.network, false);
    assert.equal(config.requireTesterPass, true);
    assert.deepEqual(baseUrlsFrom(settings), {});
  });

  it('maps provider, per-role models, budgets, network and the tester rule', () => {
    const { settings, problems } = readSettings(
      from({
        provider: 'anthropic',
        baseUrl: 'http://127.0.0.1:8080/v1',
        'model.orchestrator': 'claude-opus-4-1',
        'model.developer': '',
        'model.tester': '  claude-haiku-4-5 ',
        'budget.maxSteps': 40,
        'budget.maxCostUsd': 1.5,
        'sandbox.network': true,
        requireTesterPass: false,
      }),
    );
    assert.deepEqual(problems, []);
    const config = runConfigFrom(settings);
    assert.deepEqual(
      Object.values(config.roles).map((r) => [r.provider, r.model]),
      [
        ['anthropic', 'claude-opus-4-1'],
        ['anthropic', DEFAULT_MODELS.anthropic.worker],
        ['anthropic', 'claude-haiku-4-5'],
      ],
    );
    assert.equal(config.budgets.maxStepsTotal, 40);
    assert.equal(config.budgets.maxCostUsd, 1.5);
    assert.equal(config.budgets.maxTokens, DEFAULT_BUDGETS.maxTokens, 'budgets without a setting keep their default');
    assert.equal(config.network, true);
    assert.equal(config.requireTesterPass, false);
    assert.deepEqual(baseUrlsFrom(settings), { anthropic: 'http://127.0.0.1:8080/v1' });
  });

  it('falls back to the default for each bad value and says so in one sentence', () => {
    const { settings, problems } = readSettings(
      from({ provider: 'gemini', baseUrl: 'file:///etc/passwd', 'budget.maxSteps': -3, 'budget.maxCostUsd': 'lots', 'sandbox.network': 'yes' }),
    );
    assert.equal(settings.provider, 'openai');
    assert.equal(settings.baseUrl, '');
    assert.equal(settings.maxSteps, DEFAULT_BUDGETS.maxStepsTotal);
    assert.equal(settings.maxCostUsd, DEFAULT_BUDGETS.maxCostUsd);
    assert.equal(settings.network, false);
    assert.equal(problems.length, 5);
    assert.ok(problems.every((p) => p.startsWith('The setting crewbox.') && p.endsWith('using the default.')));
  });

  // Settings are checked without zod (activation must not load it); these hold the checks to the schema's ranges.
  it('accepts exactly what package.json declares: whole step counts, positive costs, http(s) URLs, short model names', () => {
    const bad = readSettings(
      from({ baseUrl: 'ftp://example.com', 'model.developer': 'm'.repeat(201), 'budget.maxSteps': 1.5, 'budget.maxCostUsd': 0, requireTesterPass: 1 }),
    );
    assert.equal(bad.problems.length, 5, bad.problems.join('\n'));
    const good = readSettings(from({ baseUrl: ' https://proxy.example/v1 ', 'model.developer': 'm'.repeat(200), 'budget.maxSteps': 1, 'budget.maxCostUsd': 0.01 }));
    assert.deepEqual(good.problems, []);
    assert.equal(good.settings.baseUrl, 'https://proxy.example/v1');
  });

  it('makes run configs the runtime accepts (it parses them with the RunConfig schema)', () => {
    assert.deepEqual([...PROVIDER_NAMES], ProviderName.options, 'the zod-free provider list is the schema\'s');
    for (const provider of PROVIDER_NAMES) {
      const { settings } = readSettings(from({ provider, 'model.tester': 'x', 'budget.maxSteps': 7 }));
      const config = runConfigFrom(settings);
      assert.deepEqual(RunConfig.parse(config), config);
    }
  });
});

describe('extension: API key resolution', () => {
  it('prefers the stored key, falls back to the environment, treats blanks as absent', () => {
    const env = { OPENAI_API_KEY: 'sk-env', ANTHROPIC_API_KEY: '  ' };
    assert.equal(resolveApiKey('openai', 'sk-stored', env), 'sk-stored');
    assert.equal(resolveApiKey('openai', undefined, env), 'sk-env');
    assert.equal(resolveApiKey('openai', '   ', env), 'sk-env');
    assert.equal(resolveApiKey('anthropic', undefined, env), undefined);
  });

  it('reads the sandbox image choice and limits, and maps them onto the sandbox options', () => {
    const defaults = readSettings(() => undefined);
    assert.deepEqual(defaults.settings.sandbox, DEFAULT_SANDBOX);
    assert.deepEqual(sandboxOptionsFrom(defaults.settings), { limits: { ...DEFAULT_LIMITS } }, 'the defaults are the product\'s DEFAULT_LIMITS');

    const values: Record<string, unknown> = { 'sandbox.image': ' node:22-bookworm ', 'sandbox.memoryMb': 1024, 'sandbox.cpus': 0.5, 'sandbox.pids': 64 };
    const set = readSettings((k) => values[k]);
    assert.deepEqual(set.problems, []);
    assert.deepEqual(sandboxOptionsFrom(set.settings), { image: 'node:22-bookworm', limits: { memoryBytes: 1024 * 1024 ** 2, cpus: 0.5, pids: 64 } });

    const bad: Record<string, unknown> = { 'sandbox.image': 'x; rm -rf /', 'sandbox.memoryMb': 10, 'sandbox.cpus': 0, 'sandbox.pids': 2.5 };
    const read = readSettings((k) => bad[k]);
    assert.deepEqual(read.settings.sandbox, DEFAULT_SANDBOX);
    assert.equal(read.problems.length, 4);
    assert.ok(read.problems.every((p) => /^The setting crewbox\.sandbox\.\w+ must be /.test(p)), read.problems.join('\n'));
  });

  it('declares the sandbox settings in package.json with the same defaults and minimums', () => {
    const props = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default: unknown; minimum?: number }> } } }).contributes.configuration.properties;
    assert.equal(props['crewbox.sandbox.image']?.default, DEFAULT_SANDBOX.image);
    assert.equal(props['crewbox.sandbox.memoryMb']?.default, DEFAULT_SANDBOX.memoryMb);
    assert.equal(props['crewbox.sandbox.cpus']?.default, DEFAULT_SANDBOX.cpus);
    assert.equal(props['crewbox.sandbox.pids']?.default, DEFAULT_SANDBOX.pids);
    assert.deepEqual([props['crewbox.sandbox.memoryMb']?.minimum, props['crewbox.sandbox.cpus']?.minimum, props['crewbox.sandbox.pids']?.minimum], [64, 0.01, 16]);
  });
});
