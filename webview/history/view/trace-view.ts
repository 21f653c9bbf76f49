/**
 * One run's trace: a header with its totals and Export OTLP, the span tree
 * (orchestrator → sub-agents → model and tool calls) with each span's bar on
 * the run's timeline, and beside it the selected span's detail and the cost
 * tables. The tree is a virtualised list, so a long run stays light.
 *
 * Contract: it handles its own toggles and selection; Back, Export and the
 * fork buttons bubble up as `data-action` clicks for the app to send.
 */
import type { Role } from '../../../src/core/events/schema.ts';
import type { Span } from '../../../src/core/trace/types.ts';
import { button, h, icon, replaceChildren } from '../../shared/dom.ts';
import { formatCost, formatDuration, formatTokens } from '../../shared/format.ts';
import { VirtualList } from '../../shared/virtual-list.ts';
import type { TraceData, TraceRow } from '../model/trace-model.ts';
import { traceRows } from '../model/trace-model.ts';
import { renderAgentCosts, renderStepCosts } from './cost-tables.ts';
import { renderSpanDetail } from './span-detail.ts';

const ROLE_ICONS: Record<Role, string> = { orchestrator: 'organization', developer: 'tools', tester: 'beaker' };
const TOOL_ICONS: Record<string, string> = {
  delegate: 'git-pull-request-create',
  run_command: 'terminal',
  read_file: 'file',
  write_file: 'edit',
  edit_file: 'edit',
  search_files: 'search',
  list_files: 'list-tree',
  finish: 'check',
  ask_user: 'question',
};
const STATUS_ICONS = { ok: 'pass', error: 'error', unfinished: 'debug-pause' } as const;
const INDENT_PX = 14;
const ROW_HEIGHT_PX = 24;

function spanIcon(span: Span): string {
  switch (span.kind) {
    case 'run':
      return 'rocket';
    case 'agent':
      return ROLE_ICONS[span.attributes.role];
    case 'model':
      return 'sparkle';
    case 'tool':
      return TOOL_ICONS[span.attributes.toolName] ?? 'tools';
  }
}

function spanMeta(span: Span): string {
  const duration = formatDuration(span.end - span.start);
  switch (span.kind) {
    case 'run':
    case 'agent': {
      const t = span.attributes.totals;
      return `${duration} · ${formatCost(t.costUsd)}`;
    }
    case 'model': {
      const u = span.attributes.usage;
      return `${duration} · ${formatTokens(u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens)} tok · ${formatCost(span.attributes.costUsd)}`;
    }
    case 'tool':
      return span.attributes.exitCode !== undefined ? `${duration} · exit ${span.attributes.exitCode}` : duration;
  }
}

export class TraceView {
  readonly element = h('div', { class: 'trace' });
  readonly #header = h('div', { class: 'trace-header' });
  readonly #side = h('div', { class: 'trace-side' });
  readonly #tree: VirtualList;
  readonly #toggled = new Map<string, boolean>();
  #trace: TraceData | undefined;
  #rows: TraceRow[] = [];
  #selected: string | undefined;
  #generation = 0;

  constructor() {
    this.#tree = new VirtualList(
      {
        count: () => this.#rows.length,
        key: (i) => this.#rows[i]!.span.id,
        version: (i) => {
          const row = this.#rows[i]!;
          return this.#generation * 4 + (row.expanded ? 1 : 0) + (row.span.id === this.#selected ? 2 : 0);
        },
        render: (i) => this.renderRow(this.#rows[i]!),
      },
      { label: 'Trace spans', estimate: ROW_HEIGHT_PX, overscan: 400 },
    );
    this.element.append(
      this.#header,
      h('div', { class: 'trace-body' }, h('div', { class: 'trace-tree' }, h('div', { class: 'trace-columns' }, h('span', null, 'Span'), h('span', null, 'Timeline')), this.#tree.element), this.#side),
    );
    this.element.addEventListener('click', (ev) => {
      const target = (ev.target as Element | null)?.closest<HTMLElement>('[data-span-action]');
      const spanId = target?.closest<HTMLElement>('[data-span]')?.dataset['span'];
      if (!target || spanId === undefined) return;
      if (target.dataset['spanAction'] === 'toggle') this.toggle(spanId);
      else this.select(spanId);
    });
  }

  get runId(): string | undefined {
    return this.#trace?.runId;
  }

  show(trace: TraceData): void {
    const sameRun = this.#trace?.runId === trace.runId;
    this.#trace = trace;
    this.#generation += 1;
    if (!sameRun) {
      this.#toggled.clear();
      this.#selected = trace.run?.id;
      this.#tree.reset();
    }
    this.renderHeader(trace);
    this.refreshRows();
    this.renderSide();
  }

  select(spanId: string): void {
    this.#selected = spanId;
    this.#tree.invalidate();
    this.renderSide();
  }

  private toggle(spanId: string): void {
    const row = this.#rows.find((r) => r.span.id === spanId);
    if (!row) return;
    this.#toggled.set(spanId, !row.expanded);
    this.refreshRows();
  }

  private refreshRows(): void {
    if (!this.#trace) return;
    this.#rows = traceRows(this.#trace, this.#toggled);
    this.#tree.flush();
  }

  private renderHeader(trace: TraceData): void {
    const run = trace.run;
    const t = run?.attributes.totals;
    replaceChildren(
      this.#header,
      button('Runs', { action: 'back', icon: 'arrow-left', title: 'Back to the run history' }),
      h('div', { class: 'trace-goal', title: run?.attributes.goal ?? '' }, run?.attributes.goal ?? trace.runId),
      t ? h('span', { class: 'trace-totals' }, `${run.attributes.outcome ?? run.status} · ${t.steps} steps · ${formatTokens(t.usage.inputTokens + t.usage.outputTokens + t.usage.cacheReadTokens + t.usage.cacheWriteTokens)} tokens · ${formatCost(t.costUsd)}`) : null,
      button('Export OTLP', { action: 'export', icon: 'export', title: 'Save this trace as OTLP JSON' }),
    );
  }

  private renderSide(): void {
    const trace = this.#trace;
    if (!trace) return replaceChildren(this.#side);
    const span = this.#selected !== undefined ? trace.spans.get(this.#selected) : undefined;
    replaceChildren(this.#side, renderSpanDetail(span, trace), renderAgentCosts(trace), renderStepCosts(trace));
  }

  private renderRow(row: TraceRow): HTMLElement {
    const span = row.span;
    const label = h(
      'div',
      { class: 'trace-label' },
      row.hasChildren
        ? h(
            'button',
            { class: 'twisty', title: row.expanded ? 'Collapse' : 'Expand', attrs: { type: 'button', 'aria-expanded': String(row.expanded) }, data: { spanAction: 'toggle' } },
            icon(row.expanded ? 'chevron-down' : 'chevron-right'),
          )
        : h('span', { class: 'twisty-space' }),
      h(
        'button',
        { class: 'trace-name', title: span.name, attrs: { type: 'button' }, data: { spanAction: 'select' } },
        icon(spanIcon(span), `kind-${span.kind}`),
        h('span', { class: 'trace-name-text' }, span.name),
        icon(STATUS_ICONS[span.status], `status-${span.status}`),
      ),
      h('span', { class: 'trace-meta' }, spanMeta(span)),
    );
    label.style.paddingLeft = `${row.depth * INDENT_PX}px`;
    const bar = h('div', { class: `trace-bar kind-${span.kind} status-${span.status}` });
    bar.style.left = `${row.offset * 100}%`;
    bar.style.width = `max(2px, ${row.width * 100}%)`;
    const selected = span.id === this.#selected;
    return h(
      'div',
      { class: `trace-row${selected ? ' selected' : ''}`, data: { span: span.id }, attrs: { 'aria-selected': String(selected) } },
      label,
      h('div', { class: 'trace-timeline' }, bar),
    );
  }
}
