/** The strip above the transcript listing the runs that were active when the window closed. */
import type { RunSummary } from '../../../src/core/store/run-summary.ts';
import { button, h, icon, replaceChildren } from '../../shared/dom.ts';
import { formatTimestamp, oneLine } from '../../shared/format.ts';

export function renderResumable(el: HTMLElement, runs: readonly RunSummary[], shownRunId: string | null): void {
  const offered = runs.filter((r) => r.id !== shownRunId);
  el.hidden = offered.length === 0;
  if (offered.length === 0) return replaceChildren(el);
  replaceChildren(
    el,
    h('div', { class: 'resumable-head' }, icon('history'), 'Runs that were active when Crewbox last stopped'),
    ...offered.map((r) =>
      h(
        'div',
        { class: 'resumable-run' },
        h('span', { class: 'resumable-goal', title: r.goal }, oneLine(r.goal, 80)),
        h('span', { class: 'resumable-meta' }, `${formatTimestamp(r.updatedAt)} · step ${r.steps}`),
        button('Resume', { action: 'resume-run', icon: 'debug-continue', data: { run: r.id } }),
        button('Discard', { action: 'discard-run', icon: 'trash', variant: 'icon', data: { run: r.id } }),
      ),
    ),
  );
}
