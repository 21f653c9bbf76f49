/**
 * One transcript row → its element. Model text is sanitised markdown, user
 * and tool text is plain text; nothing is parsed as HTML. Indentation by
 * delegation depth and a colour per role come from CSS classes.
 */
import { ACTION_LABELS } from '../../../src/protocol/error-actions.ts';
import type { Role, Verdict } from '../../../src/core/events/schema.ts';
import { button, h, icon } from '../../shared/dom.ts';
import { browserMarkdownDom, renderMarkdown } from '../../shared/markdown/render.ts';
import type { Row } from '../model/rows.ts';
import { defaultExpanded, renderToolCard } from './tool-card.ts';

const ROLE_ICONS: Record<Role, string> = { orchestrator: 'organization', developer: 'tools', tester: 'beaker' };
const ROLE_NAMES: Record<Role, string> = { orchestrator: 'Orchestrator', developer: 'Developer', tester: 'Tester' };
const MAX_INDENT = 4;

/** The view state rows do not carry: which tool cards the user opened or closed. */
export interface RowViewState {
  toggled: ReadonlyMap<string, boolean>;
}

const markdown = (text: string) => renderMarkdown(text, browserMarkdownDom);

function verdictBadge(verdict: Verdict | undefined): HTMLElement | null {
  if (!verdict) return null;
  return h('span', { class: `badge ${verdict === 'pass' ? 'badge-ok' : 'badge-error'}` }, `tester: ${verdict}`);
}

function shell(row: Row, ...children: (HTMLElement | null)[]): HTMLElement {
  const depth = Math.min(row.depth, MAX_INDENT);
  const role = row.role ? ` role-${row.role}` : '';
  return h('div', { class: `row row-${row.kind} depth-${depth}${role}`, data: { row: row.id } }, ...children);
}

export function renderRow(row: Row, view: RowViewState): HTMLElement {
  switch (row.kind) {
    case 'goal':
      return shell(row, h('div', { class: 'goal' }, icon('target'), h('div', { class: 'goal-text' }, row.text)));
    case 'agent':
      return shell(
        row,
        h(
          'div',
          { class: 'agent-head' },
          icon(ROLE_ICONS[row.role]),
          h('span', { class: 'agent-role' }, ROLE_NAMES[row.role]),
          h('span', { class: 'agent-model' }, row.model),
        ),
        row.parentRole ? h('div', { class: 'agent-task', title: row.task }, row.task) : null,
      );
    case 'text':
      if (row.text === '' && !row.streaming) return shell(row);
      return shell(row, h('div', { class: `model-text${row.streaming ? ' streaming' : ''}` }, row.text === '' ? h('span', { class: 'typing' }, 'Thinking…') : markdown(row.text)));
    case 'tool':
      if (row.hidden) return shell(row);
      return shell(row, renderToolCard(row, view.toggled.get(row.id) ?? defaultExpanded(row)));
    case 'user':
      return shell(row, h('div', { class: 'user-message' }, icon('account'), h('div', { class: 'user-text' }, row.text)));
    case 'question':
      return shell(
        row,
        h(
          'div',
          { class: 'question' },
          h('div', { class: 'question-head' }, icon('question'), `${row.role ? ROLE_NAMES[row.role] : 'The team'} asks:`),
          h('div', { class: 'question-text' }, markdown(row.question)),
          row.answer !== undefined
            ? h('div', { class: 'question-answer' }, h('span', { class: 'label' }, 'You answered: '), row.answer)
            : h('div', { class: 'question-pending' }, 'Waiting for your answer below.'),
        ),
      );
    case 'notice':
      return shell(
        row,
        h('div', { class: `notice tone-${row.tone}` }, icon(row.icon), h('span', { class: 'notice-text' }, row.text), verdictBadge(row.verdict)),
        row.detail !== undefined && row.detail.trim() !== '' ? h('div', { class: 'notice-detail' }, markdown(row.detail)) : null,
      );
    case 'error':
      return shell(
        row,
        h(
          'div',
          { class: 'error-row', attrs: { role: 'alert' } },
          h('div', { class: 'error-message' }, icon('error'), h('span', null, row.message)),
          row.actions.length > 0
            ? h('div', { class: 'actions' }, ...row.actions.map((a) => button(ACTION_LABELS[a], { action: 'error-action', data: { errorAction: a } })))
            : null,
        ),
      );
    case 'summary':
      return shell(
        row,
        h(
          'div',
          { class: 'summary' },
          h('div', { class: 'summary-head' }, icon('check-all'), `${row.role ? ROLE_NAMES[row.role] : 'Agent'} finished`, verdictBadge(row.verdict)),
          h('div', { class: 'summary-text' }, markdown(row.text)),
        ),
      );
  }
}
