/** The runtime as the CLI drives it: core + the workspace's Docker sandbox + a file log. */
import { createRuntime } from '../core/compose.ts';
import type { CrewRuntime } from '../core/runtime/runtime.ts';
import { openSandboxSession } from '../sandbox/session.ts';
import type { CliIo } from './io.ts';
import { createFileLogger } from './log-file.ts';

export interface CliRuntime {
  runtime: CrewRuntime;
  close(): Promise<void>;
}

export async function openCliRuntime(io: CliIo, workspace: string, opts: { network: boolean }): Promise<CliRuntime> {
  const logger = createFileLogger(workspace, io.env);
  const session = await openSandboxSession({
    workspace,
    installDir: io.installDir,
    network: opts.network,
    env: io.env,
    onProgress: (p) => io.err(`  … ${p.message}${p.total ? ` (${p.done ?? 0}/${p.total})` : ''}`),
    onCollected: (gc) => logger.info('blob store collection when the sandbox session closed', { gc }),
  });
  const c = session.container;
  logger.info('sandbox ready', { container: c.id.slice(0, 12), image: c.image, user: c.user, network: c.network, created: c.created });
  for (const key of c.ignored) io.err(`devcontainer.json: "${key}" is not supported and was ignored.`);
  for (const warning of c.warnings) io.err(warning);
  const runtime = createRuntime({ workspace, sandbox: session.sandbox, runFiles: session.runFiles, env: io.env, logger });
  return { runtime, close: () => session.close() };
}
