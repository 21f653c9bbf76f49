/**
 * Typed failures of the supervisor channel (infrastructure, never shown to
 * the model as tool errors). A container that disappeared is reported as
 * DockerError 'container_gone' instead (see launch.ts).
 */

export type SandboxChannelErrorCode =
  /** The channel ended (supervisor exited, connection dropped). */
  | 'closed'
  /** The supervisor could not be started (no node in the image, crash at start). */
  | 'start_failed'
  /** A line or a result did not match the protocol. */
  | 'protocol'
  /** No answer within the host's safety deadline. */
  | 'timeout';

export class SandboxChannelError extends Error {
  override readonly name = 'SandboxChannelError';
  constructor(
    readonly code: SandboxChannelErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A typed failure reported by a supervisor op (`{ok: false, error: {code, message}}`). */
export class SupervisorOpError extends Error {
  override readonly name = 'SupervisorOpError';
  constructor(
    readonly op: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
