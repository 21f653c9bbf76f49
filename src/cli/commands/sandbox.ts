/** `crewbox sandbox build|status|rm`: the workspace's sandbox container. */
import { DockerEngine } from '../../sandbox/docker/engine.ts';
import { buildSandboxImage, removeSandbox, sandboxStatus } from '../../sandbox/container-manager.ts';
import { UsageError, type ParsedCommand } from '../args.ts';
import type { CliIo } from '../io.ts';

export async function sandboxCommand(p: ParsedCommand, io: CliIo): Promise<number> {
  const [action, extra] = p.positionals;
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}".`);
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
      throw new UsageError('crewbox sandbox needs one of: build, status, rm.');
  }
}
