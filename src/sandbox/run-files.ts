/**
 * RunFilesPort over a container's /workspace (ContainerFiles) and the
 * checkpoint store in the host's `.crewbox/`.
 *
 * open:
 * - new run: the host workspace is snapshotted (incrementally) and becomes
 *   the run's base; fork: the origin's base and deltas up to the fork step
 *   are copied; resume: the run's records as they are.
 * - The container is then made to hold the run's files: a delta from what
 *   `.crewbox/sandbox-state.json` says it holds, checked against one listing
 *   with the saved stat records so that only paths that differ are re-sent,
 *   or a full copy-in when nothing is believed. A fresh container (after
 *   `docker rm -f`) lists empty, so it receives everything.
 * - Resuming the run the container still holds: changes the container made
 *   after the last checkpoint (a command cut off by a crash of the host
 *   process) are recorded first, at the resume step, so the files the
 *   cut-off call produced are neither lost nor silently reverted — provided
 *   most of the run's files are confirmed in place; otherwise the container
 *   is taken back to the last checkpoint.
 * - The copy-in's own change events are drained and discarded, so the first
 *   checkpoint sees only the run's changes.
 *
 * checkpoint: the container's change list since the previous drain (with the
 * changed files' content when few changed: one round trip), recorded as one
 * delta line carrying the small new contents (one sync; larger ones are
 * stored as blobs first); none when nothing changed.
 * If recording fails, the next checkpoint first rebuilds its picture from
 * the records and a listing, so the lost changes are recorded then (and a
 * new process finds them through the dirty record when it opens the run).
 *
 * Calls are serialised. One run at a time per container: opening another
 * run switches the container to it.
 */
import type { CheckpointResult, OpenRunFiles, RunFilesPort, RunFilesProgress } from '../core/sandbox/run-files.ts';
import { ensureCrewboxDir } from '../core/store/layout.ts';
import type { ContainerFiles } from './container-files.ts';
import type { BlobStore } from './store/blobs.ts';
import { InlineBlobs } from './store/inline-blobs.ts';
import { CheckpointStore, type RunState } from './store/checkpoints.ts';
import { sameEntry, type ManifestChange } from './store/manifest.ts';
import { captureChanges, reconcileWithListing, relevantPaths } from './sync/capture.ts';
import { clearDirty, readContainerStats, readDirty, readHeldState, writeContainerStats, writeDirty, writeHeldState, type HeldState } from './sync/container-state.ts';
import { readRootExcludes } from './sync/host-files.ts';
import { snapshotHost } from './sync/host-snapshot.ts';
import { rebuild, sendDelta, unknownPaths, type RestoreResult } from './sync/restore.ts';
import { TrackedTree } from './sync/tracked-tree.ts';

export interface RunFilesOptions {
  workspace: string;
  containerFiles: ContainerFiles;
  /** Git binary for listing the host workspace; `false` never runs git. */
  git?: string | false;
  now?: () => Date;
}

export interface RunFiles extends RunFilesPort {
  readonly store: CheckpointStore;
  readonly blobs: BlobStore;
  /** How the last open brought the container up to date (for logs and tests). */
  readonly lastRestore: RestoreResult | undefined;
}

/** Below this many reads, adopting a crashed call's changes is always worth trying. */
const MIN_ADOPT_READS = 2000;

interface OpenRun {
  runId: string;
  tree: TrackedTree;
  seq: number;
  /** A checkpoint failed: the tree may be ahead of the records; rebuild it from them before the next one. */
  stale: boolean;
}

export function createRunFiles(opts: RunFilesOptions): RunFiles {
  const store = new CheckpointStore(opts.workspace);
  const blobs = store.blobs;
  const files = opts.containerFiles;
  const now = opts.now ?? (() => new Date());
  let current: OpenRun | undefined;
  let lastRestore: RestoreResult | undefined;
  // open and checkpoint never interleave (agents' tool calls may finish together).
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(task: () => Promise<T>): Promise<T> => {
    const result = queue.then(task, task);
    queue = result.catch(() => undefined);
    return result;
  };
  let rootExcludes: Promise<string | undefined> | undefined;
  const excludes = (): Promise<string | undefined> => (rootExcludes ??= readRootExcludes(opts.workspace));

  async function runState(req: OpenRunFiles, signal: AbortSignal, onProgress?: (p: RunFilesProgress) => void): Promise<RunState> {
    if (await store.hasRun(req.runId)) return store.stateAt(req.runId);
    if (req.forkOf) {
      await store.forkCheckpoints(req.forkOf.runId, req.forkOf.step, req.runId);
      return store.stateAt(req.runId);
    }
    onProgress?.({ phase: 'snapshot', message: 'Snapshotting the workspace' });
    const snap = await snapshotHost(opts.workspace, blobs, {
      git: opts.git,
      signal,
      onProgress: (done, total) => onProgress?.({ phase: 'snapshot', message: 'Snapshotting the workspace', done, total }),
    });
    const hash = await store.writeSnapshot(snap.manifest);
    await store.createRun(req.runId, hash);
    return { manifest: snap.manifest, snapshot: hash, seq: 0, step: 0 };
  }

  /** The manifest the container is believed to hold, or undefined when unknown or unreadable. */
  async function heldManifest(held: HeldState | null): Promise<RunState | undefined> {
    if (!held) return undefined;
    try {
      return await store.stateAt(held.run);
    } catch {
      return undefined; // records gone or damaged: rebuild rather than trust them
    }
  }

  async function open(req: OpenRunFiles, signal: AbortSignal, onProgress?: (p: RunFilesProgress) => void): Promise<void> {
    current = undefined;
    await ensureCrewboxDir(opts.workspace);
    const state = await runState(req, signal, onProgress);
    let target = new TrackedTree(state.manifest, blobs, await excludes());
    let seq = state.seq;

    const held = await readHeldState(store.paths);
    const drained = await files.drainChanges(signal);
    const dirty = await readDirty(store.paths);
    const heldRun = held?.run;
    const believed = heldRun === req.runId ? { ...state, manifest: new Map(state.manifest) } : await heldManifest(held);
    // Known changes since the belief was recorded: this drain, and a drain whose delta never reached the log.
    const lost = dirty && dirty.run === heldRun && believed && dirty.afterSeq >= believed.seq ? dirty : undefined;
    const known = [...drained.paths, ...(lost?.paths ?? [])];

    const deps = { files, blobs, signal, now, onProgress };
    await writeHeldState(store.paths, null);
    if (!believed) {
      lastRestore = await rebuild(deps, target);
    } else {
      const actual = new TrackedTree(believed.manifest, blobs, await excludes());
      // A lost change list that had itself overflowed names nothing: then no stat record is trusted either.
      if (!lost?.overflow) for (const [p, st] of await readContainerStats(store.paths, believed.manifest)) actual.stats.set(p, st);
      onProgress?.({ phase: 'restore', message: 'Checking the sandbox workspace' });
      const listing = await files.listAll(signal);
      let adopted = false;
      const believedSize = believed.manifest.size;
      if (heldRun === req.runId) {
        // The container should be this run's: changes it made after the last checkpoint (a call cut off by a
        // crash) are recorded rather than reverted — if the container really is the run's (most files confirmed).
        const limit = Math.max(MIN_ADOPT_READS, Math.floor(believed.manifest.size / 4));
        const observed = await reconcileWithListing({ files, blobs, signal }, actual, listing, { forced: known, maxCandidates: limit });
        if (observed && observed.confirmed * 2 >= believedSize) {
          if (observed.changes.length > 0) seq = (await store.append(req.runId, req.step, observed.changes)).seq;
          target = actual;
          adopted = true;
          lastRestore = { mode: 'delta', sent: 0, deleted: 0 };
        } else if (observed) {
          lastRestore = await sendDelta(deps, target, { manifest: actual.manifest, rules: await actual.ignoreRules(), pending: new Set() }, listing);
          adopted = true;
        }
      }
      if (!adopted) {
        const rules = await actual.ignoreRules();
        const pending = unknownPaths(actual, rules, listing, known);
        lastRestore = await sendDelta(deps, target, { manifest: actual.manifest, rules, pending }, listing);
      }
    }
    await writeHeldState(store.paths, { run: req.runId });
    await files.drainChanges(signal, { discard: true }); // the restore's own events (a copy-in names every path)
    await clearDirty(store.paths);
    await writeContainerStats(store.paths, target);
    current = { runId: req.runId, tree: target, seq, stale: false };
  }

  /**
   * After a failed checkpoint: the tree again from the records, compared with
   * a listing of the container (stat records kept where the content they
   * vouch for is the recorded one, and the dirty paths read regardless).
   * Returns the changes the failed checkpoint did not record.
   */
  async function resync(run: OpenRun, signal: AbortSignal): Promise<ManifestChange[]> {
    const state = await store.stateAt(run.runId);
    const tree = new TrackedTree(state.manifest, blobs, await excludes());
    for (const [p, st] of run.tree.stats) if (sameEntry(run.tree.manifest.get(p), state.manifest.get(p))) tree.stats.set(p, st);
    const dirty = await readDirty(store.paths);
    const forced = dirty && dirty.run === run.runId && dirty.afterSeq >= state.seq ? dirty.paths : [];
    const observed = await reconcileWithListing({ files, blobs, signal }, tree, await files.listAll(signal), { forced });
    run.tree = tree;
    run.seq = state.seq;
    run.stale = false;
    return observed?.changes ?? [];
  }

  async function checkpoint(runId: string, step: number, signal: AbortSignal): Promise<CheckpointResult> {
    const run = current;
    if (!run || run.runId !== runId) throw new Error(`Run ${runId} is not open in this sandbox; open it before recording checkpoints.`);
    // Small new contents go into the delta line itself: one sync per step. Readable from memory until then.
    const inline = new InlineBlobs();
    const release = blobs.holdInMemory(inline.entries);
    try {
      const recovered = run.stale ? await resync(run, signal) : [];
      const drained = await files.drainChanges(signal, { read: true });
      const relevant = drained.overflow ? [] : await relevantPaths(run.tree, drained.paths);
      let changes = recovered;
      // The dirty record is written while the change is read and stored (not before, and not waited for
      // before the delta line): it is needed only if the delta line is missing, and a crash before it is
      // complete loses the paths either way. A failure waits for it: the resync after it reads it.
      let dirty: Promise<void> | undefined;
      try {
        if (drained.overflow || relevant.length > 0) {
          dirty = writeDirty(store.paths, { run: runId, afterSeq: run.seq, paths: relevant, overflow: drained.overflow });
          const captured = await captureChanges({ files, blobs, signal, inline }, run.tree, { paths: relevant, overflow: drained.overflow, files: drained.files });
          changes = mergeChanges(recovered, captured);
        }
        if (changes.length > 0) run.seq = (await store.append(runId, step, changes, inline.entries)).seq;
      } catch (e) {
        await dirty?.catch(() => undefined);
        throw e;
      }
      await dirty?.catch(() => undefined); // stale once the delta line is in: its failure does not matter
      return { filesChanged: changes.length, paths: changes.map((c) => c.path) };
    } catch (e) {
      run.stale = true;
      throw e;
    } finally {
      release();
    }
  }

  return {
    store,
    blobs,
    get lastRestore() {
      return lastRestore;
    },
    open: (req, signal, onProgress) => serially(() => open(req, signal, onProgress)),
    checkpoint: (runId, step, signal) => serially(() => checkpoint(runId, step, signal)),
  };
}

/** Both lists as one, a path's later change winning. */
function mergeChanges(first: readonly ManifestChange[], then: readonly ManifestChange[]): ManifestChange[] {
  if (first.length === 0) return [...then];
  const byPath = new Map<string, ManifestChange>();
  for (const c of [...first, ...then]) {
    byPath.delete(c.path);
    byPath.set(c.path, c);
  }
  return [...byPath.values()];
}
