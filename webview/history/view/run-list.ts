/**
 * The run history: a search box and every run of the workspace (goal, state,
 * duration, tokens, cost, tester verdict), newest first, virtualised.
 * Clicking a run bubbles up as `data-action="open-run"`.
 */
import type { RunSummary } from '../../../src/core/store/run-summary.ts';
import { h } from '../../shared/dom.ts';
import { formatCost, formatDuration, formatTimestamp, formatTokens } from '../../shared/format.ts';
import { VirtualList } from '../../shared/virtual-list.ts';
import { filterRuns, runDurationMs } from '../model/filter.ts';

const ROW_HEIGHT_PX = 44;

const STATUS_LABELS: Record<RunSummary['status'], string> = {
  running: 'running',
  waiting_user: 'waiting for you',
  interrupted: 'stopped',
  completed: 'completed',
  failed: 'failed',
  halted: 'halted',
};

export class RunList {
  readonly element = h('div', { class: 'run-list' });
  readonly #search = h('input', { class: 'run-search', attrs: { type: 'search', placeholder: 'Search runs (words, status:failed, verdict:pass, is:fork)', 'aria-label': 'Search runs' } });
  readonly #count = h('span', { class: 'run-count' });
  readonly #list: VirtualList;
  #runs: RunSummary[] = [];
  #shown: RunSummary[] = [];
  #version = 0;

  constructor() {
    this.#list = new VirtualList(
      {
        count: () => this.#shown.length,
        key: (i) => this.#shown[i]!.id,
        version: () => this.#version,
        render: (i) => this.renderRun(this.#shown[i]!),
      },
      { label: 'Runs', estimate: ROW_HEIGHT_PX },
    );
    this.#search.addEventListener('input', () => this.refilter());
    this.element.append(
      h('div', { class: 'run-list-head' }, this.#search, this.#count),
      h(
        'div',
        { class: 'run-columns' },
        ...(['Goal', 'State', 'Duration', 'Tokens', 'Cost', 'Verdict'] as const).map((c) => h('span', { class: c === 'Duration' || c === 'Tokens' || c === 'Cost' ? 'num' : '' }, c)),
      ),
      this.#list.element,
    );
  }

  setRuns(runs: RunSummary[]): void {
    this.#runs = runs;
    this.refilter();
  }

  get runs(): readonly RunSummary[] {
    return this.#runs;
  }

  private refilter(): void {
    this.#shown = filterRuns(this.#runs, this.#search.value);
    this.#version += 1;
    this.#count.textContent = this.#shown.length === this.#runs.length ? `${this.#runs.length} runs` : `${this.#shown.length} of ${this.#runs.length} runs`;
    this.#list.flush();
  }

  private renderRun(run: RunSummary): HTMLElement {
    return h(
      'button',
      { class: 'run-row', title: run.goal, attrs: { type: 'button' }, data: { action: 'open-run', run: run.id } },
      h('span', { class: 'run-goal' }, h('span', { class: 'run-goal-text' }, run.goal || run.id), h('span', { class: 'run-when' }, `${formatTimestamp(run.createdAt)}${run.forkOf ? ` · fork of ${run.forkOf.runId} @ step ${run.forkOf.step}` : ''}`)),
      h('span', { class: `run-status status-${run.status}` }, STATUS_LABELS[run.status]),
      h('span', { class: 'num' }, formatDuration(runDurationMs(run))),
      h('span', { class: 'num' }, formatTokens(run.tokens)),
      h('span', { class: 'num' }, formatCost(run.costUsd)),
      h('span', { class: `run-verdict verdict-${run.verdict ?? 'none'}` }, run.verdict ?? '–'),
    );
  }
}
