import assert from 'node:assert/strict';
import { RunEvent } from '../../src/core/events/schema.ts';
import type { EventInput } from '../../src/core/events/schema.ts';
import { summarizeRun } from '../../src/core/store/run-summary.ts';
import { isStoreError } from '../../src/core/store/errors.ts';
import { modelTurn, runStarted, toolCompleted, toolStarted } from '../support/store-builders.ts';

/** Stamps inputs as the log would: seq 1.., one second apart from a fixed start. */
function logOf(inputs: EventInput[]): RunEvent[] {
  return inputs.map((input, i) =>
    RunEvent.parse({ ...input, runId: 'run-7', seq: i + 1, ts: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString() }),
  );
}

const asked = (step: number, callId: string): EventInput => ({ type: 'ask_user.asked', step, callId, question: 'Which database?' });
const answered = (step: number, callId: string): EventInput => ({ type: 'ask_user.answered', step, callId, answer: 'SQLite' });
const interrupted = (step: number): EventInput => ({ type: 'run.interrupted', step, reason: 'window closed' });
const resumed = (step: number): EventInput => ({ type: 'run.resumed', step });
const finished = (step: number, status: 'completed' | 'failed' | 'halted', verdict?: 'pass' | 'fail'): EventInput => ({
  type: 'run.finished',
  step,
  status,
  summary: 'done',
  ...(verdict ? { verdict } : {}),
});
const agentFinished = (step: number, verdict: 'pass' | 'fail'): EventInput => ({ type: 'agent.finished', step, agentId: 'tester-1', summary: 's', verdict });

describe('summarizeRun', () => {
  it('folds identity, times, tokens, cost and steps', () => {
    const events = logOf([
      runStarted('add a --json flag'),
      modelTurn(1, { input: 100, output: 20, cacheRead: 50, cacheWrite: 5, cost: 0.25 }),
      toolStarted(1),
      toolCompleted(1),
      modelTurn(2, { input: 300, output: 40, cost: 0.5 }),
      {
        type: 'context.compacted',
        step: 2,
        replacedMessages: 4,
        summary: 'so far',
        tokensBefore: 9000,
        usage: { inputTokens: 1000, outputTokens: 100, cacheReadTokens: 0, cacheWriteTokens: 0 },
        costUsd: 0.125,
      },
    ]);
    const summary = summarizeRun(events);
    assert.deepEqual(summary, {
      id: 'run-7',
      goal: 'add a --json flag',
      status: 'running',
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:05.000Z',
      tokens: 175 + 340 + 1100,
      costUsd: 0.875,
      steps: 2,
    });
  });

  it('keeps the fork origin', () => {
    const summary = summarizeRun(logOf([runStarted('g', { forkOf: { runId: 'run-3', step: 4 } })]));
    assert.deepEqual(summary.forkOf, { runId: 'run-3', step: 4 });
  });

  it('takes the status and verdict of run.finished', () => {
    const summary = summarizeRun(logOf([runStarted(), modelTurn(1), agentFinished(1, 'fail'), finished(1, 'completed', 'pass')]));
    assert.equal(summary.status, 'completed');
    assert.equal(summary.verdict, 'pass');
  });

  it('reports the latest agent verdict while the run is still going', () => {
    const summary = summarizeRun(logOf([runStarted(), modelTurn(1), agentFinished(1, 'pass'), modelTurn(2), agentFinished(2, 'fail')]));
    assert.equal(summary.verdict, 'fail');
  });

  it('lets the later of run.interrupted and run.resumed decide', () => {
    assert.equal(summarizeRun(logOf([runStarted(), interrupted(0)])).status, 'interrupted');
    assert.equal(summarizeRun(logOf([runStarted(), interrupted(0), resumed(0)])).status, 'running');
    assert.equal(summarizeRun(logOf([runStarted(), interrupted(0), resumed(0), interrupted(0)])).status, 'interrupted');
  });

  it('runs again when resumed after finishing', () => {
    assert.equal(summarizeRun(logOf([runStarted(), finished(0, 'halted'), resumed(0)])).status, 'running');
  });

  it('is waiting_user while a question has no answer', () => {
    assert.equal(summarizeRun(logOf([runStarted(), modelTurn(1), asked(1, 'c1')])).status, 'waiting_user');
    assert.equal(summarizeRun(logOf([runStarted(), modelTurn(1), asked(1, 'c1'), answered(1, 'c1')])).status, 'running');
    assert.equal(summarizeRun(logOf([runStarted(), modelTurn(1), asked(1, 'c1'), answered(1, 'c2')])).status, 'waiting_user');
  });

  it('shows interrupted over an open question until resumed', () => {
    assert.equal(summarizeRun(logOf([runStarted(), modelTurn(1), asked(1, 'c1'), interrupted(1)])).status, 'interrupted');
    assert.equal(summarizeRun(logOf([runStarted(), modelTurn(1), asked(1, 'c1'), interrupted(1), resumed(1)])).status, 'waiting_user');
  });

  it('reads a log whose process died without run.finished as running', () => {
    assert.equal(summarizeRun(logOf([runStarted(), modelTurn(1), toolStarted(1)])).status, 'running');
  });

  it('refuses an empty log', () => {
    assert.throws(() => summarizeRun([]), (e) => isStoreError(e) && e.code === 'empty_run');
  });
});
