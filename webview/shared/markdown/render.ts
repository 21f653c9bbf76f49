/**
 * Markdown AST → DOM through a narrow port. The port can create only the
 * tags below, text nodes, and a link whose URL already passed safeLinkHref;
 * it has no way to parse a string as markup. That is the safety argument:
 * model text reaches the page only as text nodes and checked hrefs.
 */
import type { Block, Inline } from './ast.ts';
import { parseMarkdown } from './blocks.ts';
import { safeLinkHref } from './links.ts';

export type MarkdownTag =
  | 'div' | 'p' | 'h1' | 'h2' | 'h3' | 'h4' | 'h5' | 'h6' | 'pre' | 'code' | 'blockquote'
  | 'ul' | 'ol' | 'li' | 'hr' | 'strong' | 'em' | 'del' | 'a' | 'br';

export interface MarkdownDom<E, T> {
  element(tag: MarkdownTag, className?: string): E;
  text(value: string): T;
  append(parent: E, child: E | T): void;
  /** Makes `a` a link to `href` (already checked, absolute http/https/mailto). */
  link(a: E, href: string): void;
  /** The first number of an ordered list. */
  listStart(ol: E, start: number): void;
}

/** Beyond this, text is shown verbatim (one pre-wrapped block): parsing it would stall the view. */
export const MAX_MARKDOWN_CHARS = 200_000;

export function renderMarkdown<E, T>(source: string, dom: MarkdownDom<E, T>): E {
  const root = dom.element('div', 'md');
  if (source.length > MAX_MARKDOWN_CHARS) {
    const p = dom.element('p', 'md-verbatim');
    dom.append(p, dom.text(source));
    dom.append(root, p);
    return root;
  }
  for (const block of parseMarkdown(source)) dom.append(root, renderBlock(block, dom));
  return root;
}

function renderBlock<E, T>(block: Block, dom: MarkdownDom<E, T>): E {
  switch (block.t) {
    case 'p':
      return withInlines(dom.element('p'), block.c, dom);
    case 'h':
      return withInlines(dom.element(`h${block.level}`), block.c, dom);
    case 'hr':
      return dom.element('hr');
    case 'pre': {
      const pre = dom.element('pre', 'md-code');
      const code = dom.element('code', block.lang ? `language-${block.lang.replace(/[^\w+-]/g, '')}` : undefined);
      dom.append(code, dom.text(block.v));
      dom.append(pre, code);
      return pre;
    }
    case 'quote': {
      const quote = dom.element('blockquote');
      for (const child of block.c) dom.append(quote, renderBlock(child, dom));
      return quote;
    }
    case 'list': {
      const list = dom.element(block.ordered ? 'ol' : 'ul');
      if (block.ordered && block.start !== 1) dom.listStart(list, block.start);
      for (const item of block.items) {
        const li = dom.element('li');
        // A one-paragraph item renders its text directly (a tight list).
        const only = item.length === 1 ? item[0] : undefined;
        if (only?.t === 'p') withInlines(li, only.c, dom);
        else for (const child of item) dom.append(li, renderBlock(child, dom));
        dom.append(list, li);
      }
      return list;
    }
  }
}

function withInlines<E, T>(parent: E, inlines: readonly Inline[], dom: MarkdownDom<E, T>): E {
  for (const inline of inlines) dom.append(parent, renderInline(inline, dom));
  return parent;
}

function renderInline<E, T>(inline: Inline, dom: MarkdownDom<E, T>): E | T {
  switch (inline.t) {
    case 'text':
      return dom.text(inline.v);
    case 'br':
      return dom.element('br');
    case 'code': {
      const code = dom.element('code');
      dom.append(code, dom.text(inline.v));
      return code;
    }
    case 'strong':
    case 'em':
    case 'del':
      return withInlines(dom.element(inline.t), inline.c, dom);
    case 'link': {
      // Checked again here: the AST type cannot prove where an href came from.
      const href = safeLinkHref(inline.href);
      if (href === undefined) return withInlines(dom.element('em'), inline.c, dom);
      const a = dom.element('a');
      dom.link(a, href);
      return withInlines(a, inline.c, dom);
    }
  }
}

/** The browser's implementation of the port. */
export const browserMarkdownDom: MarkdownDom<HTMLElement, Text> = {
  element(tag, className) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    return el;
  },
  text: (value) => document.createTextNode(value),
  append: (parent, child) => void parent.appendChild(child),
  link(a, href) {
    a.setAttribute('href', href);
    a.setAttribute('title', href);
    a.setAttribute('rel', 'noopener noreferrer');
  },
  listStart: (ol, start) => ol.setAttribute('start', String(start)),
};
