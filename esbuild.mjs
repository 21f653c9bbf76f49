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
 * The extension is three bundles: dist/extension.cjs (activation: views,
 * commands, settings; no zod) and two that it requires on first use through
 * these dynamic imports, and only these:
 * - dist/extension-heavy.cjs (core runtime, sandbox, stores):
 *   src/extension/load-heavy.ts's `./heavy.ts`;
 * - dist/extension-protocol.cjs (the protocol's validators: zod, the message
 *   schemas, the RunEvent union): src/protocol/host-channel.ts's
 *   `./validate.ts`, with a view's first message. Apart from the heavy bundle
 *   so the handshake does not wait for the runtime to load (a view without a
 *   workspace folder never loads it); the price is zod evaluated twice once
 *   both are loaded.
 */
const LAZY_BUNDLES = [
  { importer: /[\\/]src[\\/]extension[\\/]load-heavy\.ts$/, request: './heavy.ts', bundle: './extension-heavy.cjs' },
  { importer: /[\\/]src[\\/]protocol[\\/]host-channel\.ts$/, request: './validate.ts', bundle: './extension-protocol.cjs' },
];
const lazyBundles = {
  name: 'lazy-bundles',
  setup(build) {
    build.onResolve({ filter: /^\.\/(heavy|validate)\.ts$/ }, (args) => {
      const lazy = LAZY_BUNDLES.find((l) => l.request === args.path && l.importer.test(args.importer));
      return lazy ? { path: lazy.bundle, external: true } : undefined;
    });
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
    plugins: [optionalNativeAddons, lazyBundles],
    // The lazy bundles are CommonJS: `require` them. A native import() of a .cjs file runs Node's
    // cjs-module-lexer over its whole text first (about 130 ms for the 0.8 MB protocol bundle here).
    supported: { 'dynamic-import': false },
  },
  {
    // What the extension loads on first use (see lazyBundles).
    entryPoints: ['src/extension/heavy.ts'],
    outfile: 'dist/extension-heavy.cjs',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
  },
  {
    // The host channel's validators, loaded with a view's first message (see lazyBundles).
    entryPoints: ['src/protocol/validate.ts'],
    outfile: 'dist/extension-protocol.cjs',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
  },
].filter((t) => existsSync(t.entryPoints[0]));

if (watch) {
  for (const t of targets) await (await esbuild.context({ ...common, ...t })).watch();
  await buildWebviews({ production, watch: true });
} else {
  // One bundle per webview (dist/webview/), built by webview/build.mjs.
  await Promise.all([...targets.map((t) => esbuild.build({ ...common, ...t })), buildWebviews({ production })]);
}
