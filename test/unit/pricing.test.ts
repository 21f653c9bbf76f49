import assert from 'node:assert/strict';
import {
  PRICE_TABLE,
  PriceOverrides,
  canonicalModelName,
  contextWindowOf,
  costOf,
  priceOf,
} from '../../src/core/model/pricing.ts';
import type { Usage } from '../../src/core/model/types.ts';

const usage = (u: Partial<Usage>): Usage => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, ...u });
const M = 1_000_000;

function assertUsd(actual: { usd: number; known: boolean }, expected: number): void {
  assert.equal(actual.known, true);
  assert.ok(Math.abs(actual.usd - expected) < 1e-9, `${actual.usd} != ${expected}`);
}

describe('pricing', () => {
  it('prices each token class of a dated Anthropic id', () => {
    const model = 'claude-sonnet-4-5-20250929';
    assertUsd(costOf(model, usage({ inputTokens: M })), 3);
    assertUsd(costOf(model, usage({ outputTokens: M })), 15);
    assertUsd(costOf(model, usage({ cacheReadTokens: M })), 0.3);
    assertUsd(costOf(model, usage({ cacheWriteTokens: M })), 3.75);
    assertUsd(costOf(model, usage({ inputTokens: 2_000, outputTokens: 500, cacheReadTokens: 10_000, cacheWriteTokens: 4_000 })), 0.0315);
  });

  it('prices OpenAI cache reads at the cached rate and dated snapshots like their family', () => {
    assertUsd(costOf('gpt-4o-2024-08-06', usage({ inputTokens: M, outputTokens: M, cacheReadTokens: M })), 2.5 + 10 + 1.25);
    assertUsd(costOf('gpt-4.1-mini-2025-04-14', usage({ inputTokens: M })), 0.4);
  });

  it('never lets a family name match a longer model name', () => {
    assertUsd(costOf('gpt-4o-mini', usage({ inputTokens: M })), 0.15);
    assertUsd(costOf('gpt-5-nano', usage({ outputTokens: M })), 0.4);
    assertUsd(costOf('claude-opus-4-1-20250805', usage({ inputTokens: M })), 15);
    assertUsd(costOf('claude-opus-4-5-20251101', usage({ inputTokens: M })), 5);
    assertUsd(costOf('o3-mini', usage({ inputTokens: M })), 1.1);
  });

  it('uses an exact snapshot entry over its family price', () => {
    assertUsd(costOf('gpt-4o-2024-05-13', usage({ inputTokens: M })), 5);
  });

  it('tolerates case, vendor prefixes and -latest', () => {
    assert.equal(canonicalModelName('Anthropic/Claude-3-7-Sonnet-Latest'), 'claude-3-7-sonnet');
    assert.equal(canonicalModelName('claude-haiku-4-5-20251001'), 'claude-haiku-4-5');
    assert.equal(canonicalModelName('gpt-4.1-2025-04-14'), 'gpt-4.1');
    assertUsd(costOf('claude-3-5-haiku-latest', usage({ outputTokens: M })), 4);
  });

  it('costs an unknown model 0 and says it is unknown', () => {
    assert.deepEqual(costOf('llama-3-70b', usage({ inputTokens: M })), { usd: 0, known: false });
    assert.equal(contextWindowOf('llama-3-70b'), undefined);
  });

  it('merges overrides over the table, for every id of the model', () => {
    const overrides: PriceOverrides = { 'claude-sonnet-4-5': { output: 12 } };
    assertUsd(costOf('claude-sonnet-4-5-20250929', usage({ inputTokens: M, outputTokens: M }), overrides), 3 + 12);
  });

  it('lets an override keyed by the exact id win over one keyed by the family', () => {
    const overrides: PriceOverrides = {
      'gpt-4o-2024-11-20': { input: 1 },
      'gpt-4o': { input: 2, output: 3 },
    };
    assertUsd(costOf('gpt-4o-2024-11-20', usage({ inputTokens: M, outputTokens: M }), overrides), 1 + 3);
    assertUsd(costOf('gpt-4o', usage({ inputTokens: M }), overrides), 2);
  });

  it('prices a model absent from the table when the override gives input and output', () => {
    const overrides: PriceOverrides = { 'my-local-model': { input: 0.5, output: 1.5, contextWindow: 32_768 } };
    assertUsd(costOf('my-local-model', usage({ inputTokens: M, cacheReadTokens: M, cacheWriteTokens: M, outputTokens: M }), overrides), 3);
    assert.equal(contextWindowOf('my-local-model', overrides), 32_768);
    assert.equal(priceOf('other-model', { 'other-model': { input: 1 } }), undefined);
  });

  it('knows context windows, and lets settings override them', () => {
    assert.equal(contextWindowOf('claude-sonnet-4-5-20250929'), 200_000);
    assert.equal(contextWindowOf('gpt-4.1'), 1_047_576);
    assert.equal(contextWindowOf('gpt-5-mini'), 400_000);
    assert.equal(contextWindowOf('claude-sonnet-4-5', { 'claude-sonnet-4-5': { contextWindow: 1_000_000 } }), 1_000_000);
    assert.equal(contextWindowOf('unlisted', { unlisted: { contextWindow: 8_192 } }), 8_192);
  });

  it('validates overrides from settings', () => {
    assert.equal(PriceOverrides.safeParse({ 'gpt-4o': { input: -1 } }).success, false);
    assert.equal(PriceOverrides.safeParse({ 'gpt-4o': { output: 9 } }).success, true);
  });

  it('has a complete, plausible entry for every listed model', () => {
    for (const [model, p] of Object.entries(PRICE_TABLE)) {
      assert.equal(canonicalModelName(model), model.replace(/-\d{4}-\d{2}-\d{2}$/, ''), `${model} is not a canonical key`);
      assert.ok(p.input > 0 && p.output > p.input, `${model}: output should cost more than input`);
      assert.ok(p.cacheRead <= p.input, `${model}: cache reads cost at most plain input`);
      assert.ok(p.cacheWrite >= p.input, `${model}: cache writes cost at least plain input`);
      assert.ok((p.contextWindow ?? 0) >= 100_000, `${model}: context window`);
    }
  });
});
