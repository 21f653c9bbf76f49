import assert from 'node:assert/strict';
import { ChatStore } from '../../webview/chat/model/chat-store.ts';
import { composerMode, statusWord } from '../../webview/chat/model/composer-mode.ts';
import type { ComposerInputs } from '../../webview/chat/model/composer-mode.ts';
import { budgetLeft, emptyProgress } from '../../webview/chat/model/run-progress.ts';
import type { RunProgress } from '../../webview/chat/model/run-progress.ts';
import { LiveRun, teamRunBatches } from '../support/webview-transcripts.ts';

function inputs(over: Omit<Partial<ComposerInputs>, 'progress'> & { progress?: Partial<RunProgress> } = {}): ComposerInputs {
  const { progress, ...rest } = over;
  return {
    connected: true,
    trusted: true,
    driving: false,
    stopRequested: false,
    composingNew: false,
    ...rest,
    progress: { ...emptyProgress('run-1'), status: 'running', ...progress },
  };
}

describe('chat composer mode', () => {
  it('follows the run: working while driven, stopping after Stop, continue or discard once stopped', () => {
    assert.equal(composerMode(inputs({ connected: false })).kind, 'connecting');
    assert.equal(composerMode(inputs({ progress: { runId: null, status: 'idle' } })).kind, 'goal');
    assert.deepEqual(composerMode(inputs({ driving: true })), { kind: 'working', runId: 'run-1' });
    assert.deepEqual(composerMode(inputs({ driving: true, stopRequested: true })), { kind: 'stopping', runId: 'run-1' });
    assert.deepEqual(composerMode(inputs({ progress: { status: 'interrupted' } })), { kind: 'continue', runId: 'run-1', reason: 'interrupted' });
    assert.deepEqual(composerMode(inputs({ progress: { status: 'halted' } })), { kind: 'continue', runId: 'run-1', reason: 'halted' });
    assert.equal(composerMode(inputs({ progress: { status: 'completed' } })).kind, 'goal');
    assert.equal(composerMode(inputs({ progress: { status: 'interrupted' }, composingNew: true })).kind, 'goal');
  });

  it('a run the log calls running but nobody drives (reload, crash) is offered for continuing', () => {
    const i = inputs({ driving: false, progress: { status: 'running' } });
    assert.deepEqual(composerMode(i), { kind: 'continue', runId: 'run-1', reason: 'stale' });
    assert.equal(statusWord(i), 'stale');
  });

  it('an open question asks for the answer', () => {
    const question = { callId: 'q1', question: 'Which Node version?', role: 'orchestrator' as const };
    assert.deepEqual(composerMode(inputs({ progress: { status: 'waiting_user', openQuestion: question } })), { kind: 'answer', runId: 'run-1', question });
  });

  it('an untrusted workspace disables runs with an explanation', () => {
    const m = composerMode(inputs({ trusted: false, untrustedReason: 'Restricted Mode.' }));
    assert.deepEqual(m, { kind: 'untrusted', reason: 'Restricted Mode.' });
    const d = composerMode(inputs({ trusted: false }));
    assert.match(d.kind === 'untrusted' ? d.reason : '', /Restricted Mode/);
  });
});

describe('chat store', () => {
  it('folds status, step, tokens and cost, counting a replayed turn once', () => {
    const run = new LiveRun();
    const live = teamRunBatches(run).flat();
    const store = new ChatStore();
    store.resetTranscript(run.runId, run.log);
    store.appendEvents(run.runId, live);
    const p = store.progress;
    assert.equal(p.status, 'running');
    assert.equal(p.goal, 'Fix the failing add() test');
    assert.equal(p.step, 2);
    assert.equal(p.tokens, 2 * 1100);
    assert.ok(Math.abs(p.costUsd - 0.02) < 1e-9);
    const budget = budgetLeft(p)!;
    assert.equal(budget.limitedBy, 'steps');
    assert.ok(Math.abs(budget.fraction - 0.98) < 1e-9);
  });

  it('ignores events of another run', () => {
    const store = new ChatStore();
    const mine = new LiveRun('run-a');
    const other = new LiveRun('run-b');
    store.resetTranscript('run-a', mine.durable((b) => b.runStarted('a')));
    const before = store.transcript.rows.length;
    store.appendEvents('run-b', other.durable((b) => b.runStarted('b')));
    store.appendEvents('run-a', other.durable((b) => b.agentStarted('x', 'developer')));
    assert.equal(store.transcript.rows.length, before);
  });

  it('Stop: stopping until the run reports the interruption, then continue', () => {
    const run = new LiveRun();
    const store = new ChatStore();
    store.connectedAs(true);
    store.resetTranscript(run.runId, run.durable((b) => b.runStarted().agentStarted('o', 'orchestrator')));
    store.setHostStatus(true, { state: 'ready' });
    store.requestStop();
    assert.equal(store.mode().kind, 'stopping');
    store.appendEvents(run.runId, run.durable((b) => b.interrupted('user')));
    assert.equal(store.stopRequested, false);
    store.setHostStatus(false, { state: 'ready' });
    assert.deepEqual(store.mode(), { kind: 'continue', runId: run.runId, reason: 'interrupted' });
  });

  it('a failed interrupt request puts the Stop button back', () => {
    const store = new ChatStore();
    store.connectedAs(true);
    store.resetTranscript('r', new LiveRun('r').durable((b) => b.runStarted()));
    store.setHostStatus(true, { state: 'ready' });
    store.requestStop();
    store.cancelStop();
    assert.equal(store.mode().kind, 'working');
  });

  it('marks only the parts that changed', () => {
    const store = new ChatStore();
    store.takeDirty();
    store.setResumable([]);
    assert.deepEqual([...store.takeDirty()], ['resumable']);
    store.showError({ message: 'Docker is not running.', actions: ['startDocker'] });
    assert.deepEqual([...store.takeDirty()], ['banner']);
    assert.deepEqual(store.banner, { message: 'Docker is not running.', actions: ['startDocker'] });
  });
});
