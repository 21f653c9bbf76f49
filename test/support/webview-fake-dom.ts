/**
 * A recording stand-in for the markdown renderer's DOM port (no browser
 * needed): it builds a plain tree and records every link it was asked to
 * make, so tests can see exactly which elements, texts and URLs the
 * renderer produced.
 */
import type { MarkdownDom, MarkdownTag } from '../../webview/shared/markdown/render.ts';

export interface FakeText {
  text: string;
}

export interface FakeElement {
  tag: MarkdownTag;
  className?: string;
  href?: string;
  start?: number;
  children: (FakeElement | FakeText)[];
}

export class RecordingDom implements MarkdownDom<FakeElement, FakeText> {
  readonly links: string[] = [];
  readonly tags: MarkdownTag[] = [];

  element(tag: MarkdownTag, className?: string): FakeElement {
    this.tags.push(tag);
    return { tag, ...(className !== undefined && { className }), children: [] };
  }

  text(value: string): FakeText {
    return { text: value };
  }

  append(parent: FakeElement, child: FakeElement | FakeText): void {
    parent.children.push(child);
  }

  link(a: FakeElement, href: string): void {
    a.href = href;
    this.links.push(href);
  }

  listStart(ol: FakeElement, start: number): void {
    ol.start = start;
  }
}

/** Compact markup-like form for assertions: `<p>text<code>x</code></p>`. Text is shown raw. */
export function serialise(node: FakeElement | FakeText): string {
  if ('text' in node) return node.text;
  const attrs = `${node.href !== undefined ? ` href=${node.href}` : ''}${node.start !== undefined ? ` start=${node.start}` : ''}`;
  return `<${node.tag}${attrs}>${node.children.map(serialise).join('')}</${node.tag}>`;
}

/** All text of a tree, in order. */
export function textOf(node: FakeElement | FakeText): string {
  return 'text' in node ? node.text : node.children.map(textOf).join('');
}
