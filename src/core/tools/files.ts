/**
 * Workspace file tools: read_file, write_file, edit_file, list_files,
 * search_files. Every path goes through resolveWorkspacePath first; refusals
 * and SandboxToolErrors come back to the model as error outcomes.
 */
import { z } from 'zod';
import type { ListEntry, SearchMatch } from '../sandbox/port.ts';
import { defineTool, type ToolOutcome } from './define.ts';
import { isHiddenBelow, resolveWorkspacePath, WORKSPACE_ROOT, type PathAccess } from './paths.ts';

export const READ_DEFAULT_LINES = 2000;
export const READ_MAX_LINE_CHARS = 2000;
export const LIST_DEFAULT_DEPTH = 2;
export const LIST_MAX_DEPTH = 10;
export const LIST_MAX_ENTRIES = 1000;
export const SEARCH_MAX_RESULTS = 200;
const SEARCH_MAX_TEXT_CHARS = 300;

const failure = (output: string): ToolOutcome => ({ output, isError: true });

type Resolved = { path: string; failure?: undefined } | { failure: ToolOutcome };

function resolve(input: string, access: PathAccess): Resolved {
  const result = resolveWorkspacePath(input, access);
  return result.ok ? { path: result.path } : { failure: failure(result.error) };
}

const pathField = z.string().describe('Path relative to the workspace root, e.g. "src/app.ts".');

/** Lines of a text, without the empty string after a final newline; `\r` of CRLF endings dropped. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export const readFileTool = defineTool({
  name: 'read_file',
  description:
    'Read a text file from the workspace. Each output line starts with its line number and a tab (like `cat -n`); ' +
    'that prefix is not part of the file, so leave it out when you copy text into edit_file. ' +
    `At most ${READ_DEFAULT_LINES} lines are returned per call; use offset and limit to page through longer files. ` +
    `Lines longer than ${READ_MAX_LINE_CHARS} characters are shortened.`,
  readOnly: true,
  schema: z.strictObject({
    path: pathField,
    offset: z.number().int().min(1).optional().describe('1-based line number to start from. Default 1.'),
    limit: z.number().int().min(1).max(READ_DEFAULT_LINES).optional().describe(`Number of lines to return. Default ${READ_DEFAULT_LINES}.`),
  }),
  async execute(args, ctx) {
    const target = resolve(args.path, 'read');
    if (target.failure) return target.failure;
    const lines = splitLines(await ctx.sandbox.readFile(target.path, ctx.signal));
    const offset = args.offset ?? 1;
    if (lines.length === 0) return { output: `(${target.path} is empty)`, isError: false, meta: { path: target.path, totalLines: 0 } };
    if (offset > lines.length) {
      return failure(`offset ${offset} is past the end of ${target.path}, which has ${lines.length} lines.`);
    }
    const last = Math.min(lines.length, offset - 1 + (args.limit ?? READ_DEFAULT_LINES));
    const body = lines
      .slice(offset - 1, last)
      .map((line, i) => `${String(offset + i).padStart(6)}\t${shortenLine(line)}`)
      .join('\n');
    const more = last < lines.length ? `\n[Lines ${offset}-${last} of ${lines.length}. Use offset=${last + 1} to read on.]` : '';
    return { output: body + more, isError: false, meta: { path: target.path, totalLines: lines.length } };
  },
});

function shortenLine(line: string): string {
  if (line.length <= READ_MAX_LINE_CHARS) return line;
  return `${line.slice(0, READ_MAX_LINE_CHARS)}... [line shortened; ${line.length - READ_MAX_LINE_CHARS} more characters]`;
}

export const writeFileTool = defineTool({
  name: 'write_file',
  description:
    'Create a file, or replace its whole content. Parent directories are created as needed. ' +
    'To change part of an existing file, prefer edit_file.',
  readOnly: false,
  schema: z.strictObject({
    path: pathField,
    content: z.string().describe('The complete new content of the file.'),
  }),
  async execute(args, ctx) {
    const target = resolve(args.path, 'write');
    if (target.failure) return target.failure;
    await ctx.sandbox.writeFile(target.path, args.content, ctx.signal);
    const bytes = Buffer.byteLength(args.content, 'utf8');
    return {
      output: `Wrote ${bytes} bytes (${splitLines(args.content).length} lines) to ${target.path}.`,
      isError: false,
      meta: { path: target.path, bytes },
    };
  },
});

export const editFileTool = defineTool({
  name: 'edit_file',
  description:
    'Replace exact text in a file. old_string must match the file exactly, including whitespace and indentation ' +
    '(without read_file line-number prefixes). It must occur exactly once unless replace_all is true; ' +
    'include enough surrounding lines to make it unique.',
  readOnly: false,
  schema: z.strictObject({
    path: pathField,
    old_string: z.string().min(1).describe('The exact text to replace.'),
    new_string: z.string().describe('The text to put in its place (may be empty to delete).'),
    replace_all: z.boolean().default(false).describe('Replace every occurrence instead of requiring exactly one. Default false.'),
  }),
  async execute(args, ctx) {
    const target = resolve(args.path, 'write');
    if (target.failure) return target.failure;
    if (args.old_string === args.new_string) return failure('old_string and new_string are identical, so there is nothing to change.');
    const content = await ctx.sandbox.readFile(target.path, ctx.signal);

    let oldText = args.old_string;
    let newText = args.new_string;
    let offsets = occurrences(content, oldText);
    // read_file shows CRLF files without `\r`; accept text copied from that view.
    if (offsets.length === 0 && content.includes('\r\n') && oldText.includes('\n') && !oldText.includes('\r')) {
      oldText = oldText.replace(/\n/g, '\r\n');
      newText = newText.replace(/\r?\n/g, '\r\n');
      offsets = occurrences(content, oldText);
    }

    if (offsets.length === 0) {
      const prefixHint = /^ *\d+\t/m.test(args.old_string) ? ' It looks like it includes read_file line-number prefixes; leave those out.' : '';
      return failure(
        `old_string was not found in ${target.path} (0 matches). It must match the file exactly, including whitespace and indentation; ` +
          `read the file again and copy the text.${prefixHint}`,
      );
    }
    if (offsets.length > 1 && !args.replace_all) {
      return failure(
        `old_string matches ${offsets.length} times in ${target.path}. Include more surrounding lines so it matches exactly once, ` +
          `or set replace_all to true to replace all ${offsets.length}.`,
      );
    }

    const { text, lines } = replaceAt(content, offsets, oldText.length, newText);
    await ctx.sandbox.writeFile(target.path, text, ctx.signal);
    const shown = lines.slice(0, 10).join(', ') + (lines.length > 10 ? ', ...' : '');
    const noun = offsets.length === 1 ? 'occurrence' : 'occurrences';
    return {
      output: `Replaced ${offsets.length} ${noun} in ${target.path} (line${lines.length === 1 ? '' : 's'} ${shown}).`,
      isError: false,
      meta: { path: target.path, replacements: offsets.length },
    };
  },
});

/** Start offsets of non-overlapping occurrences, left to right. */
function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) found.push(i);
  return found;
}

/** Literal replacement (no `$&` patterns) and the 1-based line where each replacement starts in the result. */
function replaceAt(text: string, offsets: number[], length: number, replacement: string): { text: string; lines: number[] } {
  const parts: string[] = [];
  const lines: number[] = [];
  const replacementNewlines = countNewlines(replacement);
  let newlines = 0;
  let from = 0;
  for (const offset of offsets) {
    const before = text.slice(from, offset);
    newlines += countNewlines(before);
    lines.push(newlines + 1);
    parts.push(before, replacement);
    newlines += replacementNewlines;
    from = offset + length;
  }
  parts.push(text.slice(from));
  return { text: parts.join(''), lines };
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

export const listFilesTool = defineTool({
  name: 'list_files',
  description:
    'List files and directories under a directory of the workspace, one per line, directories ending in "/", files with their size. ' +
    `depth 1 lists only direct children. At most ${LIST_MAX_ENTRIES} entries are shown. Contents of .git and .crewbox are left out.`,
  readOnly: true,
  schema: z.strictObject({
    path: pathField.optional().describe('Directory relative to the workspace root. Default: the root.'),
    depth: z.number().int().min(1).max(LIST_MAX_DEPTH).optional().describe(`How many levels deep to list. Default ${LIST_DEFAULT_DEPTH}.`),
  }),
  async execute(args, ctx) {
    const target = resolve(args.path ?? WORKSPACE_ROOT, 'read');
    if (target.failure) return target.failure;
    const listed = await ctx.sandbox.list(target.path, args.depth ?? LIST_DEFAULT_DEPTH, ctx.signal);
    const entries = listed.filter((e) => !isHiddenBelow(target.path, e.path)).sort(byPathSegments);
    if (entries.length === 0) return { output: `(${target.path === WORKSPACE_ROOT ? 'the workspace' : target.path} is empty)`, isError: false };
    const shown = entries.slice(0, LIST_MAX_ENTRIES).map(formatEntry);
    if (entries.length > LIST_MAX_ENTRIES) {
      shown.push(`[${entries.length - LIST_MAX_ENTRIES} more entries not shown; list a subdirectory or use a smaller depth.]`);
    }
    return { output: shown.join('\n'), isError: false, meta: { entries: entries.length } };
  },
});

function formatEntry(entry: ListEntry): string {
  if (entry.type === 'dir') return `${entry.path}/`;
  if (entry.type === 'symlink') return `${entry.path} (symlink)`;
  return entry.size === undefined ? entry.path : `${entry.path} (${entry.size} bytes)`;
}

function byPathSegments(a: { path: string }, b: { path: string }): number {
  const x = a.path.split('/');
  const y = b.path.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i] ?? '', y[i] ?? ''];
    if (p !== q) return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

export const searchFilesTool = defineTool({
  name: 'search_files',
  description:
    'Search file contents with a regular expression (JavaScript syntax, no lookaround or backreferences) and list matching lines as ' +
    `"path:line: text". At most ${SEARCH_MAX_RESULTS} matches are shown. .git and .crewbox are not searched.`,
  readOnly: true,
  schema: z.strictObject({
    pattern: z.string().min(1).describe('Regular expression to search for, e.g. "function\\s+main".'),
    path: pathField.optional().describe('Directory (or file) to search in, relative to the workspace root. Default: the root.'),
    glob: z.string().min(1).optional().describe('Only search files whose name matches this glob, e.g. "*.ts" or "src/**/*.test.ts".'),
  }),
  async execute(args, ctx) {
    const target = resolve(args.path ?? WORKSPACE_ROOT, 'read');
    if (target.failure) return target.failure;
    try {
      new RegExp(args.pattern);
    } catch (error) {
      return failure(`pattern is not a valid regular expression: ${(error as Error).message}`);
    }
    const found = await ctx.sandbox.search(
      { pattern: args.pattern, path: target.path, ...(args.glob !== undefined ? { glob: args.glob } : {}), maxResults: SEARCH_MAX_RESULTS + 1 },
      ctx.signal,
    );
    const matches = found.filter((m) => !isHiddenBelow(target.path, m.path));
    const where = target.path === WORKSPACE_ROOT ? 'the workspace' : target.path;
    const filter = args.glob !== undefined ? ` (files matching ${args.glob})` : '';
    if (matches.length === 0) return { output: `No matches for /${args.pattern}/ in ${where}${filter}.`, isError: false, meta: { matches: 0 } };
    const lines = matches.slice(0, SEARCH_MAX_RESULTS).map(formatMatch);
    if (matches.length > SEARCH_MAX_RESULTS) {
      lines.push(`[Only the first ${SEARCH_MAX_RESULTS} matches are shown; narrow the pattern, path or glob.]`);
    }
    return { output: lines.join('\n'), isError: false, meta: { matches: Math.min(matches.length, SEARCH_MAX_RESULTS) } };
  },
});

function formatMatch(match: SearchMatch): string {
  const text = match.text.length > SEARCH_MAX_TEXT_CHARS ? `${match.text.slice(0, SEARCH_MAX_TEXT_CHARS)}...` : match.text;
  return `${match.path}:${match.line}: ${text}`;
}
