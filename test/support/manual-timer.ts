/** A BatchTimer the test fires by hand; records what was scheduled. */
import assert from 'node:assert/strict';
import type { BatchTimer } from '../../src/extension/event-batcher.ts';

export class ManualTimer implements BatchTimer {
  readonly scheduled: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  set(fn: () => void, ms: number): unknown {
    const entry = { fn, ms, cleared: false };
    this.scheduled.push(entry);
    return entry;
  }
  clear(handle: unknown): void {
    (handle as { cleared: boolean }).cleared = true;
  }
  get live() {
    return this.scheduled.filter((s) => !s.cleared);
  }
  /** Runs the latest timer still scheduled. */
  fire(): void {
    const entry = this.live.at(-1);
    assert.ok(entry, 'nothing scheduled');
    entry.cleared = true;
    entry.fn();
  }
}
