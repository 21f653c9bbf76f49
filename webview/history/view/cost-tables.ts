/** Cost per agent and per step of a trace, as two small tables. */
import { h } from '../../shared/dom.ts';
import { formatCost, formatDuration, formatPercent, formatTokens } from '../../shared/format.ts';
import type { TraceData } from '../model/trace-model.ts';
import { agentCosts, stepCosts } from '../model/trace-model.ts';

/** Beyond this, the step table shows the most expensive steps only. */
const MAX_STEP_ROWS = 300;

function table(headers: string[], rows: (string | number)[][], numericFrom = 1): HTMLTableElement {
  return h(
    'table',
    { class: 'cost-table' },
    h('thead', null, h('tr', null, ...headers.map((c, i) => h('th', { class: i >= numericFrom ? 'num' : '' }, c)))),
    h('tbody', null, ...rows.map((r) => h('tr', null, ...r.map((c, i) => h('td', { class: i >= numericFrom ? 'num' : '' }, c))))),
  );
}

export function renderAgentCosts(trace: TraceData): HTMLElement {
  const rows = agentCosts(trace).map(({ span, own, inclusive }) => [
    `${span.attributes.role} (${span.attributes.agentId})`,
    own.steps,
    formatTokens(own.usage.inputTokens + own.usage.outputTokens + own.usage.cacheReadTokens + own.usage.cacheWriteTokens),
    formatPercent(own.cacheHitRatio),
    formatCost(own.costUsd),
    formatCost(inclusive.costUsd),
  ]);
  return h('section', { class: 'cost-section' }, h('h3', null, 'Cost by agent'), table(['Agent', 'Steps', 'Tokens', 'Cache hits', 'Own cost', 'With delegates'], rows));
}

export function renderStepCosts(trace: TraceData): HTMLElement {
  let spans = stepCosts(trace);
  const cut = spans.length > MAX_STEP_ROWS;
  if (cut) spans = [...spans].sort((a, b) => b.attributes.costUsd - a.attributes.costUsd).slice(0, MAX_STEP_ROWS).sort((a, b) => a.attributes.step - b.attributes.step);
  const rows = spans.map((s) => {
    const u = s.attributes.usage;
    const prompt = u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
    return [
      s.attributes.step,
      s.attributes.role ?? '',
      formatTokens(prompt + u.outputTokens),
      formatPercent(prompt === 0 ? 0 : u.cacheReadTokens / prompt),
      formatDuration(s.attributes.durationMs),
      formatCost(s.attributes.costUsd),
    ];
  });
  return h(
    'section',
    { class: 'cost-section' },
    h('h3', null, cut ? `Cost by step (the ${MAX_STEP_ROWS} most expensive)` : 'Cost by step'),
    table(['Step', 'Agent', 'Tokens', 'Cache hits', 'Latency', 'Cost'], rows, 2),
  );
}
