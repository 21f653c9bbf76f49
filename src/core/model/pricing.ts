/**
 * List prices per model, in USD per million tokens, and context windows.
 *
 * Usage accounting follows the Usage type: `inputTokens` is uncached input,
 * cache reads and writes are counted apart. Providers that do not bill cache
 * writes separately (OpenAI) price them as plain input. Anthropic cache writes
 * use the 5-minute TTL rate (1.25x input).
 *
 * Prices change: settings may override any field of any model, and models
 * missing from the table cost 0 with `known: false`, so the UI can say the cost
 * is unknown rather than free.
 */
import { z } from 'zod';
import type { Usage } from './types.ts';

export const ModelPrice = z.object({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cacheRead: z.number().nonnegative(),
  cacheWrite: z.number().nonnegative(),
  contextWindow: z.number().int().positive().optional(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

/**
 * Settings overrides, keyed by model name (matched like the table). Fields
 * merge over the table entry. For a model absent from the table, `input` and
 * `output` are required; missing cache prices then default to the input price.
 */
export const PriceOverrides = z.record(z.string(), ModelPrice.partial());
export type PriceOverrides = z.infer<typeof PriceOverrides>;

const openai = (input: number, output: number, cacheRead: number, contextWindow: number): ModelPrice => ({
  input,
  output,
  cacheRead,
  cacheWrite: input,
  contextWindow,
});

const anthropic = (input: number, output: number, contextWindow = 200_000): ModelPrice => ({
  input,
  output,
  cacheRead: roundPrice(input * 0.1),
  cacheWrite: roundPrice(input * 1.25),
  contextWindow,
});

function roundPrice(usdPerMillion: number): number {
  return Math.round(usdPerMillion * 1e6) / 1e6;
}

/** Keys are canonical names (see canonicalModelName), or exact ids where a snapshot is priced differently. */
export const PRICE_TABLE: Readonly<Record<string, ModelPrice>> = {
  'gpt-4o': openai(2.5, 10, 1.25, 128_000),
  // The first gpt-4o snapshot kept its launch price and had no cache discount.
  'gpt-4o-2024-05-13': openai(5, 15, 5, 128_000),
  'gpt-4o-mini': openai(0.15, 0.6, 0.075, 128_000),
  'gpt-4.1': openai(2, 8, 0.5, 1_047_576),
  'gpt-4.1-mini': openai(0.4, 1.6, 0.1, 1_047_576),
  'gpt-4.1-nano': openai(0.1, 0.4, 0.025, 1_047_576),
  o1: openai(15, 60, 7.5, 200_000),
  'o3-mini': openai(1.1, 4.4, 0.55, 200_000),
  o3: openai(2, 8, 0.5, 200_000),
  'o4-mini': openai(1.1, 4.4, 0.275, 200_000),
  'gpt-5': openai(1.25, 10, 0.125, 400_000),
  'gpt-5-mini': openai(0.25, 2, 0.025, 400_000),
  'gpt-5-nano': openai(0.05, 0.4, 0.005, 400_000),
  'gpt-5-codex': openai(1.25, 10, 0.125, 400_000),
  'gpt-5.1': openai(1.25, 10, 0.125, 400_000),

  'claude-opus-4-5': anthropic(5, 25),
  'claude-opus-4-1': anthropic(15, 75),
  'claude-opus-4': anthropic(15, 75),
  'claude-opus-4-0': anthropic(15, 75),
  'claude-sonnet-4-6': anthropic(3, 15),
  'claude-sonnet-4-5': anthropic(3, 15),
  'claude-sonnet-4': anthropic(3, 15),
  'claude-sonnet-4-0': anthropic(3, 15),
  'claude-haiku-4-5': anthropic(1, 5),
  'claude-3-7-sonnet': anthropic(3, 15),
  'claude-3-5-sonnet': anthropic(3, 15),
  'claude-3-5-haiku': anthropic(0.8, 4),
  'claude-3-haiku': anthropic(0.25, 1.25),
};

/**
 * The table key for a model id: lower case, without a vendor prefix
 * (`anthropic/…`), a date suffix (`-20250929`, `-2024-08-06`) or `-latest`.
 * Keys must then match exactly, so `gpt-4o-mini` never prices as `gpt-4o`.
 */
export function canonicalModelName(model: string): string {
  return plainName(model).replace(/-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/, '');
}

/** The effective price of a model, or undefined when it is neither in the table nor priced by overrides. */
export function priceOf(model: string, overrides?: PriceOverrides): ModelPrice | undefined {
  const { base, override } = lookup(model, overrides);
  if (base) return { ...base, ...override };
  const { input, output } = override;
  if (input === undefined || output === undefined) return undefined;
  return { cacheRead: input, cacheWrite: input, ...override, input, output };
}

export function costOf(model: string, usage: Usage, overrides?: PriceOverrides): { usd: number; known: boolean } {
  const price = priceOf(model, overrides);
  if (!price) return { usd: 0, known: false };
  const perMillion =
    usage.inputTokens * price.input +
    usage.outputTokens * price.output +
    usage.cacheReadTokens * price.cacheRead +
    usage.cacheWriteTokens * price.cacheWrite;
  return { usd: perMillion / 1_000_000, known: true };
}

/** Context window in tokens, or undefined when unknown. */
export function contextWindowOf(model: string, overrides?: PriceOverrides): number | undefined {
  const { base, override } = lookup(model, overrides);
  return override.contextWindow ?? base?.contextWindow;
}

function plainName(model: string): string {
  return model.trim().toLowerCase().replace(/^.*\//, '');
}

/**
 * The table entry (an exact dated id first, then the canonical name) and the
 * defined override fields for it: overrides keyed by any id of the same
 * canonical name apply, and one keyed by exactly `model` wins over them.
 */
function lookup(model: string, overrides: PriceOverrides = {}): { base: ModelPrice | undefined; override: Partial<ModelPrice> } {
  const name = canonicalModelName(model);
  const base = PRICE_TABLE[plainName(model)] ?? PRICE_TABLE[name];
  let override: Partial<ModelPrice> = {};
  for (const [key, value] of Object.entries(overrides)) {
    if (key !== model && canonicalModelName(key) === name) override = { ...override, ...definedFields(value) };
  }
  const exact = overrides[model];
  if (exact) override = { ...override, ...definedFields(exact) };
  return { base, override };
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
