import assert from 'node:assert/strict';
import { RowHeights } from '../../webview/shared/row-heights.ts';

describe('virtual list row heights', () => {
  it('uses the estimate until a row is measured, then its real height', () => {
    const h = new RowHeights(50);
    h.setCount(4);
    assert.equal(h.total(), 200);
    assert.equal(h.set(1, 80), true);
    assert.equal(h.set(1, 80), false, 'the same height again changes nothing');
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => h.offsetOf(i)), [0, 50, 130, 180, 230]);
  });

  it('finds the row at a given offset', () => {
    const h = new RowHeights(10);
    h.setCount(5);
    h.set(2, 100);
    assert.deepEqual([0, 9, 10, 20, 119, 120, 10_000, -5].map((y) => h.indexAt(y)), [0, 0, 1, 2, 2, 3, 4, 0]);
    assert.equal(new RowHeights(10).indexAt(0), -1);
  });

  it('grows and shrinks, keeping measured rows', () => {
    const h = new RowHeights(20);
    h.setCount(3);
    h.set(0, 5);
    h.setCount(6);
    assert.equal(h.total(), 5 + 5 * 20);
    h.setCount(1);
    assert.equal(h.total(), 5);
  });

  it('asks for measuring again after a content change or a width change', () => {
    const h = new RowHeights(20);
    h.setCount(2);
    h.set(0, 30);
    h.set(1, 40);
    assert.deepEqual([h.needsMeasure(0), h.needsMeasure(1)], [false, false]);
    h.forget(1);
    assert.deepEqual([h.needsMeasure(0), h.needsMeasure(1)], [false, true]);
    h.forgetAll();
    assert.equal(h.needsMeasure(0), true);
    assert.equal(h.total(), 70, 'old heights remain the best guess until measured');
  });
});
