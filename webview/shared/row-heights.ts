/**
 * Row heights and offsets of a virtualised list with variable row heights.
 * Rows not measured yet count as the estimate (or, after a width change,
 * as their last measured height until they are measured again).
 *
 * Offsets are recomputed lazily from the first changed row, so appending to
 * or re-measuring the end of a long list costs little. Pure: no DOM.
 */
export class RowHeights {
  readonly #heights: number[] = [];
  /** Generation each row was measured in; rows from older generations need measuring. */
  readonly #measuredIn: number[] = [];
  /** offsets[i] is the top of row i; offsets[count] is the total height. */
  readonly #offsets: number[] = [0];
  #validThrough = 0;
  #generation = 1;

  constructor(private readonly estimate: number) {}

  get count(): number {
    return this.#heights.length;
  }

  /** Grows (new rows take the estimate) or shrinks the list. */
  setCount(n: number): void {
    const old = this.#heights.length;
    if (n === old) return;
    if (n < old) {
      this.#heights.length = n;
      this.#measuredIn.length = n;
      this.#offsets.length = n + 1;
    } else {
      for (let i = old; i < n; i++) {
        this.#heights.push(this.estimate);
        this.#measuredIn.push(0);
      }
    }
    this.#validThrough = Math.min(this.#validThrough, old, n);
  }

  /** Records a measured height; returns whether it differs from what was assumed. */
  set(index: number, height: number): boolean {
    this.#measuredIn[index] = this.#generation;
    if (this.#heights[index] === height) return false;
    this.#heights[index] = height;
    this.#validThrough = Math.min(this.#validThrough, index);
    return true;
  }

  needsMeasure(index: number): boolean {
    return this.#measuredIn[index] !== this.#generation;
  }

  /** The row's content changed: measure it again when it is next shown. */
  forget(index: number): void {
    if (index < this.#measuredIn.length) this.#measuredIn[index] = 0;
  }

  /** The width changed: every row needs measuring again (old heights stay as guesses). */
  forgetAll(): void {
    this.#generation += 1;
  }

  heightOf(index: number): number {
    return this.#heights[index] ?? this.estimate;
  }

  /** Top of row `index`; `offsetOf(count)` is the total height. */
  offsetOf(index: number): number {
    const i = Math.max(0, Math.min(index, this.count));
    this.settle(i);
    return this.#offsets[i] ?? 0;
  }

  total(): number {
    return this.offsetOf(this.count);
  }

  /** The row containing `y` (clamped to the list); -1 for an empty list. */
  indexAt(y: number): number {
    const n = this.count;
    if (n === 0) return -1;
    this.settle(n);
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#offsets[mid] ?? 0) <= y) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private settle(through: number): void {
    if (through <= this.#validThrough) return;
    for (let i = this.#validThrough; i < through; i++) {
      this.#offsets[i + 1] = (this.#offsets[i] ?? 0) + (this.#heights[i] ?? this.estimate);
    }
    this.#validThrough = through;
  }
}
