/**
 * The sandbox on the real engine with a 20,000-file workspace, each figure
 * beside a baseline measured in the same run:
 * - copy-in into a fresh container (the host index already warm, as for every
 *   run after the first) vs `tar -c | docker cp -` of the same files
 *   (target: <= 1.2x);
 * - per-step checkpoint after a command that changed a few files vs a shadow
 *   git inside the container (`git add -A && git commit` over /workspace),
 *   both through the same channel (target: >= 20x cheaper). As in
 *   workspace.bench.ts, dirty pages are written back (untimed) before each
 *   measured operation: ours syncs its blobs and delta line, and on ext4 a
 *   sync commits the file system's journal, so without it the checkpoint
 *   would pay for writing back the shadow git's 2 MB index and objects from
 *   the step before (git itself never syncs);
 * - cold start (create + set up a container) and warm start (find and reuse
 *   it) vs `docker run -d` and `docker inspect` through the docker CLI.
 * Needs a Docker engine and the sandbox image (see .ci/setup-docker.sh).
 */
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DockerEngine } from '../src/sandbox/docker/engine.ts';
import { ensureContainer, removeSandbox } from '../src/sandbox/container-manager.ts';
import { startSupervisor } from '../src/sandbox/channel/launch.ts';
import { SupervisorLink } from '../src/sandbox/channel/link.ts';
import { ChannelContainerFiles } from '../src/sandbox/channel/container-files-impl.ts';
import { DockerSandbox } from '../src/sandbox/docker-sandbox.ts';
import { createRunFiles } from '../src/sandbox/run-files.ts';
import { generateWorkspace } from './workspace.bench.ts';
import type { BenchModule, BenchRow } from './index.ts';

const FILES = Number(process.env['CREWBOX_BENCH_FILES'] ?? 20_000);
const CHECKPOINT_STEPS = 10;
const START_RUNS = 5;
const signal = new AbortController().signal;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}
/** Writes back every dirty page (untimed), so neither side of a comparison pays for the other's writes. */
function settleDisk(): void {
  execFileSync('sync');
}
async function time(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
const row = (measure: string, ours: number[], baseline: string, theirs: number[]): BenchRow => ({
  measure,
  'p50 ms': quantile(ours, 0.5),
  'p95 ms': quantile(ours, 0.95),
  runs: ours.length,
  baseline,
  'baseline p50 ms': quantile(theirs, 0.5),
  ratio: `${(quantile(theirs, 0.5) / quantile(ours, 0.5)).toFixed(2)}x`,
});

export const dockerWorkspaceBench: BenchModule = {
  name: 'docker-workspace',
  description: `copy-in, checkpoint and container start on the real engine (${FILES.toLocaleString('en-US')}-file workspace)`,
  async run(log) {
    const engine = new DockerEngine();
    await engine.ping();
    const root = mkdtempSync(path.join(tmpdir(), 'crewbox-bench-docker-'));
    const ws = path.join(root, 'workspace');
    mkdirSync(ws);
    const installDir = path.resolve('.');
    const labels = { 'dev.crewbox.test': '1' };
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    const extra: string[] = [];
    try {
      log(`generating ${FILES.toLocaleString('en-US')} files ...`);
      const generated = generateWorkspace(ws);

      // Container start: cold (create and set up) and warm (find and reuse).
      const cold: number[] = [];
      const warm: number[] = [];
      let container = await ensureContainer(engine, { workspace: ws, installDir, network: false, labels });
      const image = container.image;
      for (let i = 0; i < START_RUNS; i++) {
        await removeSandbox(engine, ws);
        cold.push(await time(async () => (container = await ensureContainer(engine, { workspace: ws, installDir, network: false, labels }))));
        warm.push(await time(() => ensureContainer(engine, { workspace: ws, installDir, network: false, labels })));
      }
      const coldBase: number[] = [];
      const warmBase: number[] = [];
      for (let i = 0; i < START_RUNS; i++) {
        let id = '';
        coldBase.push(await time(() => (id = execFileSync('docker', ['run', '-d', '--label', 'dev.crewbox.test=1', '--network', 'none', image], { encoding: 'utf8' }).trim())));
        warmBase.push(await time(() => execFileSync('docker', ['inspect', id], { stdio: 'ignore' })));
        execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
      }
      rows.push(row('cold start (create + set up)', cold, 'docker run -d', coldBase));
      rows.push(row('warm start (find + reuse)', warm, 'docker inspect', warmBase));

      const link = new SupervisorLink(() => startSupervisor(engine, container, { supervisorDir: path.join(installDir, 'sandbox', 'supervisor') }));
      const files = new ChannelContainerFiles(engine, container.id, link);
      const sandbox = new DockerSandbox(link);
      try {
        log('first open: host snapshot (hashing) + copy-in ...');
        const first = await time(() => createRunFiles({ workspace: ws, containerFiles: files }).open({ runId: 'bench-a', step: 0, network: false }, signal));
        extra.push(`First open of a never-seen workspace (hash ${FILES.toLocaleString('en-US')} files + copy-in): ${(first / 1000).toFixed(2)} s.`);

        log('copy-in into an emptied container vs tar | docker cp ...');
        const ours: number[] = [];
        const theirs: number[] = [];
        for (let i = 0; i < 3; i++) {
          await files.clear(signal);
          ours.push(await time(() => createRunFiles({ workspace: ws, containerFiles: files }).open({ runId: `bench-copy-${i}`, step: 0, network: false }, signal)));
          await files.clear(signal);
          theirs.push(await time(() => execSync(`tar --owner=${container.uid} --group=${container.gid} --exclude=./.git --exclude=./node_modules -C ${ws} -cf - . | docker cp - ${container.id}:/workspace`)));
        }
        rows.push(row('copy-in to a fresh /workspace', ours, 'tar -c | docker cp -', theirs));

        log('checkpoints after a small command vs a shadow git in the container ...');
        await files.clear(signal);
        const rf = createRunFiles({ workspace: ws, containerFiles: files });
        await rf.open({ runId: 'bench-cp', step: 0, network: false }, signal);
        const exec = (command: string, callId: string) => sandbox.exec({ command, callId, timeoutMs: 600_000 }, signal);
        await exec('git --git-dir=/tmp/shadow init -q && git --git-dir=/tmp/shadow --work-tree=/workspace add -A && git --git-dir=/tmp/shadow -c user.email=b@b -c user.name=b commit -qm base', 'bench-shadow-init');
        const target = generated.paths.slice(0, 3);
        const cps: number[] = [];
        const shadows: number[] = [];
        for (let i = 1; i <= CHECKPOINT_STEPS; i++) {
          await exec(`for f in ${target.join(' ')}; do echo "// step ${i}" >> "$f"; done; echo ${i} > new-${i}.txt`, `bench-cmd-${i}`);
          settleDisk();
          cps.push(await time(() => rf.checkpoint('bench-cp', i, signal)));
          settleDisk();
          const shadow = await exec(
            'git --git-dir=/tmp/shadow --work-tree=/workspace add -A && git --git-dir=/tmp/shadow -c user.email=b@b -c user.name=b commit -qm step',
            `bench-shadow-${i}`,
          );
          shadows.push(shadow.durationMs);
        }
        rows.push(row('checkpoint after a 4-file command', cps, 'shadow git add -A && commit', shadows));
      } finally {
        await link.close();
      }
      const copy = rows.find((r) => String(r['measure']).startsWith('copy-in'))!;
      const cp = rows.find((r) => String(r['measure']).startsWith('checkpoint'))!;
      const copyRatio = Number(copy['p50 ms']) / Number(copy['baseline p50 ms']);
      const cpRatio = Number(cp['baseline p50 ms']) / Number(cp['p50 ms']);
      notes.push(`Copy-in takes ${copyRatio.toFixed(2)}x the time of tar | docker cp (target <= 1.2x: ${copyRatio <= 1.2 ? 'met' : 'MISSED'}); ours includes checking the host against its index.`);
      notes.push(`Checkpoint is ${cpRatio.toFixed(1)}x cheaper than a shadow git in the container (target >= 20x: ${cpRatio >= 20 ? 'met' : 'MISSED'}).`);
      notes.push(...extra);
    } finally {
      await removeSandbox(engine, ws).catch(() => {});
      rmSync(root, { recursive: true, force: true });
    }
    return { rows, notes };
  },
};
