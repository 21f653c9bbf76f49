import assert from 'node:assert/strict';
import { runPickItem } from '../../src/extension/history/run-pick.ts';

describe('extension: Open Trace run picker', () => {
  it('shows the goal on one line (cut at 120 characters), the state and verdict, and the id, date, tokens and cost', () => {
    const item = runPickItem({
      id: 'run-1',
      goal: `Fix\n  the ${'x'.repeat(200)}`,
      status: 'waiting_user',
      createdAt: '2025-01-01T09:30:12.000Z',
      updatedAt: '2025-01-01T09:40:00.000Z',
      tokens: 1234,
      costUsd: 0.5,
      verdict: 'pass',
      steps: 3,
    });
    assert.equal(item.label.length, 120);
    assert.ok(item.label.startsWith('Fix the x') && item.label.endsWith('…'));
    assert.equal(item.description, 'waiting user · tester pass');
    assert.equal(item.detail, 'run-1 · 2025-01-01 09:30 · 1234 tokens · $0.5000');
    assert.equal(item.runId, 'run-1');
    assert.equal(runPickItem({ id: 'run-2', goal: '  ', status: 'completed', createdAt: '', updatedAt: '', tokens: 0, costUsd: 0, steps: 0 }).label, 'run-2');
  });
});
