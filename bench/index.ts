/**
 * Benchmark runner: `npm run bench [-- <name filter>]`.
 * Runs each registered bench module in turn, prints its rows as a table and
 * its notes, and writes everything to bench/results/latest.json.
 * To add a benchmark: export a BenchModule from bench/<topic>.bench.ts and
 * list it in MODULES.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventLogBench } from './event-log.bench.ts';
import { toolRoundTripBench } from './tool-roundtrip.bench.ts';
import { workspaceBench } from './workspace.bench.ts';
import { dockerWorkspaceBench } from './docker-workspace.bench.ts';
import { webviewBench } from './webview.bench.ts';
import { activationBench } from './activation.bench.ts';

export type BenchValue = string | number;
export type BenchRow = Record<string, BenchValue>;

export interface BenchReport {
  rows: BenchRow[];
  /** Findings in sentences (ratios, targets met or missed). */
  notes: string[];
}

export interface BenchModule {
  name: string;
  description: string;
  run(log: (line: string) => void): Promise<BenchReport>;
}

const MODULES: BenchModule[] = [eventLogBench, toolRoundTripBench, workspaceBench, dockerWorkspaceBench, webviewBench, activationBench];

function formatValue(v: BenchValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v < 10 ? v.toFixed(3) : v < 1000 ? v.toFixed(1) : v.toFixed(0);
}

export function formatTable(rows: BenchRow[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => columns.map((c) => formatValue(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (values: string[]): string =>
    values.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const filter = process.argv[2];
  const selected = MODULES.filter((m) => !filter || m.name.includes(filter));
  if (selected.length === 0) throw new Error(`No bench module matches "${filter}". Known: ${MODULES.map((m) => m.name).join(', ')}`);

  const results: Record<string, BenchReport> = {};
  for (const mod of selected) {
    process.stdout.write(`\n== ${mod.name}: ${mod.description}\n`);
    const report = await mod.run((line) => process.stdout.write(`   ${line}\n`));
    process.stdout.write(`\n${formatTable(report.rows)}\n\n${report.notes.map((n) => `* ${n}`).join('\n')}\n`);
    results[mod.name] = report;
  }

  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');
  mkdirSync(path.dirname(out), { recursive: true });
  const environment = { node: process.version, platform: `${platform()} ${release()}`, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' };
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), environment, results }, null, 2)}\n`);
  process.stdout.write(`\nResults written to ${path.relative(process.cwd(), out)}\n`);
}

await main();
