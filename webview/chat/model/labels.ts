/** Words for the enum values the chat shows. */
import type { ErrorKind, HaltReason, RunStatus } from '../../../src/core/events/schema.ts';

export const ERROR_KIND_LABELS: Record<ErrorKind, string> = {
  auth: 'the API key was refused',
  rate_limit: 'rate limited',
  overloaded: 'the provider is overloaded',
  context_too_long: 'the conversation is too long for the model',
  bad_request: 'the provider rejected the request',
  network: 'network error',
  timeout: 'the request timed out',
  server: 'provider server error',
  circuit_open: 'the provider keeps failing; calls are paused',
  aborted: 'stopped',
  sandbox: 'sandbox error',
  internal: 'internal error',
};

export const HALT_REASON_LABELS: Record<HaltReason, string> = {
  max_steps_total: 'the step budget',
  max_steps_agent: "an agent's step budget",
  max_tokens: 'the token budget',
  max_cost: 'the cost budget',
  max_wall_time: 'the time budget',
  loop: 'a repeated-call loop',
};

export const RUN_STATUS_LABELS: Record<RunStatus | 'idle' | 'stopping' | 'stale', string> = {
  idle: 'Idle',
  running: 'Running',
  waiting_user: 'Waiting for your answer',
  interrupted: 'Stopped',
  completed: 'Completed',
  failed: 'Failed',
  halted: 'Halted',
  stopping: 'Stopping…',
  stale: 'Not running (window was reloaded)',
};
