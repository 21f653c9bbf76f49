/** Typed errors → the one sentence the user sees. Decided by class and code, never by message text. */
import { isModelError } from '../core/model/errors.ts';
import { isStoreError } from '../core/store/errors.ts';
import { RunError } from '../core/runtime/errors.ts';
import { isDockerError } from '../sandbox/docker/engine.ts';
import { isSandboxSetupError } from '../sandbox/setup-error.ts';

export function describeError(e: unknown): { sentence: string; known: boolean } {
  if (isDockerError(e) || isSandboxSetupError(e) || isStoreError(e) || e instanceof RunError || isModelError(e)) {
    return { sentence: (e as Error).message, known: true };
  }
  return { sentence: `Unexpected error: ${e instanceof Error ? e.message : String(e)}`, known: false };
}
