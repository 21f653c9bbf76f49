/**
 * Child process for the run lock tests:
 *   node --import tsx test/support/run-lock-holder.ts <workspace> <runId>
 * Takes the run lock, prints "locked" (or "refused <code>"), then waits to be killed.
 */
import { acquireRunLock } from '../../src/core/store/locks.ts';
import { isStoreError } from '../../src/core/store/errors.ts';

const [workspace, runId] = process.argv.slice(2);
if (!workspace || !runId) throw new Error('usage: run-lock-holder <workspace> <runId>');

try {
  await acquireRunLock(workspace, runId);
  process.stdout.write('locked\n');
  setInterval(() => undefined, 60_000);
} catch (e) {
  process.stdout.write(`refused ${isStoreError(e) ? e.code : String(e)}\n`);
  process.exitCode = 1;
}
