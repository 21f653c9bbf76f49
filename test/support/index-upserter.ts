/**
 * Child process for the cross-process run index test:
 *   node --import tsx test/support/index-upserter.ts <workspace> <worker> <count>
 * Upserts <count> entries of its own, then updates each once more, and prints "done".
 */
import { RunIndex } from '../../src/core/store/run-index.ts';

const [workspace, worker, count] = process.argv.slice(2);
if (!workspace || !worker || !count) throw new Error('usage: index-upserter <workspace> <worker> <count>');

const index = await RunIndex.open(workspace);
for (let k = 0; k < Number(count); k++) {
  await index.upsert({ id: `w${worker}-${k}`, goal: `goal ${worker}/${k}`, createdAt: new Date(Date.UTC(2025, 0, 1, 0, 0, k)).toISOString() });
}
for (let k = 0; k < Number(count); k++) {
  await index.upsert({ id: `w${worker}-${k}`, tokens: k + 1, status: 'completed' });
}
process.stdout.write('done\n');
