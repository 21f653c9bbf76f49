/**
 * Inline markdown: `code`, **strong**, *em* / _em_, ~~del~~, [links](url),
 * <https://autolinks>, bare https:// URLs, backslash escapes and line breaks.
 * Anything else, HTML included, is text. Images show their alt text.
 *
 * Contract: linear-ish time on any input (a failed search for a closing
 * delimiter is remembered, so unmatched `**` runs do not go quadratic), and
 * nesting deeper than MAX_DEPTH is left as text.
 */
import type { Inline } from './ast.ts';
import { safeLinkHref } from './links.ts';

const MAX_DEPTH = 8;
const ESCAPABLE = /[!-/:-@[-`{-~]/;
const WORD = /[\p{L}\p{N}]/u;
const BARE_URL = /^https?:\/\/[^\s<>"'`]+/;
const TRAILING_PUNCTUATION = /[.,;:!?'")\]]+$/;

class InlineParser {
  readonly #out: Inline[] = [];
  #text = '';
  /** Per delimiter, the position from which no closer exists. */
  readonly #noCloserFrom = new Map<string, number>();

  constructor(
    private readonly s: string,
    private readonly depth: number,
  ) {}

  parse(): Inline[] {
    const s = this.s;
    let i = 0;
    while (i < s.length) {
      const next = this.step(i);
      if (next > i) {
        i = next;
        continue;
      }
      this.#text += s[i];
      i += 1;
    }
    this.flushText();
    return this.#out;
  }

  /** Tries a construct at `i`; returns the index after it, or `i` when there is none. */
  private step(i: number): number {
    const s = this.s;
    const c = s[i];
    switch (c) {
      case '\\':
        if (i + 1 < s.length && ESCAPABLE.test(s[i + 1]!)) {
          this.#text += s[i + 1];
          return i + 2;
        }
        return i;
      case '\n':
        this.#text = this.#text.replace(/[ \t]+$/, '');
        this.push({ t: 'br' });
        return i + 1;
      case '`':
        return this.codeSpan(i);
      case '*':
      case '_':
      case '~':
        return this.emphasis(i, c);
      case '[':
        return this.link(i, false);
      case '!':
        return s[i + 1] === '[' ? this.link(i + 1, true) : i;
      case '<':
        return this.angleLink(i);
      case 'h':
        return this.bareLink(i);
      default:
        return i;
    }
  }

  private codeSpan(i: number): number {
    const s = this.s;
    let n = 0;
    while (s[i + n] === '`') n++;
    const fence = '`'.repeat(n);
    let from = i + n;
    for (;;) {
      const close = s.indexOf(fence, from);
      if (close < 0) {
        this.#text += fence;
        return i + n;
      }
      let after = close + n;
      while (s[after] === '`') after++;
      if (after - close === n) {
        let body = s.slice(i + n, close).replace(/\n/g, ' ');
        if (body.length > 2 && body.startsWith(' ') && body.endsWith(' ')) body = body.slice(1, -1);
        this.push({ t: 'code', v: body });
        return after;
      }
      from = after;
    }
  }

  private emphasis(i: number, c: '*' | '_' | '~'): number {
    const s = this.s;
    const double = s[i + 1] === c;
    if (c === '~' && !double) return i;
    const delim = double ? c + c : c;
    const open = i + delim.length;
    const first = s[open];
    if (first === undefined || /\s/.test(first)) return i;
    // Intraword underscores (snake_case) are text.
    if (c === '_' && i > 0 && WORD.test(s[i - 1]!)) return i;
    if (this.depth >= MAX_DEPTH) return i;
    const close = this.findCloser(delim, open);
    if (close < 0) return i;
    const kind = c === '~' ? 'del' : double ? 'strong' : 'em';
    this.push({ t: kind, c: parseInline(s.slice(open, close), this.depth + 1) });
    return close + delim.length;
  }

  private findCloser(delim: string, from: number): number {
    const s = this.s;
    const c = delim[0]!;
    const known = this.#noCloserFrom.get(delim);
    if (known !== undefined && from >= known) return -1;
    let at = s.indexOf(delim, from + 1);
    while (at >= 0) {
      const before = s[at - 1]!;
      const after = s[at + delim.length];
      const closesHere =
        !/\s/.test(before) &&
        // A single delimiter must not be half of a double one.
        (delim.length === 2 || (before !== c && after !== c)) &&
        (c !== '_' || after === undefined || !WORD.test(after));
      if (closesHere) return at;
      at = s.indexOf(delim, at + 1);
    }
    this.#noCloserFrom.set(delim, Math.min(from, known ?? from));
    return -1;
  }

  /** `[label](url)`, or `![alt](src)` when `image` (shown as its alt text). */
  private link(i: number, image: boolean): number {
    const s = this.s;
    const labelEnd = matchingBracket(s, i);
    if (labelEnd < 0 || s[labelEnd + 1] !== '(') return i;
    const urlEnd = matchingParen(s, labelEnd + 1);
    if (urlEnd < 0) return i;
    const label = s.slice(i + 1, labelEnd);
    const target = s.slice(labelEnd + 2, urlEnd).trim().replace(/\s+("[^"]*"|'[^']*')$/, '').replace(/^<(.*)>$/, '$1');
    const children = this.depth >= MAX_DEPTH ? [{ t: 'text' as const, v: label }] : parseInline(label, this.depth + 1);
    const href = image ? undefined : safeLinkHref(target);
    if (href !== undefined) this.push({ t: 'link', href, c: children });
    else for (const child of children) this.push(child);
    return urlEnd + 1;
  }

  private angleLink(i: number): number {
    const close = this.s.indexOf('>', i + 1);
    if (close < 0) return i;
    const inner = this.s.slice(i + 1, close);
    if (!/^https?:\/\/[^\s<>]+$/.test(inner)) return i;
    const href = safeLinkHref(inner);
    if (href === undefined) return i;
    this.push({ t: 'link', href, c: [{ t: 'text', v: inner }] });
    return close + 1;
  }

  private bareLink(i: number): number {
    if (!this.s.startsWith('http', i) || (i > 0 && WORD.test(this.s[i - 1]!))) return i;
    const m = BARE_URL.exec(this.s.slice(i, i + 2_048));
    if (!m) return i;
    const url = m[0].replace(TRAILING_PUNCTUATION, '');
    const href = safeLinkHref(url);
    if (href === undefined || url.length <= 'https://'.length) return i;
    this.push({ t: 'link', href, c: [{ t: 'text', v: url }] });
    return i + url.length;
  }

  private push(node: Inline): void {
    this.flushText();
    this.#out.push(node);
  }

  private flushText(): void {
    if (this.#text === '') return;
    const last = this.#out[this.#out.length - 1];
    if (last?.t === 'text') last.v += this.#text;
    else this.#out.push({ t: 'text', v: this.#text });
    this.#text = '';
  }
}

function matchingBracket(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length && i < open + 2_000; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  return -1;
}

function matchingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length && i < open + 4_000; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
    else if (c === '\n' && s[i + 1] === '\n') return -1;
  }
  return -1;
}

export function parseInline(source: string, depth = 0): Inline[] {
  return new InlineParser(source, depth).parse();
}
