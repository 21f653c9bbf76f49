import assert from 'node:assert/strict';
import type { BatchTimer } from '../../src/extension/event-batcher.ts';
import { UpdateThrottle } from '../../src/extension/history/update-throttle.ts';
import { settle } from '../support/fake-clock.ts';

class ManualTimer implements BatchTimer {
  readonly live = new Set<{ fn: () => void; ms: number }>();
  set(fn: () => void, ms: number): unknown {
    const entry = { fn, ms };
    this.live.add(entry);
    return entry;
  }
  clear(handle: unknown): void {
    this.live.delete(handle as { fn: () => void; ms: number });
  }
  fire(): void {
    const [entry] = this.live;
    assert.ok(entry, 'nothing scheduled');
    this.live.delete(entry);
    entry.fn();
  }
}

describe('extension: history update throttle', () => {
  it('hands over each marked id once per interval and reports a failed flush without losing later marks', async () => {
    const timer = new ManualTimer();
    const flushed: string[][] = [];
    const errors: unknown[] = [];
    let fail = true;
    const throttle = new UpdateThrottle(
      async (ids) => {
        flushed.push(ids);
        if (fail) throw new Error('disk gone');
      },
      (e) => errors.push(e),
      timer,
      250,
    );
    throttle.mark('a');
    throttle.mark('b');
    throttle.mark('a');
    assert.deepEqual([...timer.live].map((t) => t.ms), [250]);
    assert.deepEqual(throttle.pending, ['a', 'b']);
    timer.fire();
    await settle();
    assert.deepEqual(flushed, [['a', 'b']]);
    assert.equal(errors.length, 1);
    assert.equal(timer.live.size, 0, 'a failed flush is not retried by itself');

    fail = false;
    throttle.mark('c');
    timer.fire();
    await settle();
    assert.deepEqual(flushed, [['a', 'b'], ['c']]);
  });

  it('schedules and flushes nothing after dispose', async () => {
    const timer = new ManualTimer();
    const flushed: string[][] = [];
    const throttle = new UpdateThrottle(async (ids) => void flushed.push(ids), (e) => assert.fail(String(e)), timer, 250);
    throttle.mark('a');
    throttle.dispose();
    assert.equal(timer.live.size, 0);
    throttle.mark('b');
    assert.equal(timer.live.size, 0);
    assert.deepEqual(flushed, []);
  });
});
