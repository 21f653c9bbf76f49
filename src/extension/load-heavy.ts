/**
 * Loads heavy.ts once, on first use. The build (esbuild.mjs) maps the
 * `./heavy.ts` import to the separate bundle `./extension-heavy.cjs`; under
 * tsx (tests) it is the TypeScript module itself. A failed load is retried on
 * the next call.
 */
export type Heavy = typeof import('./heavy.ts');

let loading: Promise<Heavy> | undefined;

export function loadHeavy(): Promise<Heavy> {
  loading ??= import('./heavy.ts').catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}
