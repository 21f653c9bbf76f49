/**
 * Typed infrastructure errors → the reply the webview shows: one sentence and
 * the actions that help. Decided by the error's class name and code, never by
 * its message text. Looks at names rather than `instanceof` so that loading
 * this module does not load dockerode (activation stays cheap).
 */
import { RequestFailed } from '../protocol/host-channel.ts';
import type { SandboxStatus } from '../protocol/schemas.ts';

interface Coded {
  name: string;
  code: string;
  message: string;
}

function coded(e: unknown): Coded | undefined {
  if (!(e instanceof Error)) return undefined;
  // ModelError names its code `kind`.
  const { code: byCode, kind } = e as { code?: unknown; kind?: unknown };
  const code = byCode ?? kind;
  return typeof code === 'string' ? { name: e.name, code, message: e.message } : undefined;
}

const DOCKER_DOWN = new Set(['not_installed', 'daemon_down', 'permission']);

/** The RequestFailed to reply with, or undefined for an unexpected error (a bug: answered as internal). */
export function toRequestFailed(e: unknown): RequestFailed | undefined {
  if (e instanceof RequestFailed) return e;
  const c = coded(e);
  if (!c) return undefined;
  switch (c.name) {
    case 'DockerError':
      return new RequestFailed('failed', c.message, DOCKER_DOWN.has(c.code) ? ['startDocker', 'showLogs'] : ['showLogs']);
    case 'SandboxSetupError':
      return new RequestFailed('failed', c.message, ['showLogs']);
    case 'StoreError':
      if (c.code === 'run_locked') return new RequestFailed('conflict', c.message);
      if (c.code === 'not_found' || c.code === 'empty_run') return new RequestFailed('not_found', c.message);
      return new RequestFailed('failed', c.message, ['showLogs']);
    case 'RunError':
      if (c.code === 'not_found') return new RequestFailed('not_found', c.message);
      return new RequestFailed('conflict', c.message);
    case 'ModelError':
      return new RequestFailed('failed', c.message, c.code === 'auth' ? ['setApiKey'] : ['retry', 'showLogs']);
    default:
      return undefined;
  }
}

/** What the status line says about the sandbox after a failure to open it. */
export function sandboxStatusAfter(e: unknown): SandboxStatus {
  const c = coded(e);
  if (c?.name === 'DockerError' && DOCKER_DOWN.has(c.code)) return { state: 'unavailable', detail: c.message.slice(0, 500) };
  return { state: 'error', detail: (c?.message ?? 'The sandbox could not be opened.').slice(0, 500) };
}
