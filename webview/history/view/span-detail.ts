/**
 * The selected span in full: what it was (prompt, task, response, tool input
 * and output), what it cost (tokens, cache hits, cost, latency), its events,
 * and the rollback / fork buttons for its step. Long texts sit in <details>
 * so the pane stays scannable. Model text is sanitised markdown, tool text
 * plain text.
 */
import type { Span, Totals } from '../../../src/core/trace/types.ts';
import { button, h } from '../../shared/dom.ts';
import type { Child } from '../../shared/dom.ts';
import { formatCost, formatDuration, formatPercent, formatTokens } from '../../shared/format.ts';
import { browserMarkdownDom, renderMarkdown } from '../../shared/markdown/render.ts';
import type { TraceData } from '../model/trace-model.ts';
import { forkStep } from '../model/trace-model.ts';

function facts(pairs: [string, Child][]): HTMLElement {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === '') continue;
    dl.append(h('dt', null, k), h('dd', null, v));
  }
  return dl;
}

function section(title: string, body: HTMLElement, open = false): HTMLElement {
  const d = h('details', { class: 'detail-section' }, h('summary', null, title), body);
  d.open = open;
  return d;
}

const pre = (text: string) => h('pre', { class: 'detail-pre', attrs: { tabindex: '0' } }, text);
const markdown = (text: string) => renderMarkdown(text, browserMarkdownDom);

/** Arguments as the model sent them, indented when they are JSON. */
function argsJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

export function totalsFacts(t: Totals): [string, Child][] {
  return [
    ['Steps', t.steps],
    ['Input tokens', formatTokens(t.usage.inputTokens)],
    ['Output tokens', formatTokens(t.usage.outputTokens)],
    ['Cache read', formatTokens(t.usage.cacheReadTokens)],
    ['Cache write', formatTokens(t.usage.cacheWriteTokens)],
    ['Cache hits', formatPercent(t.cacheHitRatio)],
    ['Cost', formatCost(t.costUsd)],
    ['Tool calls', `${t.toolCalls}${t.toolErrors > 0 ? ` (${t.toolErrors} failed)` : ''}`],
  ];
}

function body(span: Span, trace: TraceData): HTMLElement[] {
  switch (span.kind) {
    case 'run': {
      const a = span.attributes;
      return [
        facts([
          ['Goal', a.goal],
          ['Outcome', a.outcome ?? span.status],
          ['Tester verdict', a.verdict],
          ['Active time', formatDuration(a.activeMs)],
          ['Interruptions', a.interruptions],
          ['Resumes', a.resumes],
          ...totalsFacts(a.totals),
        ]),
        ...(a.summary ? [section('Summary', markdown(a.summary), true)] : []),
      ];
    }
    case 'agent': {
      const a = span.attributes;
      const started = trace.agentStarts.get(a.agentId);
      return [
        facts([['Role', a.role], ['Model', `${a.provider} ${a.model}`], ['Verdict', a.verdict], ['Duration', formatDuration(span.end - span.start)], ...totalsFacts(a.totals)]),
        section('Task', markdown(a.task), true),
        ...(started ? [section('System prompt', pre(started.system))] : []),
        ...(a.summary ? [section('Summary', markdown(a.summary), true)] : []),
      ];
    }
    case 'model': {
      const a = span.attributes;
      const turn = trace.turns.get(a.turnId);
      const prompt = a.usage.inputTokens + a.usage.cacheReadTokens + a.usage.cacheWriteTokens;
      return [
        facts([
          ['Step', a.step],
          ['Agent', a.role],
          ['Model', `${a.provider} ${a.model}`],
          ['Latency', formatDuration(a.durationMs)],
          ['First token', a.ttftMs !== undefined ? formatDuration(a.ttftMs) : undefined],
          ['Attempts', a.attempts],
          ['Stop reason', a.stopReason],
          ['Input tokens', formatTokens(a.usage.inputTokens)],
          ['Output tokens', formatTokens(a.usage.outputTokens)],
          ['Cache read', formatTokens(a.usage.cacheReadTokens)],
          ['Cache write', formatTokens(a.usage.cacheWriteTokens)],
          ['Cache hits', formatPercent(prompt === 0 ? 0 : a.usage.cacheReadTokens / prompt)],
          ['Cost', formatCost(a.costUsd)],
        ]),
        ...(turn && turn.text.trim() !== '' ? [section('Response', markdown(turn.text), true)] : []),
        ...(turn && turn.toolCalls.length > 0
          ? [section(`Tool calls (${turn.toolCalls.length})`, h('div', null, ...turn.toolCalls.map((c) => h('div', { class: 'tool-call' }, h('div', { class: 'tool-call-name' }, c.name), pre(argsJson(c.argsText))))), true)]
          : []),
      ];
    }
    case 'tool': {
      const a = span.attributes;
      return [
        facts([
          ['Step', a.step],
          ['Agent', a.role],
          ['Tool', a.toolName],
          ['Status', span.status],
          ['Exit code', a.exitCode],
          ['Duration', a.durationMs !== undefined ? formatDuration(a.durationMs) : undefined],
          ['Read-only', a.readOnly === undefined ? undefined : a.readOnly ? 'yes' : 'no'],
        ]),
        section('Input', pre(json(a.args)), true),
        ...(a.output !== undefined ? [section('Output', pre(a.output), true)] : []),
      ];
    }
  }
}

function eventsList(span: Span): HTMLElement | null {
  if (span.events.length === 0) return null;
  return section(
    `Events (${span.events.length})`,
    h(
      'ul',
      { class: 'span-events' },
      ...span.events.map((e) =>
        h('li', null, h('span', { class: 'event-name' }, e.name), ' ', Object.entries(e.attributes).map(([k, v]) => `${k}=${String(v)}`).join(' · ')),
      ),
    ),
  );
}

export function renderSpanDetail(span: Span | undefined, trace: TraceData): HTMLElement {
  if (!span) return h('div', { class: 'span-detail empty' }, h('p', { class: 'hint' }, 'Select a span to see its prompts, responses, inputs, outputs and costs.'));
  const step = forkStep(span);
  return h(
    'div',
    { class: 'span-detail' },
    h('h2', { class: 'detail-title' }, span.name),
    span.statusMessage ? h('p', { class: 'detail-status' }, span.statusMessage) : null,
    ...body(span, trace),
    eventsList(span),
    step !== undefined
      ? h(
          'div',
          { class: 'toolbar detail-actions' },
          step > 0
            ? button(`Rollback to here (redo step ${step})`, { action: 'fork', icon: 'discard', data: { step: String(step - 1) }, title: `A new run from the state after step ${step - 1}; this run is kept.` })
            : null,
          button(`Fork from step ${step}`, { action: 'fork', icon: 'repo-forked', data: { step: String(step) }, title: `A new run from the state after step ${step}; this run is kept.` }),
        )
      : null,
  );
}
