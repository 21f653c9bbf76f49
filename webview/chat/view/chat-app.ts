/**
 * The chat view: lays out the status line, the error banner, the resumable
 * runs, the virtualised transcript and the composer; renders what the store
 * marks dirty once per animation frame; turns clicks into requests.
 *
 * Contract: one delegated click listener (buttons carry `data-action`), no
 * listener per row. Request failures land in the banner with their actions;
 * the banner goes on Dismiss, `notice/clear`, or when a run request succeeds.
 */
import type { ParamsIn, RequestMethod, ResultOf } from '../../../src/protocol/messages.ts';
import type { ErrorAction } from '../../../src/protocol/schemas.ts';
import { ErrorAction as ErrorActionSchema } from '../../../src/protocol/schemas.ts';
import type { WebviewChannel } from '../../../src/protocol/webview-channel.ts';
import { button, h, icon } from '../../shared/dom.ts';
import { VirtualList } from '../../shared/virtual-list.ts';
import type { ChatStore } from '../model/chat-store.ts';
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

  constructor(
    root: HTMLElement,
    private readonly store: ChatStore,
    private readonly channel: WebviewChannel,
    persist: PersistPort,
  ) {
    this.#list = new VirtualList(
      {
        count: () => store.transcript.rows.length,
        key: (i) => store.transcript.rows[i]!.id,
        version: (i) => store.transcript.rows[i]!.version,
        render: (i) => renderRow(store.transcript.rows[i]!, { toggled: this.#toggled }),
      },
      { label: 'Run transcript', estimate: ROW_ESTIMATE_PX, followTail: true, onFollowingChange: (f) => (this.#jump.hidden = f) },
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
      this.#list.reset();
    }
    this.#list.rowsChanged(this.store.transcript.drain().changed);
    this.#list.flush();
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
        const parsed = ErrorActionSchema.safeParse(el.dataset['errorAction']);
        if (!parsed.success) return;
        const errorAction: ErrorAction = parsed.data;
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
    }
  }

  private toggleTool(rowId: string): void {
    const index = this.store.transcript.indexOf(rowId);
    const row = index !== undefined ? this.store.transcript.rows[index] : undefined;
    if (index === undefined || row?.kind !== 'tool') return;
    const open = this.#toggled.get(rowId) ?? defaultExpanded(row);
    this.#toggled.set(rowId, !open);
    this.#list.refresh([index]);
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
