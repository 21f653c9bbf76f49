/**
 * The review model of one run: each proposed file with its state against the
 * CURRENT host workspace, its hunks (text files) and what applying it means.
 * Pure: no `vscode`, no I/O; the caller supplies what the host holds.
 *
 * Contract:
 * - A file is `pending` (it can be applied), `applied` (the host already has
 *   the run's version) or `conflict` (the user changed what the run changed,
 *   since the run's base; never overwritten without the user's say).
 * - Text files (regular, non-binary on both sides, same kind on both sides)
 *   are applied as text edits (`via: 'text'`): for a modification, the
 *   pending hunks are applied to the host text, so the user's edits in other
 *   regions are kept (`merged` says the host differed from the base). When
 *   the host equals the base the result is exactly the run's version.
 * - Binary files, symlinks and file⇄symlink changes cannot be text edits
 *   (`via: 'fs'`): they are applied whole by the fs-level applyChange, which
 *   checks them against the base itself; their state here mirrors its rules.
 * - A changed executable bit is reported (`modeChange`) and applied after the
 *   content; a mode-only change is `via: 'fs'`.
 */
import type { ChangeKind, ProposedFile } from '../../sandbox/diff/proposed-change.ts';
import { applyHunks, DEFAULT_CONTEXT, hunkSides, locateHunks, type HunkState, type LocatedHunk } from './hunks.ts';

/** What the host holds at a path. `hash` is sha256 of the content (files) or of the link target (symlinks). */
export type HostEntry =
  | { kind: 'missing' }
  | { kind: 'file'; hash: string; executable: boolean; /** The text, when the content is text. */ text?: string }
  | { kind: 'symlink'; hash: string }
  | { kind: 'other' };

/** A proposed file with the texts of its sides (text files only; a leading BOM removed). */
export interface ProposedFileWithText extends ProposedFile {
  baseText?: string;
  proposedText?: string;
  /** The path changed kind (file ⇄ symlink): one change replacing the old entry with the new. */
  typeChanged?: boolean;
}

export type FileState = HunkState;

export interface ReviewFile {
  path: string;
  oldPath?: string;
  kind: ChangeKind;
  binary: boolean;
  symlink: boolean;
  via: 'text' | 'fs';
  state: FileState;
  /** Conflicts: why, in one sentence. */
  reason?: string;
  /** Text modifications: the host holds edits of the user outside the run's hunks; applying merges the hunks into it and keeps them. */
  merged: boolean;
  /** The executable bit changes: [old, new]. */
  modeChange?: { from: boolean; to: boolean };
  hunks: LocatedHunk[];
  change: ProposedFileWithText;
  /** The host text the hunks were located on (text files whose host side is text). */
  hostText?: string;
  /** Renames: the file is still at its old path on the host (applying also moves it). */
  atOldPath?: boolean;
}

export interface ReviewModel {
  runId: string;
  discarded: boolean;
  files: ReviewFile[];
}

/** What applying (part of) a text file does, for the editor to carry out. */
export type TextPlan =
  | { op: 'write'; path: string; text: string; renameFrom?: string; executable?: boolean }
  | { op: 'delete'; path: string }
  | { op: 'none'; why: string }
  | { op: 'conflict'; why: string };

const isExec = (mode: string | undefined): boolean => mode === '100755';
const isLink = (mode: string | undefined): boolean => mode === '120000';

/** Merges the deletion + addition compareManifests reports for a path that changed kind (file ⇄ symlink). */
export function joinTypeChanges(files: readonly ProposedFileWithText[]): ProposedFileWithText[] {
  const added = new Map(files.filter((f) => f.kind === 'added').map((f) => [f.path, f]));
  const out: ProposedFileWithText[] = [];
  for (const f of files) {
    const twin = f.kind === 'deleted' ? added.get(f.path) : undefined;
    if (twin) {
      const joined: ProposedFileWithText = { ...twin, kind: 'modified', typeChanged: true, hunks: [] };
      if (f.oldMode !== undefined) joined.oldMode = f.oldMode;
      if (f.baseHash !== undefined) joined.baseHash = f.baseHash;
      out.push(joined);
      continue;
    }
    if (f.kind === 'added' && files.some((d) => d.kind === 'deleted' && d.path === f.path)) continue;
    out.push(f);
  }
  return out;
}

/** The file's review against the host: `host` at its path, `hostOld` at its old path (renames). */
export function reviewFile(change: ProposedFileWithText, host: HostEntry, hostOld: HostEntry = { kind: 'missing' }, context = DEFAULT_CONTEXT): ReviewFile {
  const symlink = isLink(change.oldMode) || isLink(change.newMode);
  const text = !change.binary && !symlink && !change.typeChanged && (change.kind === 'deleted' || change.proposedText !== undefined) && (change.kind === 'added' || change.baseText !== undefined);
  const modeChange = change.oldMode !== undefined && change.newMode !== undefined && change.oldMode !== change.newMode && !symlink ? { from: isExec(change.oldMode), to: isExec(change.newMode) } : undefined;
  const base: ReviewFile = {
    path: change.path,
    ...(change.kind === 'renamed' && change.oldPath !== undefined ? { oldPath: change.oldPath } : {}),
    kind: change.kind,
    binary: change.binary,
    symlink,
    via: text && (change.hunks.length > 0 || change.kind !== 'modified') ? 'text' : 'fs',
    state: 'pending',
    merged: false,
    ...(modeChange ? { modeChange } : {}),
    hunks: [],
    change,
  };
  return base.via === 'text' ? reviewText(base, host, hostOld, context) : reviewWhole(base, host, hostOld);
}

function conflict(file: ReviewFile, reason: string): ReviewFile {
  return { ...file, state: 'conflict', reason };
}

/** A file applied whole (fs-level): the state follows applyChange's rules. */
function reviewWhole(file: ReviewFile, host: HostEntry, hostOld: HostEntry): ReviewFile {
  const c = file.change;
  const hasNew = c.kind !== 'deleted';
  const holds = (h: HostEntry, hash: string | undefined, mode: string | undefined, withExec: boolean): boolean => {
    if (hash === undefined) return h.kind === 'missing';
    if (isLink(mode)) return h.kind === 'symlink' && h.hash === hash;
    return h.kind === 'file' && h.hash === hash && (!withExec || h.executable === isExec(mode));
  };
  const sourceGone = c.kind !== 'renamed' || hostOld.kind === 'missing';
  if (hasNew && holds(host, c.newHash, c.newMode, true) && sourceGone) return { ...file, state: 'applied' };
  if (!hasNew && host.kind === 'missing') return { ...file, state: 'applied' };
  if (host.kind === 'other') return conflict(file, `${c.path} is a directory or special file on the host.`);
  if (c.kind === 'renamed') {
    if (host.kind !== 'missing') return conflict(file, `A file already exists at ${c.path} on the host.`);
    if (!holds(hostOld, c.baseHash, c.oldMode, false)) return conflict(file, `${c.oldPath ?? c.path} changed on the host since the run started.`);
    return file;
  }
  if (c.kind === 'added') return host.kind === 'missing' ? file : conflict(file, `A different ${c.path} was created on the host since the run started.`);
  if (host.kind === 'missing') return conflict(file, `${c.path} was deleted on the host since the run started.`);
  return holds(host, c.baseHash, c.oldMode, false) ? file : conflict(file, `${c.path} changed on the host since the run started.`);
}

/** A text file: hunk states against the host text. */
function reviewText(file: ReviewFile, host: HostEntry, hostOld: HostEntry, context: number): ReviewFile {
  const c = file.change;
  const proposed = c.proposedText ?? '';
  const baseText = c.baseText ?? '';
  const textOf = (h: HostEntry): string | undefined => (h.kind === 'file' ? h.text : undefined);
  const uniform = (state: HunkState, hostText?: string): ReviewFile => ({
    ...file,
    state,
    ...(hostText !== undefined ? { hostText } : {}),
    hunks: c.hunks.map((hunk, index) => ({ hunk, index, state, ...sidesOf(hunk) })),
  });

  if (c.kind === 'added') {
    if (host.kind === 'missing') return uniform('pending');
    if (textOf(host) === proposed) return uniform('applied', proposed);
    return { ...uniform('conflict'), reason: `A different ${c.path} was created on the host since the run started.` };
  }
  if (c.kind === 'deleted') {
    if (host.kind === 'missing') return uniform('applied');
    const t = textOf(host);
    if (t === baseText) return uniform('pending', t);
    return { ...uniform('conflict', t), reason: `${c.path} changed on the host since the run started; the run deletes it.` };
  }

  // Modified, or renamed: the text is wherever the file is now.
  let at: HostEntry = host;
  if (c.kind === 'renamed') {
    if (host.kind !== 'missing' && hostOld.kind !== 'missing') return { ...uniform('conflict'), reason: `Both ${c.oldPath ?? ''} and ${c.path} exist on the host.` };
    at = host.kind !== 'missing' ? host : hostOld;
  }
  if (at.kind === 'missing') return { ...uniform('conflict'), reason: `${c.oldPath ?? c.path} was deleted on the host since the run started.` };
  const hostText = textOf(at);
  if (hostText === undefined) return { ...uniform('conflict'), reason: `${c.path} is no longer a text file on the host.` };
  const hunks = locateHunks(c.hunks, hostText, context);
  const renamePending = c.kind === 'renamed' && host.kind === 'missing';
  const execPending = file.modeChange !== undefined && at.kind === 'file' && at.executable !== file.modeChange.to;
  const located: ReviewFile = { ...file, hostText, hunks, merged: false, ...(renamePending ? { atOldPath: true } : {}) };
  const conflicts = hunks.filter((h) => h.state === 'conflict');
  if (conflicts.length > 0) {
    const where = conflicts.map((h) => h.hunk.oldStart).join(', ');
    return conflict(located, `${c.path} changed on the host since the run started, where the run changed it too (the hunk${conflicts.length > 1 ? 's' : ''} at line${conflicts.length > 1 ? 's' : ''} ${where}).`);
  }
  const contentDone = hostText === proposed || hunks.every((h) => h.state === 'applied');
  const merged = hostText !== baseText && applyHunks(hostText, hunks) !== proposed;
  return { ...located, merged, state: contentDone && !renamePending && !execPending ? 'applied' : 'pending' };
}

function sidesOf(hunk: LocatedHunk['hunk']): Pick<LocatedHunk, 'oldSide' | 'newSide'> {
  const { oldSide, newSide } = hunkSides(hunk);
  return { oldSide, newSide };
}

/**
 * What applying the file's text change does: all of it, or only the hunks
 * in `hunks` (indexes) for modifications and renames. Added and deleted
 * files apply whole whichever hunk is chosen. In a file in conflict, hunks
 * that do not conflict can still be applied one by one; the whole file
 * cannot.
 */
export function planTextApply(file: ReviewFile, hunks?: readonly number[]): TextPlan {
  if (file.via !== 'text') return { op: 'conflict', why: `${file.path} is not a text change; it is applied whole.` };
  if (file.state === 'applied') return { op: 'none', why: `${file.path} already holds the run's version.` };
  const c = file.change;
  if (file.state === 'conflict' && !(hunks !== undefined && cleanHunks(file, hunks))) return { op: 'conflict', why: file.reason ?? `${file.path} changed on the host since the run started.` };
  if (c.kind === 'added') return { op: 'write', path: c.path, text: c.proposedText ?? '', ...(isExec(c.newMode) ? { executable: true } : {}) };
  if (c.kind === 'deleted') return { op: 'delete', path: c.path };
  const selected = hunks === undefined ? file.hunks : file.hunks.filter((h) => hunks.includes(h.index));
  const hostText = file.hostText ?? '';
  const text = applyHunks(hostText, file.hunks, selected.map((h) => h.index));
  const renameFrom = file.atOldPath ? file.oldPath : undefined;
  const wholeFile = hunks === undefined || file.hunks.every((h) => hunks.includes(h.index) || h.state === 'applied');
  const executable = file.modeChange && wholeFile ? file.modeChange.to : undefined;
  if (text === hostText && renameFrom === undefined && executable === undefined) return { op: 'none', why: 'The selected hunks are already applied.' };
  return { op: 'write', path: c.path, text, ...(renameFrom !== undefined ? { renameFrom } : {}), ...(executable !== undefined ? { executable } : {}) };
}

/** A file in conflict only because of some of its hunks, none of them among `hunks`: those can still be applied. */
function cleanHunks(file: ReviewFile, hunks: readonly number[]): boolean {
  const kind = file.change.kind;
  if (file.hostText === undefined || (kind !== 'modified' && kind !== 'renamed')) return false;
  const selected = file.hunks.filter((h) => hunks.includes(h.index));
  return selected.length > 0 && selected.every((h) => h.state !== 'conflict');
}

/** The run's version, over whatever the host holds (the user chose it in a conflict). */
export function planUseRunVersion(file: ReviewFile): TextPlan {
  const c = file.change;
  if (c.kind === 'deleted') return { op: 'delete', path: c.path };
  const renameFrom = c.kind === 'renamed' && file.atOldPath ? file.oldPath : undefined;
  // An added file has no mode change (no old mode): its bit is its new mode, as planTextApply sets it.
  const executable = file.modeChange ? file.modeChange.to : c.kind === 'added' && isExec(c.newMode) ? true : undefined;
  return { op: 'write', path: c.path, text: c.proposedText ?? '', ...(renameFrom !== undefined ? { renameFrom } : {}), ...(executable !== undefined ? { executable } : {}) };
}
