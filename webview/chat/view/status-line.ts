/**
 * The live status line: state, step, tokens, cost, budget left, sandbox.
 * Rebuilt whole on change (a handful of nodes, at most once per frame).
 */
import type { SandboxState } from '../../../src/protocol/schemas.ts';
import { formatCost, formatPercent, formatTokens } from '../../shared/format.ts';
import { h, icon, replaceChildren } from '../../shared/dom.ts';
import type { ChatStore } from '../model/chat-store.ts';
import { statusWord } from '../model/composer-mode.ts';
import type { StatusWord } from '../model/composer-mode.ts';
import { RUN_STATUS_LABELS } from '../model/labels.ts';
import { budgetLeft } from '../model/run-progress.ts';

const STATE_ICONS: Record<StatusWord, string> = {
  idle: 'circle-large-outline',
  running: 'loading codicon-modifier-spin',
  waiting_user: 'question',
  interrupted: 'debug-stop',
  completed: 'pass',
  failed: 'error',
  halted: 'warning',
  stopping: 'loading codicon-modifier-spin',
  stale: 'debug-pause',
};

const SANDBOX_LABELS: Record<SandboxState, string> = {
  unknown: 'sandbox –',
  starting: 'sandbox starting',
  building: 'sandbox building',
  ready: 'sandbox ready',
  stopped: 'sandbox stopped',
  unavailable: 'Docker unavailable',
  error: 'sandbox error',
};

const LOW_BUDGET = 0.2;

export function renderStatusLine(el: HTMLElement, store: ChatStore): void {
  const p = store.progress;
  const word = statusWord(store.inputs());
  const budget = budgetLeft(p);
  const sandboxProblem = store.sandbox.state === 'unavailable' || store.sandbox.state === 'error';
  const progress = p.sandbox && (store.sandbox.state === 'building' || store.sandbox.state === 'starting') ? p.sandbox : undefined;
  const sandboxTitle = [store.sandbox.detail, progress?.message].filter(Boolean).join(' — ') || SANDBOX_LABELS[store.sandbox.state];
  replaceChildren(
    el,
    h('span', { class: `status-state state-${word}`, attrs: { role: 'status' } }, icon(STATE_ICONS[word]), RUN_STATUS_LABELS[word]),
    p.runId !== null ? h('span', { class: 'status-item', title: 'Steps so far (one per model turn)' }, `step ${p.step}`) : null,
    p.runId !== null ? h('span', { class: 'status-item', title: `${p.tokens} tokens` }, `${formatTokens(p.tokens)} tokens`) : null,
    p.runId !== null ? h('span', { class: 'status-item', title: 'Cost so far' }, formatCost(p.costUsd)) : null,
    budget
      ? h('span', { class: `status-item${budget.fraction < LOW_BUDGET ? ' status-low' : ''}`, title: `Tightest budget: ${budget.detail}` }, `budget ${formatPercent(budget.fraction)} left`)
      : null,
    h(
      'span',
      { class: `status-item status-sandbox${sandboxProblem ? ' status-low' : ''}`, title: sandboxTitle },
      icon(sandboxProblem ? 'warning' : 'server-environment'),
      progress?.total ? `${SANDBOX_LABELS[store.sandbox.state]} ${progress.done ?? 0}/${progress.total}` : SANDBOX_LABELS[store.sandbox.state],
    ),
  );
}
