/**
 * Which actions an error recorded in a run's log offers, decided by its kind
 * (never by its text). Shared so the host's own notices offer the same
 * actions as the chat's error rows.
 */
import type { ErrorKind } from '../core/events/schema.ts';
import type { ErrorAction } from './schemas.ts';

const BY_KIND: Record<ErrorKind, readonly ErrorAction[]> = {
  auth: ['setApiKey', 'showLogs'],
  rate_limit: ['retry', 'showLogs'],
  overloaded: ['retry', 'showLogs'],
  network: ['retry', 'showLogs'],
  timeout: ['retry', 'showLogs'],
  server: ['retry', 'showLogs'],
  circuit_open: ['retry', 'showLogs'],
  context_too_long: ['showLogs'],
  bad_request: ['showLogs'],
  sandbox: ['startDocker', 'retry', 'showLogs'],
  aborted: [],
  internal: ['showLogs'],
};

export function actionsForErrorKind(kind: ErrorKind): readonly ErrorAction[] {
  return BY_KIND[kind];
}

/** Button labels, the same everywhere. */
export const ACTION_LABELS: Record<ErrorAction, string> = {
  setApiKey: 'Set API Key',
  startDocker: 'Start Docker',
  showLogs: 'Show Logs',
  retry: 'Retry',
  manageTrust: 'Manage Workspace Trust',
};

/** Whether `value` names an action (e.g. a button's data attribute), checked without zod. */
export function isErrorAction(value: unknown): value is ErrorAction {
  return typeof value === 'string' && Object.hasOwn(ACTION_LABELS, value);
}
