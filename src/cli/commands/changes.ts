/**
 * `crewbox diff`, `apply` and `rollback`: the run's proposed change, read from
 * the checkpoints in .crewbox/ (no container needed), applied to the host only
 * on request and never over the user's own edits unless forced.
 */
import { isDiscarded } from '../../core/store/discarded.ts';
import { readRunLog } from '../../core/store/event-log.ts';
import { crewboxPaths } from '../../core/store/layout.ts';
import { createRuntime } from '../../core/compose.ts';
import { applyChange } from '../../sandbox/diff/apply.ts';
import { proposedChange } from '../../sandbox/diff/proposed-change.ts';
import { CheckpointStore } from '../../sandbox/store/checkpoints.ts';
import { UnavailableSandbox } from '../../sandbox/unavailable.ts';
import { requireRunId, UsageError, type ParsedCommand } from '../args.ts';
import type { CliIo } from '../io.ts';

export async function diffCommand(p: ParsedCommand, io: CliIo): Promise<number> {
  const runId = requireRunId(p);
  const change = await proposedChange(p.workspace, runId);
  if (change.files.length === 0) {
    io.err(`Run ${runId} proposes no change.`);
    return 0;
  }
  io.out(change.unifiedDiff.replace(/\n$/, ''));
  io.err(`${change.files.length} file(s) changed, ${change.additions} insertion(s), ${change.deletions} deletion(s).`);
  return 0;
}

export async function applyCommand(p: ParsedCommand, io: CliIo): Promise<number> {
  const runId = requireRunId(p);
  const paths = Array.isArray(p.values['path']) ? p.values['path'] : undefined;
  if (await isDiscarded(p.workspace, runId)) {
    io.err(`Run ${runId} was discarded; its changes are no longer applied. Roll back to one of its steps ("crewbox rollback ${runId} --to STEP") to work from it again.`);
    return 1;
  }
  const result = await applyChange(p.workspace, runId, { ...(paths ? { paths } : {}), force: p.values['force'] === true });
  for (const f of result.applied) io.out(`applied  ${f.kind.padEnd(8)} ${f.oldPath ? `${f.oldPath} → ` : ''}${f.path}`);
  for (const s of result.skipped) io.err(`skipped  ${s.path}: ${s.reason}`);
  for (const c of result.conflicts) io.err(`conflict ${c.path}: ${c.reason}`);
  if (result.conflicts.length > 0) {
    io.err(`${result.conflicts.length} file(s) not applied because they changed in the workspace since the run started; review them, then re-run with --force to overwrite.`);
    return 1;
  }
  if (result.applied.length === 0) io.err(paths ? 'Nothing to apply for the given --path.' : `Run ${runId} proposes no change.`);
  return 0;
}

export async function rollbackCommand(p: ParsedCommand, io: CliIo): Promise<number> {
  const runId = requireRunId(p);
  const to = p.values['to'];
  const step = typeof to === 'string' && /^\d+$/.test(to) ? Number(to) : NaN;
  if (!Number.isInteger(step)) throw new UsageError('crewbox rollback needs --to STEP (a step number; see "crewbox trace RUN_ID").');
  // Forking reads and writes only .crewbox/; no container is needed.
  const runtime = createRuntime({ workspace: p.workspace, sandbox: new UnavailableSandbox(), env: io.env });
  const forkId = await runtime.fork(runId, step);
  const store = new CheckpointStore(p.workspace);
  if (await store.hasRun(runId)) await store.forkCheckpoints(runId, step, forkId);
  const { events } = await readRunLog(crewboxPaths(p.workspace).runEvents(forkId));
  io.out(forkId);
  io.err(`Rolled back: run ${forkId} holds ${runId}'s conversation and files as of step ${step} (${events.length} events). Continue it with "crewbox resume ${forkId} --message '...'"; ${runId} is unchanged.`);
  return 0;
}
