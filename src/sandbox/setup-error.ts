/**
 * Typed failures of setting up a workspace's sandbox container that are not
 * the Docker Engine's own (those are DockerError from docker/engine.ts).
 * Callers branch on `code`, never on the message; the message is one sentence
 * for the user saying what is wrong and how to fix it (plus, for a failed
 * postCreateCommand, the command's output).
 */

export type SandboxSetupErrorCode =
  /** devcontainer.json is not valid JSONC, or a key has the wrong type or value. */
  | 'devcontainer_invalid'
  /** The configured user is root (uid 0): the sandbox never runs as root. */
  | 'root_user'
  /** A named user or group does not exist in the image. */
  | 'user_unknown'
  /** Neither the image nor Crewbox's own Node.js binary gives a Node ≥ 18 inside the container. */
  | 'node_unavailable'
  /** The devcontainer's postCreateCommand exited non-zero. */
  | 'post_create_failed'
  /** Memory/CPU/pids limits that make no sense. */
  | 'invalid_limits'
  /** The operation was cancelled through its AbortSignal. */
  | 'aborted';

export class SandboxSetupError extends Error {
  override readonly name = 'SandboxSetupError';
  constructor(
    readonly code: SandboxSetupErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isSandboxSetupError(e: unknown): e is SandboxSetupError {
  return e instanceof SandboxSetupError;
}

/** Throws `aborted` when the signal has fired; called between setup steps. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new SandboxSetupError('aborted', `Cancelled while ${what}.`, { cause: signal.reason });
}
