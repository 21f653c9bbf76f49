/**
 * The one way the webviews build DOM: elements with classes, attributes and
 * text set through the DOM API. There is no path from a string to markup
 * here: text goes in as text nodes, so model and tool output is inert.
 *
 * Contract: `attrs` refuses event handlers, inline styles and URL-bearing
 * attributes (links are made only by the markdown renderer, which checks the
 * URL). Dynamic geometry is set through `element.style` properties (CSSOM),
 * which the CSP allows, never through a `style` attribute.
 */

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  title?: string;
  attrs?: Record<string, string>;
  data?: Record<string, string>;
}

const FORBIDDEN_ATTR = /^(on|style$|href$|src$|srcdoc$|action$|formaction$|xlink:)/i;

export function setAttrs(el: Element, attrs: Record<string, string>): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (FORBIDDEN_ATTR.test(name)) throw new Error(`Refusing to set attribute "${name}" from view code.`);
    el.setAttribute(name, value);
  }
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props?.class) el.className = props.class;
  if (props?.title !== undefined) el.title = props.title;
  if (props?.attrs) setAttrs(el, props.attrs);
  if (props?.data) for (const [k, v] of Object.entries(props.data)) el.dataset[k] = v;
  append(el, children);
  return el;
}

/** A codicon (the font is provided by the host from media/). Decorative: the text next to it says what it means. */
export function icon(name: string, extra = ''): HTMLElement {
  return h('span', { class: `codicon codicon-${name}${extra ? ` ${extra}` : ''}`, attrs: { 'aria-hidden': 'true' } });
}

export interface ButtonOptions {
  /** Handled by the view's delegated click listener (`data-action`). */
  action: string;
  icon?: string;
  variant?: 'primary' | 'secondary' | 'icon';
  title?: string;
  data?: Record<string, string>;
  disabled?: boolean;
}

export function button(label: string, o: ButtonOptions): HTMLButtonElement {
  const variant = o.variant ?? 'secondary';
  const b = h(
    'button',
    {
      class: `btn btn-${variant}`,
      title: o.title ?? label,
      attrs: { type: 'button', ...(variant === 'icon' && { 'aria-label': label }) },
      data: { action: o.action, ...o.data },
    },
    o.icon ? icon(o.icon) : null,
    variant === 'icon' ? null : h('span', { class: 'btn-label' }, label),
  );
  b.disabled = o.disabled ?? false;
  return b;
}

/** Replaces all children of `el`. */
export function replaceChildren(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}
