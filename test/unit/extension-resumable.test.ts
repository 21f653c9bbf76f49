import assert from 'node:assert/strict';
import type { RunSummary } from '../../src/core/store/run-summary.ts';
import { selectResumable } from '../../src/extension/resumable.ts';

function run(id: string, status: RunSummary['status']): RunSummary {
  return { id, goal: `goal of ${id}`, status, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:01:00.000Z', tokens: 0, costUsd: 0, steps: 1 };
}

describe('extension: resumable runs', () => {
  const runs = [
    run('r-completed', 'completed'),
    run('r-interrupted', 'interrupted'),
    run('r-waiting', 'waiting_user'),
    run('r-running-live', 'running'),
    run('r-running-crashed', 'running'),
    run('r-failed', 'failed'),
    run('r-halted', 'halted'),
  ];
  const locked = new Set(['r-running-live']);
  const isLocked = async (id: string) => locked.has(id);

  it('offers interrupted, waiting and cut-off runs, in the index order', async () => {
    const picked = await selectResumable(runs, isLocked);
    assert.deepEqual(
      picked.map((r) => [r.id, r.status]),
      [
        ['r-interrupted', 'interrupted'],
        ['r-waiting', 'waiting_user'],
        ['r-running-crashed', 'interrupted'],
      ],
    );
  });

  it('leaves out the run this window is driving', async () => {
    const picked = await selectResumable(runs, async () => false, 'r-waiting');
    assert.ok(!picked.some((r) => r.id === 'r-waiting'));
    assert.ok(picked.some((r) => r.id === 'r-running-live'), 'an unlocked "running" run was cut off');
  });

  it('asks the lock only about runs whose log says running', async () => {
    const asked: string[] = [];
    await selectResumable(runs, async (id) => (asked.push(id), true));
    assert.deepEqual(asked.sort(), ['r-running-crashed', 'r-running-live']);
  });
});
