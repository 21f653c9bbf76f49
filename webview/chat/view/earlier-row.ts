/**
 * The marker row where a transcript shown from its tail leaves out older
 * events: how many, and a button to load them (they also load on their own
 * when the marker scrolls near; see chat-app.ts).
 */
import { button, h, icon } from '../../shared/dom.ts';

/** The marker's list key; transcript row ids are `r<n>`, so it cannot clash. */
export const EARLIER_KEY = 'earlier';

export function renderEarlierRow(count: number, loading: boolean): HTMLElement {
  const what = `${count.toLocaleString('en-US')} earlier event${count === 1 ? '' : 's'} not shown`;
  return h(
    'div',
    { class: 'row row-earlier', data: { row: EARLIER_KEY } },
    loading
      ? h('span', { class: 'earlier-loading', attrs: { role: 'status' } }, icon('loading codicon-modifier-spin'), ' Loading earlier messages…')
      : h('span', { class: 'earlier-text' }, icon('fold-up'), ` ${what}`),
    button('Load earlier', { action: 'load-earlier', icon: 'arrow-up', variant: 'secondary', disabled: loading }),
  );
}
