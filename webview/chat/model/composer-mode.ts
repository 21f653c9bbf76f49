/**
 * What the bottom of the chat offers, decided from the run's folded state and
 * what only the host knows (is a process driving the run?). Pure.
 *
 * - While a process drives the run: the Stop button, nothing else to type.
 * - Stopped, failed or halted (or "running" in the log with nobody driving
 *   it: the window was reloaded or the host crashed): a message box to
 *   continue, steering the run, or Discard.
 * - Waiting for the user: the question with an answer box.
 * - No run, a completed run, or the user chose "New task": the goal box.
 */
import type { OpenQuestion, RunProgress } from './run-progress.ts';

export type ContinueReason = 'interrupted' | 'failed' | 'halted' | 'stale';

export type ComposerMode =
  | { kind: 'connecting' }
  | { kind: 'untrusted'; reason: string }
  | { kind: 'goal' }
  | { kind: 'working'; runId: string }
  | { kind: 'stopping'; runId: string }
  | { kind: 'answer'; runId: string; question: OpenQuestion }
  | { kind: 'continue'; runId: string; reason: ContinueReason };

export interface ComposerInputs {
  connected: boolean;
  trusted: boolean;
  untrustedReason?: string;
  driving: boolean;
  stopRequested: boolean;
  composingNew: boolean;
  progress: RunProgress;
}

const DEFAULT_UNTRUSTED = 'Crewbox runs are disabled in Restricted Mode. Trust this workspace to start a run.';

export function composerMode(i: ComposerInputs): ComposerMode {
  if (!i.connected) return { kind: 'connecting' };
  if (!i.trusted) return { kind: 'untrusted', reason: i.untrustedReason ?? DEFAULT_UNTRUSTED };
  const { runId, status, openQuestion } = i.progress;
  if (runId === null) return { kind: 'goal' };
  if (i.driving) return i.stopRequested ? { kind: 'stopping', runId } : { kind: 'working', runId };
  if (i.composingNew) return { kind: 'goal' };
  switch (status) {
    case 'idle':
    case 'completed':
      return { kind: 'goal' };
    case 'waiting_user':
      return openQuestion ? { kind: 'answer', runId, question: openQuestion } : { kind: 'continue', runId, reason: 'stale' };
    case 'interrupted':
    case 'failed':
    case 'halted':
      return { kind: 'continue', runId, reason: status };
    case 'running':
      return { kind: 'continue', runId, reason: 'stale' };
  }
}

/** The state word of the status line. */
export type StatusWord = RunProgress['status'] | 'stopping' | 'stale';

export function statusWord(i: ComposerInputs): StatusWord {
  const status = i.progress.status;
  if (i.driving && i.stopRequested) return 'stopping';
  if (!i.driving && status === 'running') return 'stale';
  return status;
}
