import assert from 'node:assert/strict';
import { RetryGate, systemClock } from '../../src/core/model/retry-gate.ts';
import { FakeClock, settle, track } from '../support/fake-clock.ts';

describe('RetryGate', () => {
  const never = new AbortController().signal;

  it('lets calls through at once when nothing was published', async () => {
    const clock = new FakeClock();
    const waiting = track(new RetryGate(clock).wait(never));
    await settle();
    assert.equal(waiting.state, 'resolved');
    assert.equal(clock.pendingTimers, 0);
  });

  it('holds every waiter until the published time', async () => {
    const clock = new FakeClock();
    const gate = new RetryGate(clock);
    gate.deferFor(10_000);
    const first = track(gate.wait(never));
    const second = track(gate.wait(never));
    await clock.advanceTo(9_999);
    assert.deepEqual([first.state, second.state], ['pending', 'pending']);
    await clock.advanceTo(10_000);
    assert.deepEqual([first.state, second.state], ['resolved', 'resolved']);
    assert.equal(gate.remainingMs(), 0);
  });

  it('never shortens the barrier', () => {
    const clock = new FakeClock();
    const gate = new RetryGate(clock);
    gate.deferFor(30_000);
    gate.deferFor(5_000);
    gate.deferUntil(1_000);
    assert.equal(gate.notBefore, 30_000);
    assert.equal(gate.remainingMs(), 30_000);
  });

  it('honours an extension published while a call is already waiting', async () => {
    const clock = new FakeClock();
    const gate = new RetryGate(clock);
    gate.deferFor(1_000);
    const waiting = track(gate.wait(never));
    await clock.advanceTo(500);
    gate.deferFor(2_500);
    await clock.advanceTo(2_999);
    assert.equal(waiting.state, 'pending');
    await clock.advanceTo(3_000);
    assert.equal(waiting.state, 'resolved');
  });

  it('rejects promptly with the abort reason, without time passing', async () => {
    const clock = new FakeClock();
    const gate = new RetryGate(clock);
    gate.deferFor(60_000);
    const controller = new AbortController();
    const waiting = track(gate.wait(controller.signal));
    await settle();
    const reason = new Error('user stopped the run');
    controller.abort(reason);
    await settle();
    assert.equal(waiting.state, 'rejected');
    assert.equal(waiting.error, reason);
    assert.equal(clock.now(), 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('rejects at once for an already aborted signal', async () => {
    const gate = new RetryGate(new FakeClock());
    gate.deferFor(1_000);
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await assert.rejects(gate.wait(controller.signal), /gone/);
  });
});

describe('systemClock.sleep', () => {
  it('resolves after a short delay', async () => {
    await systemClock.sleep(1, new AbortController().signal);
  });

  it('rejects with the abort reason when aborted mid-sleep', async () => {
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(sleeping, /stop/);
  });
});
