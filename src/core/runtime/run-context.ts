/** What every collaborator of one run's drive shares. */
import type { ModelCaller, RuntimeDeps } from './deps.ts';
import type { RunRecorder } from './recorder.ts';
import type { RunState } from './fold.ts';

export interface RunContext {
  deps: RuntimeDeps;
  models: ModelCaller;
  recorder: RunRecorder;
  state: RunState;
  /** The run's one AbortSignal, linked into every agent, model call and tool. */
  signal: AbortSignal;
}
