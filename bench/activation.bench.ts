/**
 * Extension activation and bundle sizes.
 *
 * Activation: each sample is a fresh Node process (bench/activation-child.cjs)
 * that requires the built dist/extension.cjs with `require('vscode')`
 * answered by a recording fake, then calls activate() with a fake
 * ExtensionContext: what VS Code does when a Crewbox view or command is first
 * used. Timed inside the child: load (require of the bundle) and activate().
 * Then the first use that activation defers: resolving the chat view (the
 * fake view gets its HTML) and its first message (`ui/ready`: the protocol's
 * validators load, the handshake is answered).
 * Baseline, in the same run and interleaved with the samples: the same
 * harness loading an empty extension module, i.e. what Node and the harness
 * cost anyway. Reference, also interleaved: a bundle of zod alone (built
 * like the extension), what loading zod costs on this machine now.
 * Target: load + activate ≤ 50 ms (median).
 *
 * Sizes: each shipped bundle raw and gzipped, after `node esbuild.mjs` (what
 * `npm run build` makes: unminified, source maps beside). Contents: the
 * activation bundle's inputs, read from its source map, grouped by package,
 * with a check that zod and the core event schema stay out of it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import type { BenchModule, BenchReport, BenchRow } from './index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = path.join(ROOT, 'bench', 'activation-child.cjs');
const DIST = path.join(ROOT, 'dist');
const SAMPLES = 15;
const TARGET_MS = 50;
const BUNDLES = ['extension.cjs', 'extension-heavy.cjs', 'extension-protocol.cjs', 'webview/chat.js', 'webview/chat.css', 'webview/history.js', 'webview/history.css'];
/** Modules activation must not load: the chat's protocol validation and the runtime load on first use. */
const NOT_AT_ACTIVATION: { label: string; test: RegExp }[] = [
  { label: 'zod', test: /node_modules\/zod\// },
  { label: 'the core event schema', test: /src\/core\/events\/schema\.ts$/ },
  { label: 'the protocol messages', test: /src\/protocol\/messages\.ts$/ },
];

interface ChildResult {
  loadMs: number;
  activateMs: number;
  resolveMs?: number;
  firstMessageMs?: number;
  commands: number;
  views: string[];
  disposables: number;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function runChild(entry: string, resolveChat: boolean): ChildResult {
  // A plain Node: no tsx hooks between the child and the bundle it loads.
  const r = spawnSync(process.execPath, [CHILD, entry, ...(resolveChat ? ['--resolve-chat'] : [])], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) throw new Error(`activation child failed for ${entry} (exit ${r.status}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

function build(log: (line: string) => void): void {
  log('building (node esbuild.mjs)');
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node esbuild.mjs failed: ${r.stderr.trim()}`);
}

/** Inputs of a bundle from its source map, bytes of original source per package (`src/<dir>` for ours). */
function bundleInputs(bundle: string): { sources: string[]; byPackage: Map<string, number> } {
  const map = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
  const sources = map.sources.map((s) => path.relative(ROOT, path.resolve(path.dirname(bundle), s)).split(path.sep).join('/'));
  const byPackage = new Map<string, number>();
  sources.forEach((s, i) => {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(s)?.[1] ?? s.split('/').slice(0, 3).join('/');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + (map.sourcesContent?.[i]?.length ?? 0));
  });
  return { sources, byPackage };
}

export interface ActivationFigures {
  extension: ChildResult[];
  baseline: ChildResult[];
  zodAlone: ChildResult[];
}

/** A CommonJS bundle of zod and an empty activate(), built as the extension is. */
async function buildZodReference(dir: string): Promise<string> {
  const outfile = path.join(dir, 'zod-alone.cjs');
  await esbuild.build({
    stdin: { contents: "export { z } from 'zod';\nexport function activate() {}\n", resolveDir: ROOT, loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  return outfile;
}

export async function measureActivation(samples = SAMPLES, log: (line: string) => void = () => {}): Promise<ActivationFigures> {
  const dir = mkdtempSync(path.join(tmpdir(), 'crewbox-activation-'));
  const empty = path.join(dir, 'empty-extension.cjs');
  writeFileSync(empty, "'use strict';\nexports.activate = function activate() {};\nexports.deactivate = function deactivate() {};\n");
  try {
    const zod = await buildZodReference(dir);
    const extension: ChildResult[] = [];
    const baseline: ChildResult[] = [];
    const zodAlone: ChildResult[] = [];
    // One warm-up of each (the OS file cache), then interleaved so all see the same machine noise.
    runChild(path.join(DIST, 'extension.cjs'), true);
    runChild(empty, false);
    runChild(zod, false);
    for (let i = 0; i < samples; i++) {
      extension.push(runChild(path.join(DIST, 'extension.cjs'), true));
      baseline.push(runChild(empty, false));
      zodAlone.push(runChild(zod, false));
      const e = extension.at(-1)!;
      log(`sample ${i + 1}: load ${e.loadMs.toFixed(1)} ms, activate ${e.activateMs.toFixed(1)} ms, resolve chat ${e.resolveMs?.toFixed(1)} ms, first message ${e.firstMessageMs?.toFixed(1)} ms; baseline ${(baseline.at(-1)!.loadMs + baseline.at(-1)!.activateMs).toFixed(1)} ms`);
    }
    return { extension, baseline, zodAlone };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const activationBench: BenchModule = {
  name: 'activation',
  description: 'extension activation in fresh Node processes (fake vscode) vs an empty extension; bundle sizes',
  async run(log): Promise<BenchReport> {
    const load = loadavg()[0] ?? 0;
    build(log);
    const { extension, baseline, zodAlone } = await measureActivation(SAMPLES, log);
    const first = extension[0]!;
    const total = median(extension.map((r) => r.loadMs + r.activateMs));
    const base = median(baseline.map((r) => r.loadMs + r.activateMs));
    const rows: BenchRow[] = [
      { measure: 'activation: load + activate()', p50_ms: total, baseline_ms: base, ratio: total / base, max_ms: Math.max(...extension.map((r) => r.loadMs + r.activateMs)), samples: extension.length, target_ms: TARGET_MS },
      { measure: '  load (require the bundle)', p50_ms: median(extension.map((r) => r.loadMs)), baseline_ms: median(baseline.map((r) => r.loadMs)) },
      { measure: '  activate()', p50_ms: median(extension.map((r) => r.activateMs)), baseline_ms: median(baseline.map((r) => r.activateMs)) },
      { measure: 'first use: resolve the chat view', p50_ms: median(extension.map((r) => r.resolveMs ?? Number.NaN)) },
      { measure: 'first use: its first message (validators load, ui/ready answered)', p50_ms: median(extension.map((r) => r.firstMessageMs ?? Number.NaN)) },
      { measure: 'reference: a bundle of zod alone', p50_ms: median(zodAlone.map((r) => r.loadMs + r.activateMs)), baseline_ms: base },
    ];
    for (const file of BUNDLES) {
      const full = path.join(DIST, file);
      rows.push({ measure: `size: ${file}`, kb: statSync(full).size / 1024, gzip_kb: gzipSync(readFileSync(full)).length / 1024 });
    }
    const { sources, byPackage } = bundleInputs(path.join(DIST, 'extension.cjs'));
    const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const leaks = NOT_AT_ACTIVATION.filter((m) => sources.some((s) => m.test.test(s))).map((m) => m.label);
    return {
      rows,
      notes: [
        `Activation p50 ${total.toFixed(1)} ms (baseline, an empty extension in the same harness: ${base.toFixed(1)} ms; ratio ${(total / base).toFixed(1)}x): target ${TARGET_MS} ms ${total <= TARGET_MS ? 'met' : 'MISSED'}.`,
        `activate() registered ${first.commands} commands, views ${first.views.join(', ')}, ${first.disposables} disposables.`,
        `dist/extension.cjs is built from ${sources.length} files; largest sources (original bytes): ${top.map(([p, b]) => `${p} ${(b / 1024).toFixed(0)} KB`).join(', ')}.`,
        leaks.length === 0
          ? 'The activation bundle holds none of zod, the core event schema, the protocol messages.'
          : `The activation bundle still holds (parsed at load, even where evaluated later): ${leaks.join(', ')}; they belong to first use.`,
        `Load average when the bench started: ${load.toFixed(2)} (figures from a busy machine run slow).`,
      ],
    };
  },
};
