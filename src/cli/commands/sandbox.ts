/**
 * `crewbox sandbox build|status|rm`: the workspace's sandbox container;
 * `crewbox sandbox gc`: the checkpoint blobs in .crewbox/ (no Docker needed).
 */
import { DockerEngine } from '../../sandbox/docker/engine.ts';
import { buildSandboxImage, removeSandbox, sandboxStatus } from '../../sandbox/container-manager.ts';
import { activeRuns, collectGarbage } from '../../sandbox/store/gc.ts';
import { UsageError, type ParsedCommand } from '../args.ts';
import type { CliIo } from '../io.ts';

export async function sandboxCommand(p: ParsedCommand, io: CliIo): Promise<number> {
  const [action, extra] = p.positionals;
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}".`);
  if (action === 'gc') return gcCommand(p, io);
  const engine = new DockerEngine(io.env);
  await engine.ping();
  switch (action) {
    case 'build': {
      const image = await buildSandboxImage(engine, {
        workspace: p.workspace,
        installDir: io.installDir,
        network: false,
        env: io.env,
        rebuild: true,
        onProgress: (pr) => io.err(`  ${pr.message}`),
      });
      io.out(`Sandbox image ready: ${image.ref}`);
      for (const key of image.ignored) io.err(`devcontainer.json: "${key}" is not supported and was ignored.`);
      for (const w of image.warnings) io.err(w);
      return 0;
    }
    case 'status': {
      const s = await sandboxStatus(engine, p.workspace);
      if (!s.exists) {
        io.out(`No sandbox container for ${p.workspace} yet (one is created by the first run).`);
        return 0;
      }
      io.out(
        [
          `container  ${s.name} (${s.id?.slice(0, 12)})`,
          `state      ${s.running ? 'running' : 'stopped'}${s.setupComplete === false ? ' (setup incomplete: recreated on next use)' : ''}`,
          `image      ${s.image}`,
          `user       ${s.user}`,
          `network    ${s.network ? 'on' : 'off'}`,
          `created    ${s.createdAt ?? '?'}`,
        ].join('\n'),
      );
      return 0;
    }
    case 'rm': {
      const removed = await removeSandbox(engine, p.workspace);
      io.out(removed.length ? `Removed the sandbox container (${removed.map((id) => id.slice(0, 12)).join(', ')}). Runs and checkpoints in .crewbox/ are kept.` : 'No sandbox container to remove.');
      return 0;
    }
    default:
      throw new UsageError('crewbox sandbox needs one of: build, status, rm, gc.');
  }
}

/** Refuses while a run is driven (its blobs are being written); the collector's grace period covers a run that starts meanwhile. */
async function gcCommand(p: ParsedCommand, io: CliIo): Promise<number> {
  const active = await activeRuns(p.workspace);
  if (active.length > 0) {
    io.err(`Not collecting: run${active.length > 1 ? 's' : ''} ${active.join(', ')} ${active.length > 1 ? 'are' : 'is'} in progress. Try again once ${active.length > 1 ? 'they stop' : 'it stops'}.`);
    return 1;
  }
  const r = await collectGarbage(p.workspace);
  const mb = (r.bytesFreed / (1024 * 1024)).toFixed(1);
  io.out(`Removed ${r.looseDeleted} blobs, ${r.packsDeleted} packs, ${r.snapshotsDeleted} snapshots and ${r.tempsDeleted} leftover files (${mb} MB); ${r.blobsKept} blobs kept.`);
  return 0;
}
