/**
 * A run's proposed change: the difference between its base snapshot and its
 * latest files (or its files at a step), as structured data and as a
 * git-style unified diff. The only importer of `diff` (jsdiff).
 *
 * Contract:
 * - Computed from the base and latest entries of the paths the run's deltas
 *   touched (the snapshot is searched, not parsed whole): unchanged files are
 *   neither read nor listed, so the cost follows the size of the change, not
 *   of the workspace.
 * - Kinds: added, modified (content and/or executable bit), deleted, renamed
 *   (a deletion and an addition with identical content, or, for text files,
 *   at least RENAME_SIMILARITY of their lines in common). A file that became
 *   a symlink (or the reverse) is a deletion plus an addition, as in git.
 *   Permission changes other than the executable bit are not changes (git
 *   semantics: modes are 100644, 100755 or 120000).
 * - Binary: a NUL byte in the first 8,000 bytes (git's test), or either side
 *   over MAX_TEXT_BYTES; binary files get no hunks and a "Binary files … differ"
 *   line.
 * - The unified diff has `diff --git` headers, new/deleted file mode, old/new
 *   mode, similarity index and rename from/to lines; without index lines, so
 *   `git apply` takes its text parts as they are.
 */
import { formatPatch, structuredPatch, type StructuredPatch } from 'diff';
import type { BlobStore } from '../store/blobs.ts';
import { CheckpointStore } from '../store/checkpoints.ts';
import { sha256, type Manifest, type ManifestEntry } from '../store/manifest.ts';
import { pairRenames } from './renames.ts';

export type ChangeKind = 'added' | 'modified' | 'deleted' | 'renamed';

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}

export interface ProposedFile {
  path: string;
  /** Renames: the path in the base. */
  oldPath?: string;
  kind: ChangeKind;
  binary: boolean;
  /** Git modes ('100644', '100755', '120000'), where the file exists on that side. */
  oldMode?: string;
  newMode?: string;
  /** Renames: percentage of lines in common (100 for identical content). */
  similarity?: number;
  hunks: Hunk[];
  unifiedDiff: string;
  additions: number;
  deletions: number;
  /** sha256 of the base / new content (files), of the link target (symlinks). */
  baseHash?: string;
  newHash?: string;
}

export interface ProposedChange {
  runId: string;
  files: ProposedFile[];
  unifiedDiff: string;
  additions: number;
  deletions: number;
}

export interface ProposedChangeOptions {
  /** The run's files after this step (default: latest). */
  step?: number;
  context?: number;
  /** False: structure only (kinds, modes, renames), no hunks or diff text. */
  hunks?: boolean;
}

export const MAX_TEXT_BYTES = 8 * 1024 * 1024;
const BINARY_PROBE = 8000;
const CACHE_BYTES = 64 * 1024 * 1024;
/** Above this many edits jsdiff gives up and the hunk becomes a whole-file replacement. */
const MAX_EDIT_LENGTH = 20_000;

export async function proposedChange(workspace: string, runId: string, opts: ProposedChangeOptions = {}): Promise<ProposedChange> {
  const store = new CheckpointStore(workspace);
  const blobs = store.blobs; // knows the inline blobs of the logs the store reads
  const { base, latest } = await store.touchedAt(runId, opts.step);
  return { runId, ...(await compareManifests(base, latest, blobs, opts)) };
}

/** The proposed change between two manifests whose blobs are in `blobs`. */
export async function compareManifests(base: Manifest, latest: Manifest, blobs: BlobStore, opts: ProposedChangeOptions = {}): Promise<Omit<ProposedChange, 'runId'>> {
  const added: string[] = [];
  const deleted: string[] = [];
  const modified: string[] = [];
  for (const [p, entry] of latest) {
    const old = base.get(p);
    if (!old) added.push(p);
    else if (old.kind !== entry.kind) {
      deleted.push(p);
      added.push(p);
    } else if (differs(old, entry)) modified.push(p);
  }
  for (const p of base.keys()) if (!latest.has(p)) deleted.push(p);

  const content = new ContentCache(blobs);
  const renames = await pairRenames(deleted, added, base, latest, (e) => content.text(e));
  const renamedFrom = new Set(renames.map((r) => r.from));
  const renamedTo = new Set(renames.map((r) => r.to));

  const files: ProposedFile[] = [];
  const withHunks = opts.hunks !== false;
  const context = opts.context ?? 3;
  for (const p of deleted) if (!renamedFrom.has(p)) files.push(await describe(content, { kind: 'deleted', path: p, oldPath: p, old: base.get(p) }, withHunks, context));
  for (const p of added) if (!renamedTo.has(p)) files.push(await describe(content, { kind: 'added', path: p, next: latest.get(p) }, withHunks, context));
  for (const p of modified) files.push(await describe(content, { kind: 'modified', path: p, oldPath: p, old: base.get(p), next: latest.get(p) }, withHunks, context));
  for (const r of renames) {
    files.push(await describe(content, { kind: 'renamed', path: r.to, oldPath: r.from, old: base.get(r.from), next: latest.get(r.to), similarity: r.similarity }, withHunks, context));
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.kind === 'deleted' ? -1 : 1));
  return {
    files,
    unifiedDiff: files.map((f) => f.unifiedDiff).join(''),
    additions: files.reduce((n, f) => n + f.additions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
  };
}

export function gitMode(entry: ManifestEntry): string {
  if (entry.kind === 'symlink') return '120000';
  return (entry.mode & 0o111) !== 0 ? '100755' : '100644';
}

/** A change worth proposing: other content, another link target, or another executable bit. */
function differs(a: ManifestEntry, b: ManifestEntry): boolean {
  if (a.kind === 'file' && b.kind === 'file') return a.hash !== b.hash || gitMode(a) !== gitMode(b);
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.linkTarget !== b.linkTarget;
  return true;
}

interface Side {
  kind: ChangeKind;
  path: string;
  oldPath?: string;
  old?: ManifestEntry;
  next?: ManifestEntry;
  similarity?: number;
}

/** Blob contents, kept (up to CACHE_BYTES) so rename detection and hunks read each at most once. */
class ContentCache {
  private readonly cache = new Map<string, Buffer>();
  private cached = 0;
  constructor(private readonly blobs: BlobStore) {}

  async bytes(entry: ManifestEntry): Promise<Buffer> {
    if (entry.kind === 'symlink') return Buffer.from(entry.linkTarget, 'utf8');
    const hit = this.cache.get(entry.hash);
    if (hit) return hit;
    const data = await this.blobs.read(entry.hash);
    if (this.cached + data.length <= CACHE_BYTES) {
      this.cache.set(entry.hash, data);
      this.cached += data.length;
    }
    return data;
  }

  /** The text, or undefined for binary or oversized content. */
  async text(entry: ManifestEntry): Promise<string | undefined> {
    if (entry.kind === 'file' && entry.size > MAX_TEXT_BYTES) return undefined;
    const data = await this.bytes(entry);
    return isBinary(data) ? undefined : data.toString('utf8');
  }
}

function contentKey(entry: ManifestEntry): string {
  return entry.kind === 'file' ? `f:${entry.hash}` : `l:${entry.linkTarget}`;
}

export function isBinary(data: Buffer): boolean {
  return data.subarray(0, BINARY_PROBE).includes(0);
}

async function describe(content: ContentCache, side: Side, withHunks: boolean, context: number): Promise<ProposedFile> {
  const { old, next } = side;
  const oldMode = old ? gitMode(old) : undefined;
  const newMode = next ? gitMode(next) : undefined;
  const oldText = old ? await content.text(old) : '';
  const newText = next ? await content.text(next) : '';
  const binary = oldText === undefined || newText === undefined;
  const sameContent = old !== undefined && next !== undefined && contentKey(old) === contentKey(next);
  const hunks = withHunks && !binary && !sameContent ? textHunks(oldText ?? '', newText ?? '', context) : [];

  const file: ProposedFile = { path: side.path, kind: side.kind, binary, hunks, unifiedDiff: '', additions: 0, deletions: 0 };
  if (side.oldPath !== undefined && side.kind === 'renamed') file.oldPath = side.oldPath;
  if (oldMode) file.oldMode = oldMode;
  if (newMode) file.newMode = newMode;
  if (side.similarity !== undefined) file.similarity = side.similarity;
  if (old) file.baseHash = old.kind === 'file' ? old.hash : sha256(old.linkTarget);
  if (next) file.newHash = next.kind === 'file' ? next.hash : sha256(next.linkTarget);
  for (const h of hunks) {
    for (const line of h.lines) {
      if (line.startsWith('+')) file.additions++;
      else if (line.startsWith('-')) file.deletions++;
    }
  }
  if (withHunks) file.unifiedDiff = render(file, binary && !sameContent);
  return file;
}

function textHunks(oldText: string, newText: string, context: number): Hunk[] {
  const patch = structuredPatch('a', 'b', oldText, newText, undefined, undefined, { context, maxEditLength: MAX_EDIT_LENGTH });
  if (patch) return patch.hunks;
  return [wholeFileHunk(oldText, newText)];
}

/** A single hunk replacing every old line with every new line (when a minimal diff is too costly). */
function wholeFileHunk(oldText: string, newText: string): Hunk {
  const split = (t: string, sign: string): string[] => {
    if (t === '') return [];
    const lines = t.split('\n');
    const last = lines.pop() as string;
    const out = lines.map((l) => sign + l);
    if (last !== '') out.push(sign + last, '\\ No newline at end of file');
    return out;
  };
  const oldLines = split(oldText, '-');
  const newLines = split(newText, '+');
  const count = (ls: string[]): number => ls.filter((l) => !l.startsWith('\\')).length;
  return { oldStart: count(oldLines) === 0 ? 0 : 1, oldLines: count(oldLines), newStart: count(newLines) === 0 ? 0 : 1, newLines: count(newLines), lines: [...oldLines, ...newLines] };
}

function render(file: ProposedFile, binaryDiffers: boolean): string {
  const oldName = file.kind === 'added' ? '/dev/null' : `a/${file.oldPath ?? file.path}`;
  const newName = file.kind === 'deleted' ? '/dev/null' : `b/${file.path}`;
  const patch: StructuredPatch = { oldFileName: oldName, newFileName: newName, oldHeader: undefined, newHeader: undefined, hunks: file.hunks, isGit: true };
  if (file.kind === 'added') {
    patch.isCreate = true;
    patch.newMode = file.newMode;
  } else if (file.kind === 'deleted') {
    patch.isDelete = true;
    patch.oldMode = file.oldMode;
  } else if (file.oldMode !== file.newMode) {
    patch.oldMode = file.oldMode;
    patch.newMode = file.newMode;
  }
  if (file.kind === 'renamed') patch.isRename = true;
  let text = formatPatch(patch);
  if (file.kind === 'renamed') {
    const firstBreak = text.indexOf('\n') + 1;
    text = `${text.slice(0, firstBreak)}similarity index ${file.similarity ?? 100}%\n${text.slice(firstBreak)}`;
  }
  if (binaryDiffers) text += `Binary files ${oldName} and ${newName} differ\n`;
  return text;
}
