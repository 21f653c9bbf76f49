/**
 * The history webview: the run list, and a run's trace when one is opened
 * (by a click or by the host's `trace/show`). Turns clicks into requests;
 * failures land in the error banner, outcomes (export, fork) in a notice.
 */
import type { RunSummary } from '../../../src/core/store/run-summary.ts';
import type { ParamsIn, RequestMethod, ResultOf } from '../../../src/protocol/messages.ts';
import { ErrorAction } from '../../../src/protocol/schemas.ts';
import type { ReplyError } from '../../../src/protocol/schemas.ts';
import type { WebviewChannel } from '../../../src/protocol/webview-channel.ts';
import { renderBanner } from '../../shared/banner.ts';
import { h, icon, replaceChildren } from '../../shared/dom.ts';
import { upsertRuns } from '../model/filter.ts';
import { buildTrace } from '../model/trace-model.ts';
import { RunList } from './run-list.ts';
import { TraceView } from './trace-view.ts';

export class HistoryApp {
  readonly #banner = h('div', { class: 'banner' });
  readonly #notice = h('div', { class: 'notice-line', attrs: { role: 'status' } });
  readonly #runs = new RunList();
  readonly #trace = new TraceView();
  #screen: 'list' | 'trace' = 'list';

  constructor(
    root: HTMLElement,
    private readonly channel: WebviewChannel,
  ) {
    root.classList.add('history');
    root.append(this.#banner, this.#notice, this.#runs.element, this.#trace.element);
    this.#banner.hidden = true;
    this.#notice.hidden = true;
    this.showScreen('list');
    root.addEventListener('click', (ev) => {
      const target = (ev.target as Element | null)?.closest<HTMLElement>('[data-action]');
      if (target && !(target instanceof HTMLButtonElement && target.disabled)) this.act(target.dataset['action'] ?? '', target);
    });
  }

  /** After the handshake: fetch the runs. */
  start(): void {
    this.send('history/list', {}, ({ runs }) => this.#runs.setRuns(runs));
  }

  updateRuns(updates: RunSummary[]): void {
    this.#runs.setRuns(upsertRuns(this.#runs.runs, updates));
    const shown = this.#trace.runId;
    if (this.#screen === 'trace' && shown !== undefined && updates.some((r) => r.id === shown)) this.openTrace(shown);
  }

  openTrace(runId: string): void {
    this.send('trace/get', { runId }, ({ events }) => {
      this.showScreen('trace');
      this.#trace.show(buildTrace(runId, events));
    });
  }

  showError(error: Pick<ReplyError, 'message' | 'actions'>): void {
    renderBanner(this.#banner, { message: error.message, actions: error.actions ?? [] });
  }

  clearError(): void {
    renderBanner(this.#banner, undefined);
  }

  private showScreen(screen: 'list' | 'trace'): void {
    this.#screen = screen;
    this.#runs.element.hidden = screen !== 'list';
    this.#trace.element.hidden = screen !== 'trace';
  }

  private say(text: string): void {
    this.#notice.hidden = false;
    replaceChildren(this.#notice, icon('info'), ` ${text}`);
  }

  private act(action: string, el: HTMLElement): void {
    const runId = this.#trace.runId;
    switch (action) {
      case 'open-run':
        return el.dataset['run'] ? this.openTrace(el.dataset['run']) : undefined;
      case 'back':
        this.#notice.hidden = true;
        return this.showScreen('list');
      case 'export':
        if (runId === undefined) return;
        return this.send('trace/export', { runId }, (r) => r.saved && this.say(r.location ? `Trace exported to ${r.location}.` : 'Trace exported.'));
      case 'fork': {
        const step = Number(el.dataset['step']);
        if (runId === undefined || !Number.isInteger(step)) return;
        return this.send('run/fork', { runId, step }, (r) => this.say(`Created run ${r.runId} from the state after step ${step}; continue it from the chat.`));
      }
      case 'error-action': {
        const parsed = ErrorAction.safeParse(el.dataset['errorAction']);
        return parsed.success ? this.send('action/invoke', { action: parsed.data, ...(runId !== undefined && { runId }) }) : undefined;
      }
      case 'dismiss-banner':
        return this.clearError();
    }
  }

  private send<M extends RequestMethod>(method: M, params: ParamsIn<M>, onOk: (value: ResultOf<M>) => void = () => {}): void {
    void this.channel.request(method, params).then((result) => {
      if (!result.ok) return this.showError(result.error);
      this.clearError();
      onOk(result.value);
    });
  }
}
