/**
 * Reads what the review model needs from disk: a run's proposed files with
 * the texts of both sides (from the checkpoint store), whether the run was
 * discarded (from its log), and what the host holds at a path. No `vscode`.
 *
 * Contract: this module belongs to the heavy bundle (it imports the stores);
 * code under src/extension reaches it only through loadHeavy() (heavy.ts).
 * Texts lose a leading UTF-8 BOM on every side alike (the editor hides it
 * too), so a BOM never makes a hunk conflict.
 */
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { isDiscarded } from '../../core/store/discarded.ts';
import { errnoCode } from '../../core/store/errors.ts';
import { compareManifests, isBinary, MAX_TEXT_BYTES } from '../../sandbox/diff/proposed-change.ts';
import type { BlobStore } from '../../sandbox/store/blobs.ts';
import { CheckpointStore } from '../../sandbox/store/checkpoints.ts';
import { sha256, type ManifestEntry } from '../../sandbox/store/manifest.ts';
import { isHostSafePath } from '../../sandbox/store/store-paths.ts';
import { DEFAULT_CONTEXT } from './hunks.ts';

export { isDiscarded };
import { joinTypeChanges, type HostEntry, type ProposedFileWithText } from './model.ts';

export interface RunChanges {
  runId: string;
  discarded: boolean;
  files: ProposedFileWithText[];
}

/** The run's proposed files (none when it has no checkpoints, or was discarded). */
export async function loadRunChanges(workspace: string, runId: string): Promise<RunChanges> {
  const discarded = await isDiscarded(workspace, runId);
  const store = new CheckpointStore(workspace);
  if (discarded || !(await store.hasRun(runId))) return { runId, discarded, files: [] };
  const blobs = store.blobs; // knows the inline blobs of the logs the store reads
  const { base, latest } = await store.touchedAt(runId);
  const change = await compareManifests(base, latest, blobs, { context: DEFAULT_CONTEXT });
  const textOf = async (entry: ManifestEntry | undefined): Promise<string | undefined> => {
    if (entry?.kind !== 'file' || entry.size > MAX_TEXT_BYTES) return undefined;
    const data = await blobs.read(entry.hash);
    return isBinary(data) ? undefined : withoutBom(data.toString('utf8'));
  };
  const files: ProposedFileWithText[] = [];
  for (const f of change.files) {
    const withText: ProposedFileWithText = { ...f };
    if (!f.binary) {
      const baseText = f.kind === 'added' ? undefined : await textOf(base.get(f.oldPath ?? f.path));
      const proposedText = f.kind === 'deleted' ? undefined : await textOf(latest.get(f.path));
      if (baseText !== undefined) withText.baseText = baseText;
      if (proposedText !== undefined) withText.proposedText = proposedText;
    }
    files.push(withText);
  }
  // A name only the sandbox can hold (a backslash on a Windows host) is never offered for the host.
  const hostSafe = files.filter((f) => isHostSafePath(f.path) && (f.oldPath === undefined || isHostSafePath(f.oldPath)));
  return { runId, discarded, files: joinTypeChanges(hostSafe) };
}

/** What the host holds at a workspace-relative path (never follows a symlink). */
export async function readHostEntry(workspace: string, rel: string): Promise<HostEntry> {
  if (!isHostSafePath(rel)) throw new Error(`Not a workspace path on this host: ${JSON.stringify(rel)}`);
  const abs = path.join(workspace, ...rel.split('/'));
  let st;
  try {
    st = await lstat(abs);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return { kind: 'missing' };
    throw e;
  }
  if (st.isSymbolicLink()) return { kind: 'symlink', hash: sha256(await readlink(abs)) };
  if (!st.isFile()) return { kind: 'other' };
  const data = await readFile(abs);
  const entry: HostEntry = { kind: 'file', hash: sha256(data), executable: (st.mode & 0o111) !== 0 };
  if (data.length <= MAX_TEXT_BYTES && !isBinary(data)) entry.text = withoutBom(data.toString('utf8'));
  return entry;
}

function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
