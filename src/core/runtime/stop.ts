/**
 * Why an agent loop stopped before finishing. Thrown inside the agent tree and
 * caught once by the run controller, which writes the matching durable event.
 */
import type { ErrorKind, HaltReason } from '../events/schema.ts';
import type { ModelError } from '../model/errors.ts';

export type RunStopCause =
  | { kind: 'interrupted'; reason: string }
  | { kind: 'waiting_user' }
  | { kind: 'halted'; reason: HaltReason; message: string }
  | { kind: 'failed'; error: ModelError | Error; message: string; errorKind?: ErrorKind };

export class RunStop extends Error {
  override readonly name = 'RunStop';
  constructor(readonly cause_: RunStopCause) {
    super(cause_.kind);
  }
}
