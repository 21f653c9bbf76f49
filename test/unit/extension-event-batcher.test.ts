import assert from 'node:assert/strict';
import { EventBatcher } from '../../src/extension/event-batcher.ts';
import { ManualTimer } from '../support/manual-timer.ts';


function setup() {
  const timer = new ManualTimer();
  const delivered: Array<{ runId: string; events: number[] }> = [];
  const batcher = new EventBatcher<number>((runId, events) => delivered.push({ runId, events }), timer, 16);
  return { timer, delivered, batcher };
}

describe('extension: event batcher', () => {
  it('delivers the events pushed within one frame as one batch, in order', () => {
    const { timer, delivered, batcher } = setup();
    for (const n of [1, 2, 3]) batcher.push('run-a', n);
    assert.equal(timer.live.length, 1, 'one timer per frame, not one per event');
    assert.equal(timer.live[0]!.ms, 16);
    assert.deepEqual(delivered, []);
    timer.fire();
    assert.deepEqual(delivered, [{ runId: 'run-a', events: [1, 2, 3] }]);
    batcher.push('run-a', 4);
    timer.fire();
    assert.deepEqual(delivered.at(-1), { runId: 'run-a', events: [4] });
  });

  it('never mixes runs in one batch', () => {
    const { timer, delivered, batcher } = setup();
    batcher.push('run-a', 1);
    batcher.push('run-b', 2);
    assert.deepEqual(delivered, [{ runId: 'run-a', events: [1] }]);
    timer.fire();
    assert.deepEqual(delivered.at(-1), { runId: 'run-b', events: [2] });
  });

  it('holds events while paused and lets them through on resume', () => {
    const { timer, delivered, batcher } = setup();
    batcher.push('run-a', 1);
    batcher.pause();
    batcher.push('run-a', 2);
    batcher.flush();
    assert.equal(timer.live.length, 0);
    assert.deepEqual(delivered, []);
    batcher.resume();
    timer.fire();
    assert.deepEqual(delivered, [{ runId: 'run-a', events: [1, 2] }]);
  });

  it('drops pending events of another run when the view switches runs, and everything on dispose', () => {
    const { timer, delivered, batcher } = setup();
    batcher.push('run-a', 1);
    batcher.keepOnly('run-a');
    assert.equal(batcher.pendingCount, 1);
    batcher.keepOnly('run-b');
    assert.equal(batcher.pendingCount, 0);
    assert.equal(timer.live.length, 0);
    batcher.push('run-b', 2);
    batcher.dispose();
    assert.equal(timer.live.length, 0);
    batcher.flush();
    assert.deepEqual(delivered, []);
  });
});
