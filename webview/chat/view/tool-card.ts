/**
 * A tool call as a card: state icon, tool name, what it does, exit code and
 * duration in the head (a toggle button), and the output, collapsible, as
 * plain text.
 *
 * Contract: the output is expanded by default while the call runs or when it
 * failed; the user's toggle wins over the default.
 */
import { formatDuration } from '../../shared/format.ts';
import { append, h, icon } from '../../shared/dom.ts';
import type { ToolRow, ToolState } from '../model/rows.ts';

const STATE_ICONS: Record<ToolState, string> = {
  preparing: 'loading codicon-modifier-spin',
  running: 'loading codicon-modifier-spin',
  done: 'check',
  error: 'error',
  interrupted: 'debug-stop',
  discarded: 'circle-slash',
};

const STATE_LABELS: Record<ToolState, string> = {
  preparing: 'preparing',
  running: 'running',
  done: 'done',
  error: 'failed',
  interrupted: 'stopped',
  discarded: 'discarded (the model retried)',
};

export function defaultExpanded(row: ToolRow): boolean {
  return row.state === 'running' || row.state === 'error';
}

export function renderToolCard(row: ToolRow, expanded: boolean): HTMLElement {
  const hasOutput = row.output !== '';
  const name = row.name === '' ? 'tool' : row.name;
  const head = h(
    'button',
    {
      class: 'tool-head',
      title: hasOutput ? (expanded ? 'Hide output' : 'Show output') : `${name}: ${STATE_LABELS[row.state]}`,
      attrs: { type: 'button', 'aria-expanded': String(expanded && hasOutput) },
      data: { action: 'toggle-tool', row: row.id },
    },
    icon(STATE_ICONS[row.state], 'tool-state-icon'),
    h('span', { class: 'tool-name' }, name),
    h('span', { class: 'tool-title' }, row.title || (row.state === 'preparing' ? `${row.argsText.length} characters…` : '')),
    row.exitCode !== undefined ? h('span', { class: `badge ${row.exitCode === 0 ? 'badge-ok' : 'badge-error'}` }, `exit ${row.exitCode}`) : null,
    row.durationMs !== undefined ? h('span', { class: 'tool-duration' }, formatDuration(row.durationMs)) : null,
    h('span', { class: 'visually-hidden' }, STATE_LABELS[row.state]),
    hasOutput ? icon(expanded ? 'chevron-down' : 'chevron-right', 'tool-chevron') : null,
  );
  const card = h('div', { class: `tool-card tool-${row.state}` }, head);
  if (expanded && hasOutput) {
    append(card, [
      h('pre', { class: 'tool-output', attrs: { tabindex: '0' } }, row.output),
      row.outputClipped ? h('div', { class: 'tool-clipped' }, 'Output shortened here; the run trace has all of it.') : null,
    ]);
  }
  return card;
}
