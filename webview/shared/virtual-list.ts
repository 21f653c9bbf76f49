/**
 * A virtualised list: only the rows in and near the viewport are in the DOM,
 * whatever the row count. Rows have variable heights, measured once mounted
 * (RowHeights keeps estimates for the rest).
 *
 * Contract:
 * - The source is read on each flush; the list never holds row data. A row is
 *   identified by `key`, and re-rendered when its `version` moves.
 * - `followTail`: the list starts at the bottom and stays there as rows grow,
 *   until the user scrolls up; then the first visible row keeps its place on
 *   screen while rows above or below change height. `reset(anchor)` starts
 *   over with a given row at a given place instead (rows were prepended).
 * - `onRendered` is told the mounted range after each flush (to load more
 *   rows when an edge comes near).
 * - Work happens in one scheduled flush per frame (`invalidate`), never per
 *   model change; `flush` does it at once. While the list is hidden nothing
 *   is rendered; it catches up when it shows (its resize observer fires).
 * - Rows are absolutely positioned with `style.transform` (CSSOM, allowed by
 *   the CSP), and kept in DOM order for screen readers and keyboard focus.
 */
import { h } from './dom.ts';
import { RowHeights } from './row-heights.ts';

export interface RowSource {
  count(): number;
  key(index: number): string;
  version(index: number): number;
  render(index: number): HTMLElement;
}

export interface VirtualListOptions {
  label: string;
  /** Height assumed for a row not measured yet (px). */
  estimate: number;
  /** Rows kept mounted beyond each edge of the viewport (px). */
  overscan?: number;
  followTail?: boolean;
  onFollowingChange?: (following: boolean) => void;
  /** After each flush (not while hidden): the first and last mounted row. */
  onRendered?: (first: number, last: number) => void;
  schedule?: (work: () => void) => void;
}

/** Row `index` with its top `delta` px above the top of the viewport (negative: below). */
export interface ListAnchor {
  index: number;
  delta: number;
}

interface Mounted {
  el: HTMLElement;
  version: number;
  index: number;
}

const AT_BOTTOM_SLACK_PX = 4;
const MAX_MEASURE_PASSES = 4;

export class VirtualList {
  readonly element: HTMLDivElement;
  readonly #content: HTMLDivElement;
  readonly #mounted = new Map<string, Mounted>();
  readonly #overscan: number;
  readonly #schedule: (work: () => void) => void;
  #heights: RowHeights;
  #following: boolean;
  #scheduled = false;
  #width = -1;
  /** Where the next flush puts the rows, instead of reading it from scrollTop (set by reset). */
  #pendingAnchor: ListAnchor | undefined;
  #range: [number, number] = [0, -1];
  /** A flush done meanwhile makes the scheduled one a no-op. */
  private readonly flushIfScheduled: () => void;

  constructor(
    private readonly source: RowSource,
    private readonly options: VirtualListOptions,
  ) {
    this.#heights = new RowHeights(options.estimate);
    this.#overscan = options.overscan ?? 600;
    this.#following = options.followTail ?? false;
    this.#schedule = options.schedule ?? ((work) => requestAnimationFrame(() => work()));
    this.flushIfScheduled = () => {
      if (this.#scheduled) this.flush();
    };
    this.#content = h('div', { class: 'vlist-content', attrs: { role: 'list', 'aria-label': options.label } });
    this.element = h('div', { class: 'vlist', attrs: { tabindex: '0' } }, this.#content);
    this.element.addEventListener('scroll', () => this.onScroll(), { passive: true });
    new ResizeObserver(() => this.onResize()).observe(this.element);
  }

  /** Rows were added or changed: flush on the next frame. */
  invalidate(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(this.flushIfScheduled);
  }

  /** These rows' content changed: their heights are measured again when shown. Call `flush` or `invalidate` after. */
  rowsChanged(indices: Iterable<number>): void {
    for (const i of indices) this.#heights.forget(i);
  }

  /** Re-renders these rows if mounted: their view state changed (a card was expanded), not their data. */
  refresh(indices: Iterable<number>): void {
    for (const i of indices) {
      if (i >= this.source.count()) continue;
      const m = this.#mounted.get(this.source.key(i));
      if (m) m.version = Number.NaN;
      this.#heights.forget(i);
    }
    this.invalidate();
  }

  /**
   * The rows were replaced wholesale (another run, a re-filtered list). With
   * `anchor`, that row is put where the anchor says (what `anchorOf` returned
   * before, mapped to the new rows); without, the list starts at the top (the
   * bottom with followTail).
   */
  reset(anchor?: ListAnchor): void {
    for (const m of this.#mounted.values()) m.el.remove();
    this.#mounted.clear();
    this.#heights = new RowHeights(this.options.estimate);
    this.setFollowing(anchor ? false : (this.options.followTail ?? false));
    this.#pendingAnchor = anchor;
    if (!anchor) this.element.scrollTop = 0;
    this.invalidate();
  }

  /** Where row `index` is now, as an anchor for `reset`; undefined while following the tail (it keeps following). */
  anchorOf(index: number): ListAnchor | undefined {
    if (this.#following || index < 0 || index >= this.#heights.count) return undefined;
    const pending = this.#pendingAnchor;
    if (pending) return pending.index === index ? pending : undefined;
    return { index, delta: this.element.scrollTop - this.#heights.offsetOf(index) };
  }

  scrollToBottom(): void {
    this.setFollowing(true);
    this.invalidate();
  }

  flush(): void {
    this.#scheduled = false;
    // Hidden (display: none) or detached: nothing can be measured. The resize observer flushes once it shows.
    if (this.element.getClientRects().length === 0) return;
    const heights = this.#heights;
    heights.setCount(this.source.count());
    const viewport = this.element.clientHeight;
    const pending = this.#pendingAnchor && heights.count > 0 ? this.#pendingAnchor : undefined;
    this.#pendingAnchor = undefined;
    const anchorIndex = this.#following ? -1 : pending ? Math.min(pending.index, heights.count - 1) : heights.indexAt(this.element.scrollTop);
    const anchorDelta = anchorIndex < 0 ? 0 : pending ? pending.delta : this.element.scrollTop - heights.offsetOf(anchorIndex);
    const scrollTarget = (): number =>
      this.#following ? Math.max(0, heights.total() - viewport) : anchorIndex < 0 ? 0 : heights.offsetOf(anchorIndex) + anchorDelta;

    for (let pass = 0; pass < MAX_MEASURE_PASSES; pass++) {
      if (!this.mountRange(scrollTarget(), viewport)) break;
    }
    for (const m of this.#mounted.values()) m.el.style.transform = `translateY(${heights.offsetOf(m.index)}px)`;
    this.#content.style.height = `${heights.total()}px`;
    const target = scrollTarget();
    if (Math.abs(this.element.scrollTop - target) >= 1) this.element.scrollTop = target;
    this.options.onRendered?.(...this.#range);
  }

  /** Mounts the rows covering [top - overscan, top + viewport + overscan]; returns whether a height changed. */
  private mountRange(top: number, viewport: number): boolean {
    const heights = this.#heights;
    const n = heights.count;
    const first = n === 0 ? 0 : heights.indexAt(Math.max(0, top - this.#overscan));
    const last = n === 0 ? -1 : heights.indexAt(top + viewport + this.#overscan);
    const wanted = new Map<string, number>();
    for (let i = first; i <= last; i++) wanted.set(this.source.key(i), i);
    this.#range = [first, last];

    for (const [key, m] of this.#mounted) {
      if (!wanted.has(key)) {
        m.el.remove();
        this.#mounted.delete(key);
      }
    }
    let previous: HTMLElement | null = null;
    for (const [key, index] of wanted) {
      const version = this.source.version(index);
      let m = this.#mounted.get(key);
      if (!m || m.version !== version) {
        const el = this.source.render(index);
        el.classList.add('vlist-row');
        el.setAttribute('role', 'listitem');
        if (m) m.el.replaceWith(el);
        m = { el, version, index };
        this.#mounted.set(key, m);
        heights.forget(index);
      } else if (m.index !== index) {
        m.index = index;
        heights.forget(index);
      }
      const expectedNext: ChildNode | null = previous ? previous.nextSibling : this.#content.firstChild;
      if (expectedNext !== m.el) this.#content.insertBefore(m.el, expectedNext);
      previous = m.el;
    }

    let changed = false;
    for (const m of this.#mounted.values()) {
      if (heights.needsMeasure(m.index)) changed = heights.set(m.index, m.el.offsetHeight) || changed;
    }
    return changed;
  }

  private onScroll(): void {
    const el = this.element;
    if (this.options.followTail) this.setFollowing(el.scrollTop + el.clientHeight >= el.scrollHeight - AT_BOTTOM_SLACK_PX);
    this.invalidate();
  }

  private onResize(): void {
    const width = this.element.clientWidth;
    if (width !== this.#width) {
      this.#width = width;
      this.#heights.forgetAll();
    }
    this.invalidate();
  }

  private setFollowing(following: boolean): void {
    if (following === this.#following) return;
    this.#following = following;
    this.options.onFollowingChange?.(following);
  }
}
