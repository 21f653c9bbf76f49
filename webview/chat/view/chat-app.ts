/**
 * The chat view: lays out the status line, the error banner, the resumable
 * runs, the virtualised transcript and the composer; renders what the store
 * marks dirty once per animation frame; turns clicks into requests.
 *
 * Contract: one delegated click listener (buttons carry `data-action`), no
 * listener per row. Request failures land in the banner with their actions;
 * the banner goes on Dismiss, `notice/clear`, or when a run request succeeds.
 *
 * A transcript shown from its tail has a marker row where the left-out
 * events go (list index `store.gapAt`; rows after it sit one index later in
 * the list). When the marker comes within the list's overscan as the user
 * scrolls up, or on its button, the older page is requested; once it is
 * folded in, the row after the marker stays where it was on screen.
 */
import type { ParamsIn, RequestMethod, ResultOf } from '../../../src/protocol/messages.ts';
import { isErrorAction } from '../../../src/protocol/error-actions.ts';
import type { WebviewEndpoint } from '../../../src/protocol/webview-endpoint.ts';
import { button, h, icon } from '../../shared/dom.ts';
import { VirtualList } from '../../shared/virtual-list.ts';
import type { ChatStore } from '../model/chat-store.ts';
import { EARLIER_KEY, renderEarlierRow } from './earlier-row.ts';
import { Composer } from './composer.ts';
import type { Drafts } from './composer.ts';
import { renderBanner } from '../../shared/banner.ts';
import { renderResumable } from './notices.ts';
import { renderRow } from './row-view.ts';
import { renderStatusLine } from './status-line.ts';
import { defaultExpanded } from './tool-card.ts';

export interface PersistPort {
  load(): { drafts?: Drafts } | undefined;
  save(state: { drafts: Drafts }): void;
}

const ROW_ESTIMATE_PX = 56;
const COMPOSER_METHODS: ReadonlySet<RequestMethod> = new Set(['run/start', 'run/interrupt', 'run/resume', 'run/answer', 'run/discard']);

export class ChatApp {
  readonly #status = h('div', { class: 'status-line' });
  readonly #banner = h('div', { class: 'banner' });
  readonly #resumable = h('div', { class: 'resumable' });
  readonly #jump = button('Jump to latest', { action: 'jump-latest', icon: 'arrow-down', variant: 'secondary' });
  readonly #empty = h(
    'div',
    { class: 'empty-state' },
    icon('organization'),
    h('div', { class: 'empty-state-title' }, 'Give the team a task'),
    h('div', null, 'The orchestrator plans it, the developer works in a sandboxed container, the tester checks the result. Nothing touches your files until you review the changes.'),
  );
  readonly #list: VirtualList;
  readonly #composer: Composer;
  readonly #toggled = new Map<string, boolean>();
  #frameRequested = false;
  /** Where the list puts the rows after an older page was folded in: the first row after the marker, by its seq. */
  #keep: { seq: number; delta: number } | undefined;
  /** Off after a failed page load, so scrolling does not retry in a loop; the marker's button turns it on. */
  #autoLoad = true;

  constructor(
    root: HTMLElement,
    private readonly store: ChatStore,
    private readonly channel: WebviewEndpoint,
    persist: PersistPort,
  ) {
    const rowAt = (i: number) => store.transcript.rows[this.rowIndex(i)]!;
    this.#list = new VirtualList(
      {
        count: () => store.transcript.rows.length + (store.gapAt !== undefined ? 1 : 0),
        key: (i) => (i === store.gapAt ? EARLIER_KEY : rowAt(i).id),
        version: (i) => (i === store.gapAt ? (store.loadingEarlier ? 2 : 1) : rowAt(i).version),
        render: (i) => (i === store.gapAt ? renderEarlierRow(store.earlier?.count ?? 0, store.loadingEarlier) : renderRow(rowAt(i), { toggled: this.#toggled })),
      },
      {
        label: 'Run transcript',
        estimate: ROW_ESTIMATE_PX,
        followTail: true,
        onFollowingChange: (f) => (this.#jump.hidden = f),
        onRendered: (first, last) => {
          const gap = store.gapAt;
          if (gap !== undefined && gap >= first && gap <= last && this.#autoLoad) this.loadEarlier();
        },
      },
    );
    this.#jump.classList.add('jump-latest');
    this.#jump.hidden = true;
    const drafts = persist.load()?.drafts ?? {};
    this.#composer = new Composer(drafts, (d) => persist.save({ drafts: d }));
    root.classList.add('chat');
    root.append(this.#status, this.#banner, this.#resumable, h('div', { class: 'transcript' }, this.#list.element, this.#empty, this.#jump), this.#composer.element);
    root.addEventListener('click', (ev) => {
      const target = (ev.target as Element | null)?.closest<HTMLElement>('[data-action]');
      if (target && !(target instanceof HTMLButtonElement && target.disabled)) this.act(target.dataset['action'] ?? '', target);
    });
    this.renderAll();
  }

  /** The store changed: render on the next frame. */
  scheduleRender(): void {
    if (this.#frameRequested) return;
    this.#frameRequested = true;
    requestAnimationFrame(() => this.render());
  }

  /** Renders whatever is dirty now. */
  render(): void {
    this.#frameRequested = false;
    const dirty = this.store.takeDirty();
    if (dirty.has('rows')) this.renderRows();
    if (dirty.has('status')) renderStatusLine(this.#status, this.store);
    if (dirty.has('composer')) this.renderComposer();
    if (dirty.has('banner')) renderBanner(this.#banner, this.store.banner);
    if (dirty.has('resumable') || dirty.has('rows')) renderResumable(this.#resumable, this.store.resumable, this.store.progress.runId);
  }

  private renderAll(): void {
    this.store.takeDirty();
    renderStatusLine(this.#status, this.store);
    this.renderComposer();
    renderBanner(this.#banner, this.store.banner);
    renderResumable(this.#resumable, this.store.resumable, this.store.progress.runId);
    this.renderRows();
  }

  private renderRows(): void {
    this.#empty.hidden = this.store.transcript.rows.length > 0;
    if (this.store.rowsReplaced) {
      this.store.rowsReplaced = false;
      this.#toggled.clear();
      const keep = this.#keep;
      this.#keep = undefined;
      this.#list.reset(keep ? { index: this.listIndex(this.store.transcript.indexAtSeq(keep.seq)), delta: keep.delta } : undefined);
    }
    this.#list.rowsChanged(this.store.transcript.drain().changed.map((i) => this.listIndex(i)));
    this.#list.flush();
  }

  /** The transcript row shown at list index `i` (not the marker's index). */
  private rowIndex(i: number): number {
    const gap = this.store.gapAt;
    return gap !== undefined && i > gap ? i - 1 : i;
  }

  private listIndex(rowIndex: number): number {
    const gap = this.store.gapAt;
    return gap !== undefined && rowIndex >= gap ? rowIndex + 1 : rowIndex;
  }

  /** Requests the page before the first shown event; once folded in, the first row after the marker keeps its place. */
  private loadEarlier(): void {
    const store = this.store;
    const runId = store.progress.runId;
    const beforeSeq = store.firstLoadedSeq;
    if (store.loadingEarlier || runId === null || beforeSeq === undefined) return;
    store.setLoadingEarlier(true);
    void this.channel.request('transcript/page', { runId, beforeSeq }).then((result) => {
      if (store.firstLoadedSeq !== beforeSeq) return; // another reset or page came meanwhile
      store.setLoadingEarlier(false);
      if (!result.ok) {
        this.#autoLoad = false;
        return store.showError(result.error);
      }
      // The first row after the marker keeps its place on screen: the page goes in above it, and the marker moves up out of sight.
      const anchor = store.gapAt !== undefined ? this.#list.anchorOf(store.gapAt + 1) : undefined;
      if (store.prependEarlier(result.value.runId, result.value.events, result.value.earlier) && anchor) this.#keep = { seq: beforeSeq, delta: anchor.delta };
    });
  }

  private renderComposer(): void {
    const p = this.store.progress;
    this.#composer.render(this.store.mode(), { busy: this.store.busy, canReview: p.runId !== null && p.step > 0 && !this.store.driving });
  }

  private act(action: string, el: HTMLElement): void {
    const store = this.store;
    const mode = store.mode();
    const runId = mode.kind === 'working' || mode.kind === 'stopping' || mode.kind === 'answer' || mode.kind === 'continue' ? mode.runId : store.progress.runId;
    switch (action) {
      case 'start': {
        const goal = this.#composer.value();
        if (goal === '') return;
        return this.send('run/start', { goal }, () => {
          this.#composer.clear('goal');
          store.composeNew(false);
        });
      }
      case 'stop':
        if (runId === null) return;
        store.requestStop();
        return this.send('run/interrupt', { runId }, undefined, () => store.cancelStop());
      case 'continue': {
        if (runId === null) return;
        const message = this.#composer.value();
        return this.send('run/resume', { runId, ...(message !== '' && { message }) }, () => this.#composer.clear('continue'));
      }
      case 'answer': {
        const answer = this.#composer.value();
        if (mode.kind !== 'answer' || answer === '') return;
        return this.send('run/answer', { runId: mode.runId, callId: mode.question.callId, answer }, () => this.#composer.clear('answer'));
      }
      case 'discard':
        return runId === null ? undefined : this.send('run/discard', { runId });
      case 'review':
        return runId === null ? undefined : this.send('review/open', { runId });
      case 'new-task':
        return store.composeNew(true);
      case 'error-action': {
        const errorAction = el.dataset['errorAction'];
        if (!isErrorAction(errorAction)) return;
        return this.send('action/invoke', { action: errorAction, ...(runId !== null && { runId }) });
      }
      case 'dismiss-banner':
        return store.clearError();
      case 'resume-run':
        return el.dataset['run'] ? this.send('run/resume', { runId: el.dataset['run'] }) : undefined;
      case 'discard-run':
        return el.dataset['run'] ? this.send('run/discard', { runId: el.dataset['run'] }) : undefined;
      case 'toggle-tool':
        return this.toggleTool(el.dataset['row'] ?? '');
      case 'jump-latest':
        return this.#list.scrollToBottom();
      case 'load-earlier':
        this.#autoLoad = true;
        return this.loadEarlier();
    }
  }

  private toggleTool(rowId: string): void {
    const index = this.store.transcript.indexOf(rowId);
    const row = index !== undefined ? this.store.transcript.rows[index] : undefined;
    if (index === undefined || row?.kind !== 'tool') return;
    const open = this.#toggled.get(rowId) ?? defaultExpanded(row);
    this.#toggled.set(rowId, !open);
    this.#list.refresh([this.listIndex(index)]);
  }

  /** Sends a request; the composer's own requests (start, stop, continue, answer, discard) disable its buttons meanwhile. */
  private send<M extends RequestMethod>(method: M, params: ParamsIn<M>, onOk?: (value: ResultOf<M>) => void, onFail?: () => void): void {
    const fromComposer = COMPOSER_METHODS.has(method);
    if (fromComposer) this.store.setBusy(true);
    void this.channel.request(method, params).then((result) => {
      if (fromComposer) this.store.setBusy(false);
      if (result.ok) {
        // A fresh attempt supersedes the last error; other actions (Set API Key...) leave it to the host's notice/clear.
        if (fromComposer) this.store.clearError();
        onOk?.(result.value);
      } else {
        this.store.showError(result.error);
        onFail?.();
      }
    });
  }
}
