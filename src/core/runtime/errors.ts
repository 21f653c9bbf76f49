/** Errors of the runtime's API (what the caller asked for cannot be done). */
export type RunErrorCode = 'run_exists' | 'run_finished' | 'run_discarded' | 'invalid_step' | 'not_found';

export class RunError extends Error {
  override readonly name = 'RunError';
  constructor(readonly code: RunErrorCode, message: string) {
    super(message);
  }
}
