/**
 * The run's files, as the runtime sees them: a port implemented by the Docker
 * sandbox's checkpoint store (and by test doubles). The runtime calls it at
 * fixed points; it knows nothing of containers, tar or blobs.
 *
 * Contract:
 * - `open` is called before a run is driven (start, resume, fork resume). It
 *   makes the sandbox's /workspace hold exactly this run's files as of the
 *   run's last checkpoint; for a new run it first takes the base snapshot of
 *   the host workspace. A fork starts from its origin's files at the fork step.
 *   It may take long (copy-in); it reports progress through `onProgress`.
 * - `checkpoint` is called after every tool call that may change files (and
 *   before its result is recorded). It records what changed in /workspace
 *   since the previous checkpoint as part of `step`, at a cost proportional
 *   to the change, and says how many files changed.
 * - State after step N of a run = base + every checkpoint with step ≤ N.
 */
export interface RunFilesProgress {
  phase: 'container' | 'image' | 'snapshot' | 'copy-in' | 'restore';
  message: string;
  done?: number;
  total?: number;
}

export interface OpenRunFiles {
  runId: string;
  /** The run's current step (0 for a new run). */
  step: number;
  forkOf?: { runId: string; step: number };
  /** Network inside the sandbox for this run. */
  network: boolean;
}

export interface CheckpointResult {
  filesChanged: number;
  paths: string[];
}

export interface RunFilesPort {
  open(req: OpenRunFiles, signal: AbortSignal, onProgress?: (p: RunFilesProgress) => void): Promise<void>;
  checkpoint(runId: string, step: number, signal: AbortSignal): Promise<CheckpointResult>;
}
