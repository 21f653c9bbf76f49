/**
 * The error banner both views show: one sentence and its action buttons
 * (`data-action="error-action"`), plus Dismiss (`data-action="dismiss-banner"`).
 */
import { ACTION_LABELS } from '../../src/protocol/error-actions.ts';
import type { ErrorAction } from '../../src/protocol/schemas.ts';
import { button, h, icon, replaceChildren } from './dom.ts';

export interface Banner {
  message: string;
  actions: readonly ErrorAction[];
}

export function renderBanner(el: HTMLElement, banner: Banner | undefined): void {
  el.hidden = banner === undefined;
  if (!banner) return replaceChildren(el);
  replaceChildren(
    el,
    h('div', { class: 'banner-message', attrs: { role: 'alert' } }, icon('error'), h('span', null, banner.message)),
    h(
      'div',
      { class: 'actions' },
      ...banner.actions.map((a) => button(ACTION_LABELS[a], { action: 'error-action', data: { errorAction: a } })),
      button('Dismiss', { action: 'dismiss-banner', icon: 'close', variant: 'icon' }),
    ),
  );
}
