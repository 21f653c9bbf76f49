/**
 * A run's hunks (base → proposed, as jsdiff's structuredPatch gives them)
 * measured against the CURRENT host text: where each hunk sits now and
 * whether it can still be applied. Pure: no `vscode`, no I/O.
 *
 * Contract:
 * - Lines are compared with their terminators ("\n", "\r\n", or none for a
 *   last line without one), so a hunk never matches across a change of line
 *   ending or of the final newline.
 * - A hunk is `pending` where the host still holds its old side (context and
 *   removed lines), `applied` where the host holds its new side, `conflict`
 *   where it holds neither: the user changed that region since the base.
 *   The match may be shifted (the user added or removed lines elsewhere);
 *   the one nearest the expected line wins, an `applied` match before a
 *   `pending` one at the same distance (applying twice would duplicate).
 * - A hunk with less leading (trailing) context than the diff's context size
 *   touches the start (end) of the file, and matches only there.
 * - Hunks are located in order and never overlap on the host.
 * - `applyHunks` changes only the host lines of the selected pending hunks;
 *   every other host line (the user's own edits) is kept byte for byte.
 */
import type { Hunk } from '../../sandbox/diff/proposed-change.ts';

export type HunkState = 'pending' | 'applied' | 'conflict';

export interface LocatedHunk {
  hunk: Hunk;
  /** Index in the hunk list of the file. */
  index: number;
  state: HunkState;
  /** 0-based host line where the hunk's old side (pending) or new side (applied) starts; undefined for conflicts. */
  hostLine?: number;
  /** Lines of the old and new side, with their terminators. */
  oldSide: string[];
  newSide: string[];
}

/** The diff's context size when none is given (proposed-change.ts's default). */
export const DEFAULT_CONTEXT = 3;

/** `text` as lines that keep their terminators; '' is no lines. */
export function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
    lines.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/** The old and new side of a jsdiff hunk, each line with its terminator. */
export function hunkSides(hunk: Hunk): { oldSide: string[]; newSide: string[]; leading: number; trailing: number } {
  const oldSide: string[] = [];
  const newSide: string[] = [];
  // Where the previous line went, so a "\ No newline at end of file" marker can take its newline away.
  let last: Array<string[]> = [];
  for (const line of hunk.lines) {
    const tag = line[0];
    if (tag === '\\') {
      for (const side of last) side[side.length - 1] = (side.at(-1) as string).replace(/\n$/, '');
      continue;
    }
    const body = `${line.slice(1)}\n`;
    if (tag === ' ') {
      oldSide.push(body);
      newSide.push(body);
      last = [oldSide, newSide];
    } else if (tag === '-') {
      oldSide.push(body);
      last = [oldSide];
    } else if (tag === '+') {
      newSide.push(body);
      last = [newSide];
    }
  }
  // The texts the hunks are located on lose a leading BOM (run-changes.ts, the editor); so does a side's first line.
  if (hunk.oldStart <= 1 && oldSide[0]?.startsWith('\uFEFF')) oldSide[0] = oldSide[0].slice(1);
  if (hunk.newStart <= 1 && newSide[0]?.startsWith('\uFEFF')) newSide[0] = newSide[0].slice(1);
  const isContext = (l: string): boolean => l[0] === ' ';
  const body = hunk.lines.filter((l) => l[0] !== '\\');
  const leading = body.findIndex((l) => !isContext(l));
  const trailing = [...body].reverse().findIndex((l) => !isContext(l));
  return { oldSide, newSide, leading: leading === -1 ? body.length : leading, trailing: trailing === -1 ? body.length : trailing };
}

/** Each hunk's state and place on the host text. */
export function locateHunks(hunks: readonly Hunk[], hostText: string, context = DEFAULT_CONTEXT): LocatedHunk[] {
  const host = splitLines(hostText);
  const byFirstLine = new Map<string, number[]>();
  host.forEach((line, i) => {
    const at = byFirstLine.get(line);
    if (at) at.push(i);
    else byFirstLine.set(line, [i]);
  });

  const located: LocatedHunk[] = [];
  let shift = 0; // host line minus base line, after the last located hunk
  let floor = 0; // host lines before this are taken by earlier hunks
  hunks.forEach((hunk, index) => {
    const { oldSide, newSide, leading, trailing } = hunkSides(hunk);
    const anchors = { start: leading < context, end: trailing < context };
    const baseLine = Math.max(0, hunk.oldStart - 1);
    const expected = baseLine + shift;
    const fits = (side: string[], at: number): boolean => {
      if (at < floor || at + side.length > host.length) return false;
      if (anchors.start && at !== 0) return false;
      if (anchors.end && at + side.length !== host.length) return false;
      for (let k = 0; k < side.length; k++) if (host[at + k] !== side[k]) return false;
      return true;
    };
    const candidates = (side: string[]): number[] => {
      if (side.length === 0) return [anchors.start ? 0 : anchors.end ? host.length : Math.min(Math.max(expected, floor), host.length)];
      return byFirstLine.get(side[0] as string) ?? [];
    };
    const nearest = (side: string[]): number | undefined => {
      let best: number | undefined;
      for (const at of candidates(side)) {
        if (!fits(side, at)) continue;
        if (best === undefined || Math.abs(at - expected) < Math.abs(best - expected)) best = at;
      }
      return best;
    };
    const applied = nearest(newSide);
    const pending = nearest(oldSide);
    let state: HunkState = 'conflict';
    let hostLine: number | undefined;
    if (applied !== undefined && (pending === undefined || Math.abs(applied - expected) <= Math.abs(pending - expected))) {
      state = 'applied';
      hostLine = applied;
      shift = applied + newSide.length - (baseLine + oldSide.length);
      floor = applied + newSide.length;
    } else if (pending !== undefined) {
      state = 'pending';
      hostLine = pending;
      shift = pending - baseLine;
      floor = pending + oldSide.length;
    }
    located.push({ hunk, index, state, ...(hostLine !== undefined ? { hostLine } : {}), oldSide, newSide });
  });
  return located;
}

export class HunkConflictError extends Error {
  override readonly name = 'HunkConflictError';
  constructor(readonly indexes: number[]) {
    super(`Hunk${indexes.length > 1 ? 's' : ''} ${indexes.map((i) => i + 1).join(', ')} changed on the host since the run started.`);
  }
}

/**
 * The host text with the selected hunks applied (all when `select` is
 * omitted). Applied hunks are left as they are; a selected conflict throws
 * HunkConflictError and nothing is applied.
 */
export function applyHunks(hostText: string, located: readonly LocatedHunk[], select?: Iterable<number>): string {
  const wanted = select === undefined ? located : [...new Set(select)].map((i) => located.find((h) => h.index === i)).filter((h): h is LocatedHunk => h !== undefined);
  const conflicts = wanted.filter((h) => h.state === 'conflict').map((h) => h.index);
  if (conflicts.length > 0) throw new HunkConflictError(conflicts);
  const host = splitLines(hostText);
  const pending = wanted.filter((h) => h.state === 'pending').sort((a, b) => (b.hostLine as number) - (a.hostLine as number));
  for (const h of pending) host.splice(h.hostLine as number, h.oldSide.length, ...h.newSide);
  return host.join('');
}

/** The header jsdiff and git print: "@@ -12,3 +12,4 @@". */
export function hunkHeader(hunk: Hunk): string {
  return `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`;
}

/**
 * The hunk as a fenced `diff` block for a Markdown tooltip (at most `max`
 * characters of it). The fence is longer than any run of backticks in the
 * hunk: MarkdownString.appendCodeblock only looks at runs that start a line,
 * and a context line " ```" (a Markdown file's code fence) would close its
 * block and render the rest of the file's text as Markdown.
 */
export function hunkCodeBlock(hunk: Hunk, max = 4_000): string {
  const code = hunk.lines.join('\n').slice(0, max);
  const longest = (code.match(/`+/g) ?? []).reduce((n, run) => Math.max(n, run.length), 0);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `\n${fence}diff\n${code}\n${fence}\n`;
}

/** The first added or removed line, trimmed (what the hunk is about), at most `max` characters. */
export function firstChangedLine(hunk: Hunk, max = 80): string {
  const line = hunk.lines.find((l) => (l[0] === '+' || l[0] === '-') && l.slice(1).trim() !== '') ?? hunk.lines.find((l) => l[0] === '+' || l[0] === '-') ?? '';
  const text = line.slice(1).trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
