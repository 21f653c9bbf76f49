// Bundles the webviews for the browser: one script and one stylesheet per view.
//   webview/chat/main.ts     → <outdir>/chat.js      webview/chat/chat.css       → <outdir>/chat.css
//   webview/history/main.ts  → <outdir>/history.js   webview/history/history.css → <outdir>/history.css
// Each script is a self-contained IIFE (no imports, no eval, no chunks), so the
// page loads it with one nonce'd <script> under a strict CSP.
// Usage: node webview/build.mjs [--production] [--watch] [--outdir <dir>]
// or:    import { buildWebviews } from './webview/build.mjs'
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const here = path.dirname(fileURLToPath(import.meta.url));
export const VIEWS = ['chat', 'history'];

/**
 * zod's namespace re-exports every locale (about 260 kB minified) and a
 * namespace object cannot be tree-shaken. The webviews only ever show zod's
 * English messages (the default), so its locale index is replaced by one
 * that exports `en` alone.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: path.join(path.dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-english-only' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

/** The esbuild options for the webviews; `outdir` defaults to dist/webview at the repo root. */
export function webviewBuildOptions({ outdir = path.join(here, '..', 'dist', 'webview'), production = false } = {}) {
  return {
    entryPoints: VIEWS.flatMap((view) => [
      { in: path.join(here, view, 'main.ts'), out: view },
      { in: path.join(here, view, `${view}.css`), out: view },
    ]),
    outdir,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    // VS Code's Electron is a recent Chromium.
    target: ['chrome120'],
    minify: production,
    sourcemap: production ? false : 'linked',
    legalComments: 'none',
    plugins: [zodEnglishOnly],
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development') },
  };
}

/**
 * The codicon font and its stylesheet (npm @vscode/codicons, the icons VS Code
 * itself uses), copied beside the bundles so a page can load them from its
 * only resource root: <outdir>/codicons/codicon.css and codicon.ttf.
 */
export function copyCodicons(outdir) {
  const from = path.dirname(require.resolve('@vscode/codicons/dist/codicon.css'));
  const to = path.join(outdir, 'codicons');
  mkdirSync(to, { recursive: true });
  for (const file of ['codicon.css', 'codicon.ttf']) copyFileSync(path.join(from, file), path.join(to, file));
}

/**
 * Builds once, or watches when `watch` is set (resolves to the esbuild
 * context then; dispose it to stop). Returns the esbuild result otherwise.
 */
export async function buildWebviews({ outdir, production = false, watch = false } = {}) {
  const options = webviewBuildOptions({ outdir, production });
  copyCodicons(options.outdir);
  if (watch) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
    return ctx;
  }
  return esbuild.build(options);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--outdir');
  await buildWebviews({
    production: args.includes('--production'),
    watch: args.includes('--watch'),
    ...(outIndex >= 0 && args[outIndex + 1] ? { outdir: path.resolve(args[outIndex + 1]) } : {}),
  });
}
