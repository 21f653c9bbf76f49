/**
 * Block markdown: paragraphs (single newlines kept as line breaks, as chat
 * text means them), ATX headings, fenced code (an unclosed fence runs to the
 * end, so streaming code shows as code), block quotes, bullet and numbered
 * lists with nesting by indentation, and thematic breaks. Tables and HTML
 * blocks are not in the subset: they render as paragraphs of text.
 */
import type { Block } from './ast.ts';
import { parseInline } from './inline.ts';

const MAX_DEPTH = 6;
const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])([ \t]+|$)/;

const isBlank = (line: string) => line.trim() === '';
const indentOf = (line: string) => line.length - line.trimStart().length;

function startsBlock(line: string): boolean {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

class BlockParser {
  #i = 0;
  readonly #out: Block[] = [];

  constructor(
    private readonly lines: readonly string[],
    private readonly depth: number,
  ) {}

  parse(): Block[] {
    const lines = this.lines;
    while (this.#i < lines.length) {
      const line = lines[this.#i]!;
      if (isBlank(line)) this.#i++;
      else if (FENCE.test(line)) this.fence();
      else if (RULE.test(line)) {
        this.#out.push({ t: 'hr' });
        this.#i++;
      } else if (HEADING.test(line)) this.heading(line);
      else if (this.depth < MAX_DEPTH && QUOTE.test(line)) this.quote();
      else if (this.depth < MAX_DEPTH && ITEM.test(line)) this.list();
      else this.paragraph();
    }
    return this.#out;
  }

  private fence(): void {
    const m = FENCE.exec(this.lines[this.#i]!)!;
    const marker = m[1]!;
    const closing = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}[ \\t]*$`);
    const body: string[] = [];
    this.#i++;
    while (this.#i < this.lines.length && !closing.test(this.lines[this.#i]!)) body.push(this.lines[this.#i++]!);
    // Unclosed (still streaming): the text's trailing newline is not part of the code.
    if (this.#i >= this.lines.length) while (body.at(-1) === '') body.pop();
    this.#i++;
    this.#out.push({ t: 'pre', lang: m[2] ?? '', v: body.join('\n') });
  }

  private heading(line: string): void {
    const m = HEADING.exec(line)!;
    const level = m[1]!.length as 1 | 2 | 3 | 4 | 5 | 6;
    this.#out.push({ t: 'h', level, c: parseInline(m[2] ?? '') });
    this.#i++;
  }

  private quote(): void {
    const inner: string[] = [];
    while (this.#i < this.lines.length && QUOTE.test(this.lines[this.#i]!)) {
      inner.push(this.lines[this.#i++]!.replace(QUOTE, ''));
    }
    this.#out.push({ t: 'quote', c: parseBlocksOfLines(inner, this.depth + 1) });
  }

  private list(): void {
    const first = ITEM.exec(this.lines[this.#i]!)!;
    const ordered = /\d/.test(first[2]!);
    const baseIndent = first[1]!.length;
    const items: string[][] = [];
    let current: string[] = [];
    let contentIndent = 0;
    let blankBefore = false;
    while (this.#i < this.lines.length) {
      const line = this.lines[this.#i]!;
      const item = ITEM.exec(line);
      if (item && !RULE.test(line) && item[1]!.length <= baseIndent + 1 && /\d/.test(item[2]!) === ordered) {
        if (current.length > 0) items.push(current);
        contentIndent = item[0].length;
        current = [line.slice(contentIndent)];
        blankBefore = false;
      } else if (isBlank(line)) {
        blankBefore = true;
        current.push('');
      } else if (indentOf(line) >= Math.min(contentIndent, baseIndent + 2)) {
        current.push(line.slice(Math.min(indentOf(line), contentIndent)));
        blankBefore = false;
      } else if (!blankBefore && !startsBlock(line)) {
        current.push(line.trimStart());
      } else {
        break;
      }
      this.#i++;
    }
    items.push(current);
    const start = ordered ? Number.parseInt(first[2]!, 10) : 1;
    this.#out.push({ t: 'list', ordered, start, items: items.map((lines) => parseBlocksOfLines(lines, this.depth + 1)) });
  }

  private paragraph(): void {
    const text: string[] = [];
    while (this.#i < this.lines.length) {
      const line = this.lines[this.#i]!;
      if (isBlank(line) || (text.length > 0 && startsBlock(line))) break;
      text.push(line.trim());
      this.#i++;
    }
    this.#out.push({ t: 'p', c: parseInline(text.join('\n')) });
  }
}

function parseBlocksOfLines(lines: readonly string[], depth: number): Block[] {
  return new BlockParser(lines, depth).parse();
}

export function parseMarkdown(source: string): Block[] {
  return parseBlocksOfLines(source.replace(/\r\n?/g, '\n').split('\n'), 0);
}
