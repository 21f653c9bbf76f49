/**
 * Everything the extension reaches lazily: the core runtime, the Docker
 * sandbox, the stores, diffing and traces. This module is the entry of a
 * second bundle (dist/extension-heavy.cjs) that is required on first use, so
 * activation loads none of it.
 *
 * Contract: code under src/extension reaches these modules only through
 * `loadHeavy()` (load-heavy.ts), never by importing them directly (a type-only
 * import is fine). Add what a feature needs here as re-exports.
 */
export { openSandboxSession } from '../sandbox/session.ts';
export { createRuntime } from '../core/compose.ts';
export { RunIndex } from '../core/store/run-index.ts';
export { isRunLocked } from '../core/store/locks.ts';
export { readRunLog } from '../core/store/event-log.ts';
export { crewboxPaths } from '../core/store/layout.ts';
export { applyChange } from '../sandbox/diff/apply.ts';
export { isDiscarded, loadRunChanges, readHostEntry } from './review/run-changes.ts';
export { discardRun } from './review/discard.ts';
export { setExecutable } from './review/exec-bit.ts';
export { DockerEngine } from '../sandbox/docker/engine.ts';
export { buildSandboxImage } from '../sandbox/container-manager.ts';
// The run history panel (history/history-store.ts): summaries, OTLP export, rollback.
export { summarizeRun } from '../core/store/run-summary.ts';
export { toOtlpJson } from '../core/trace/otlp.ts';
export { CheckpointStore } from '../sandbox/store/checkpoints.ts';
export { UnavailableSandbox } from '../sandbox/unavailable.ts';
