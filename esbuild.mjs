// Bundles Crewbox. Prompts (.njk) are inlined with the text loader, so the
// shipped bundles carry every template and read no files at run time.
// Usage: node esbuild.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';
import { buildWebviews } from './webview/build.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/**
 * dockerode → ssh2 loads optional native addons (.node) inside try/catch and
 * falls back to JavaScript without them; leave those requires unresolved.
 */
const optionalNativeAddons = {
  name: 'optional-native-addons',
  setup(build) {
    build.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * The extension is two bundles: dist/extension.cjs (activation: views,
 * commands, settings) and dist/extension-heavy.cjs (core runtime, sandbox,
 * stores), which src/extension/load-heavy.ts requires on first use.
 */
const heavyAsSeparateBundle = {
  name: 'heavy-as-separate-bundle',
  setup(build) {
    build.onResolve({ filter: /^\.\/heavy\.ts$/ }, (args) =>
      /[\\/]src[\\/]extension[\\/]load-heavy\.ts$/.test(args.importer) ? { path: './extension-heavy.cjs', external: true } : undefined,
    );
  },
};

const common = {
  bundle: true,
  plugins: [optionalNativeAddons],
  sourcemap: production ? false : 'linked',
  minify: production,
  legalComments: 'none',
  loader: { '.njk': 'text' },
  // Prefer packages' ESM builds: jsonc-parser's UMD "main" hides its requires from the bundler.
  mainFields: ['module', 'main'],
  logLevel: 'info',
};

/** Each target is built only once its entry exists (the UI lands after the core). */
const targets = [
  {
    // The headless CLI: `crewbox` (package.json "bin").
    entryPoints: ['src/cli/bin.ts'],
    outfile: 'dist/cli.cjs',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    // The VS Code extension host bundle; `vscode` is provided by the editor.
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.cjs',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    plugins: [optionalNativeAddons, heavyAsSeparateBundle],
  },
  {
    // What the extension loads on first use (see heavyAsSeparateBundle).
    entryPoints: ['src/extension/heavy.ts'],
    outfile: 'dist/extension-heavy.cjs',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
  },
].filter((t) => existsSync(t.entryPoints[0]));

if (watch) {
  for (const t of targets) await (await esbuild.context({ ...common, ...t })).watch();
  await buildWebviews({ production, watch: true });
} else {
  // One bundle per webview (dist/webview/), built by webview/build.mjs.
  await Promise.all([...targets.map((t) => esbuild.build({ ...common, ...t })), buildWebviews({ production })]);
}
