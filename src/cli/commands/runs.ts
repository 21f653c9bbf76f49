/** `crewbox runs`: the workspace's runs, newest first. */
import { RunIndex } from '../../core/store/run-index.ts';
import { isRunLocked } from '../../core/store/locks.ts';
import { withLiveStatus } from '../../core/store/run-liveness.ts';
import type { ParsedCommand } from '../args.ts';
import type { CliIo } from '../io.ts';

export async function runsCommand(p: ParsedCommand, io: CliIo): Promise<number> {
  const index = await RunIndex.open(p.workspace);
  const runs = await index.list();
  const rows = await withLiveStatus(runs, (id) => isRunLocked(p.workspace, id));
  if (p.values['json'] === true) {
    io.out(JSON.stringify(rows.map((r) => ({ id: r.id, status: r.status, goal: r.goal, created: r.createdAt, tokens: r.tokens, cost: r.costUsd, verdict: r.verdict ?? null, forkOf: r.forkOf ?? null }))));
    return 0;
  }
  if (rows.length === 0) {
    io.out('No runs yet. Start one with: crewbox run "your goal"');
    return 0;
  }
  io.out(['RUN'.padEnd(30), 'STATUS'.padEnd(12), 'VERDICT'.padEnd(8), 'CREATED'.padEnd(20), 'TOKENS'.padStart(9), 'COST'.padStart(9), '  GOAL'].join(' '));
  for (const r of rows) {
    const goal = r.goal.replace(/\s+/g, ' ');
    io.out([r.id.padEnd(30), r.status.padEnd(12), (r.verdict ?? '-').padEnd(8), r.createdAt.slice(0, 19).replace('T', ' ').padEnd(20), String(r.tokens).padStart(9), `$${r.costUsd.toFixed(4)}`.padStart(9), `  ${goal.length > 60 ? `${goal.slice(0, 59)}…` : goal}`].join(' '));
  }
  return 0;
}
