import assert from 'node:assert/strict';
import type { RunEvent } from '../../src/core/events/schema.ts';
import { nullLogger } from '../../src/core/log/logger.ts';
import { summarizeRun, type RunSummary } from '../../src/core/store/run-summary.ts';
import { Emitter } from '../../src/extension/emitter.ts';
import { HistoryHost, type HistoryRuns, type SaveTarget } from '../../src/extension/history/history-host.ts';
import type { HistoryStore } from '../../src/extension/history/history-store.ts';
import { HostChannel, RequestFailed } from '../../src/protocol/host-channel.ts';
import type { NotificationIn, NotificationMethod } from '../../src/protocol/messages.ts';
import type { ErrorAction } from '../../src/protocol/schemas.ts';
import { WebviewChannel } from '../../src/protocol/webview-channel.ts';
import { EventBuilder } from '../support/event-builder.ts';
import { settle } from '../support/fake-clock.ts';
import { ManualTimer } from '../support/manual-timer.ts';


/** The RunController as the history sees it, recording what it is asked. */
class FakeRuns implements HistoryRuns {
  activeRunId: string | undefined;
  readonly resumed: string[] = [];
  readonly reads: string[] = [];
  resumeError: unknown;
  readonly runEvent = new Emitter<RunEvent>();
  readonly startDrive = new Emitter<string>();
  readonly status = new Emitter<void>();
  readonly onDidRunEvent = this.runEvent.event;
  readonly onDidStartDrive = this.startDrive.event;
  readonly onDidChangeStatus = this.status.event;

  constructor(
    readonly logs: Record<string, RunEvent[]>,
    public indexed: RunSummary[] = [],
  ) {}

  isDriving(runId: string): boolean {
    return this.activeRunId === runId;
  }
  async listRuns(): Promise<RunSummary[]> {
    return this.indexed;
  }
  async events(runId: string): Promise<RunEvent[]> {
    this.reads.push(runId);
    const log = this.logs[runId];
    if (!log) throw new RequestFailed('not_found', `Run ${runId} does not exist.`);
    return log;
  }
  async resume(runId: string): Promise<string> {
    this.resumed.push(runId);
    if (this.resumeError) throw this.resumeError;
    this.activeRunId = runId;
    this.startDrive.fire(runId);
    return runId;
  }
  /** The drive stopped (as the controller reports it). */
  stop(): void {
    this.activeRunId = undefined;
    this.status.fire();
  }
}

class FakeStore implements HistoryStore {
  readonly locked = new Set<string>();
  readonly forks: Array<{ runId: string; step: number }> = [];
  constructor(private readonly runs: FakeRuns) {}
  async isRunLocked(runId: string): Promise<boolean> {
    return this.locked.has(runId);
  }
  async summarize(events: readonly RunEvent[]): Promise<RunSummary> {
    return summarizeRun(events);
  }
  async otlpJson(events: readonly RunEvent[]): Promise<string> {
    return JSON.stringify({ otlpOf: events[0]?.runId, events: events.length });
  }
  async fork(runId: string, step: number): Promise<string> {
    this.forks.push({ runId, step });
    const forkId = `${runId}-fork`;
    this.runs.logs[forkId] = new EventBuilder({ runId: forkId }).runStarted('forked', { forkOf: { runId, step } }).build();
    return forkId;
  }
}

function log(runId: string, opts: { goal?: string; startMs?: number; finished?: boolean } = {}): RunEvent[] {
  const b = new EventBuilder({ runId, ...(opts.startMs !== undefined && { startMs: opts.startMs }) })
    .runStarted(opts.goal ?? `goal of ${runId}`)
    .agentStarted('orchestrator-1', 'orchestrator')
    .modelTurn('orchestrator-1', { usage: { inputTokens: 10, outputTokens: 5 }, costUsd: 0.5 });
  if (opts.finished) b.runFinished('completed', 'done', { verdict: 'pass' });
  return b.build();
}

/**
 * The host behind a real HostChannel, talking to a real WebviewChannel
 * through a JSON round trip: replies and notifications are validated as the
 * history page validates them.
 */
function harness(opts: { logs?: Record<string, RunEvent[]>; indexed?: RunSummary[]; trusted?: boolean; noFolder?: boolean; exportTarget?: 'cancel' | 'save'; driving?: string } = {}) {
  const runs = new FakeRuns(opts.logs ?? {}, opts.indexed ?? []);
  runs.activeRunId = opts.driving;
  const store = new FakeStore(runs);
  const timer = new ManualTimer();
  const seen = {
    notes: [] as Array<{ method: string; params: unknown }>,
    chat: [] as string[],
    actions: [] as string[],
    askedFileNames: [] as string[],
    written: [] as Array<{ location: string; content: string }>,
  };
  let channel!: HostChannel;
  const host = new HistoryHost({
    folder: opts.noFolder ? undefined : { runs, store },
    chat: {
      reveal: async () => void seen.chat.push('reveal'),
      show: async (runId) => void seen.chat.push(`show ${runId}`),
    },
    trust: () => (opts.trusted === false ? { trusted: false, reason: 'Restricted Mode.' } : { trusted: true }),
    chooseExportTarget: async (fileName): Promise<SaveTarget | undefined> => {
      seen.askedFileNames.push(fileName);
      if (opts.exportTarget === 'cancel') return undefined;
      const location = `/exports/${fileName}`;
      return { location, write: async (content) => void seen.written.push({ location, content }) };
    },
    invokeAction: async (action: ErrorAction, runId?: string) => void seen.actions.push(`${action} ${runId ?? '-'}`),
    notify: <M extends NotificationMethod>(method: M, params: NotificationIn<M>) => channel.notify(method, params),
    isReady: () => channel.isReady,
    logger: nullLogger,
    timer,
    throttleMs: 1000,
  });
  let webview!: WebviewChannel;
  channel = new HostChannel(
    {
      post: async (m) => {
        await Promise.resolve();
        webview.receive(JSON.parse(JSON.stringify(m)));
      },
    },
    host.handlers(),
    {
      view: 'history',
      trust: () => ({ trusted: true }),
      onReady: () => host.onReady(),
      onRejected: (r) => assert.fail(`host rejected ${r.message}`),
      onHandlerError: (method, e) => assert.fail(`${method} failed unexpectedly: ${String(e)}`),
    },
  );
  const record = (method: string) => (params: unknown) => void seen.notes.push({ method, params });
  webview = new WebviewChannel(
    { post: (m) => void Promise.resolve().then(() => channel.receive(JSON.parse(JSON.stringify(m)))) },
    'history',
    { 'history/update': record('history/update'), 'trace/show': record('trace/show'), 'workspace/trust': record('workspace/trust') },
    (r) => assert.fail(`webview rejected ${r.message}`),
  );
  const ready = async () => {
    const reply = await webview.ready();
    assert.equal(reply.ok, true);
    await settle();
  };
  return { host, runs, store, timer, seen, webview, channel, ready };
}

const updates = (notes: Array<{ method: string; params: unknown }>) =>
  notes.filter((n) => n.method === 'history/update').map((n) => (n.params as { runs: RunSummary[] }).runs.map((r) => `${r.id}:${r.status}`));

describe('extension: history host', () => {
  describe('history/list', () => {
    it('lists the index newest first, the driven run live from its log, and stale "running" runs as interrupted', async () => {
      const old = log('run-old', { startMs: Date.parse('2025-01-01T00:00:00Z'), finished: true });
      const stale = log('run-stale', { startMs: Date.parse('2025-01-02T00:00:00Z') });
      const live = log('run-live', { startMs: Date.parse('2025-01-03T00:00:00Z') });
      // The index knows the live run only from an earlier drive (it is written when a drive stops).
      const indexedLive = { ...summarizeRun(live.slice(0, 1)), status: 'interrupted' as const };
      const h = harness({ logs: { 'run-live': live }, indexed: [summarizeRun(old), summarizeRun(stale), indexedLive] });
      h.runs.activeRunId = 'run-live';
      await h.ready();
      const reply = await h.webview.request('history/list', {});
      assert.ok(reply.ok);
      assert.deepEqual(
        reply.value.runs.map((r) => `${r.id}:${r.status}:${r.steps}`),
        ['run-live:running:1', 'run-stale:interrupted:1', 'run-old:completed:1'],
      );
      assert.equal(reply.value.runs[0]!.costUsd, 0.5);
    });

    it('keeps a "running" run that another process holds locked as running', async () => {
      const other = log('run-other');
      const h = harness({ indexed: [summarizeRun(other)] });
      h.store.locked.add('run-other');
      await h.ready();
      const reply = await h.webview.request('history/list', {});
      assert.ok(reply.ok);
      assert.deepEqual(reply.value.runs.map((r) => r.status), ['running']);
    });

    it('answers an empty list when no folder is open', async () => {
      const h = harness({ noFolder: true });
      await h.ready();
      assert.deepEqual(await h.webview.request('history/list', {}), { ok: true, value: { runs: [] } });
    });
  });

  describe('history/update', () => {
    it('turns a burst of run events into one throttled update per run, summarised from its log', async () => {
      const events = log('run-a');
      const h = harness({ logs: { 'run-a': events, 'run-b': log('run-b') } });
      await h.ready();
      h.runs.activeRunId = 'run-a';
      for (const e of events) h.runs.runEvent.fire(e);
      h.runs.startDrive.fire('run-b');
      assert.equal(h.timer.live.length, 1, 'one timer for the burst');
      assert.equal(h.timer.live[0]!.ms, 1000);
      await settle();
      assert.deepEqual(updates(h.seen.notes), [], 'nothing before the interval');
      h.timer.fire();
      await settle();
      await settle();
      assert.deepEqual(updates(h.seen.notes), [['run-a:running', 'run-b:interrupted']]);
      assert.deepEqual(h.runs.reads, ['run-a', 'run-b'], 'each run read once');
    });

    it('reports the run whose drive stopped, and ignores status changes that start or stop nothing', async () => {
      const events = log('run-a', { finished: true });
      const h = harness({ logs: { 'run-a': events }, driving: 'run-a' });
      await h.ready();
      h.runs.status.fire(); // sandbox progress: same drive
      assert.equal(h.timer.live.length, 0);
      h.runs.stop();
      h.timer.fire();
      await settle();
      await settle();
      assert.deepEqual(updates(h.seen.notes), [['run-a:completed']]);
    });

    it('re-sends the listing, throttled, when the run index changes on disk (runs of other windows or the CLI)', async () => {
      const other = log('run-cli', { finished: true });
      const h = harness({ indexed: [] });
      h.host.indexChanged();
      assert.equal(h.timer.live.length, 0, 'not ready: nothing scheduled');
      await h.ready();
      h.runs.indexed = [summarizeRun(other)];
      h.host.indexChanged();
      h.host.indexChanged();
      assert.equal(h.timer.live.length, 1);
      h.timer.fire();
      await settle();
      await settle();
      assert.deepEqual(updates(h.seen.notes), [['run-cli:completed']]);
    });

    it('sends only runs that differ from what the view has (a repeat would make it refetch a shown trace)', async () => {
      const a = log('run-a', { finished: true });
      const b = log('run-b', { finished: true });
      const h = harness({ logs: { 'run-a': a }, indexed: [summarizeRun(a), summarizeRun(b)] });
      await h.ready();
      assert.ok((await h.webview.request('history/list', {})).ok);
      h.host.indexChanged();
      h.timer.fire();
      await settle();
      h.runs.runEvent.fire(a.at(-1)!);
      h.timer.fire();
      await settle();
      await settle();
      assert.deepEqual(updates(h.seen.notes), [], 'nothing changed since history/list');
      const b2 = new EventBuilder({ runId: 'run-b' }).runStarted('goal of run-b').resumed().build();
      h.runs.indexed = [summarizeRun(a), { ...summarizeRun(b2), status: 'interrupted' }];
      h.host.indexChanged();
      h.timer.fire();
      await settle();
      await settle();
      assert.deepEqual(updates(h.seen.notes), [['run-b:interrupted']]);
    });

    it('does not read logs for a view that is not ready, and does not overlap flushes', async () => {
      const events = log('run-a');
      const h = harness({ logs: { 'run-a': events } });
      h.runs.runEvent.fire(events[0]!);
      assert.equal(h.timer.live.length, 0, 'not ready: nothing scheduled');
      await h.ready();
      h.runs.runEvent.fire(events[0]!);
      h.timer.fire();
      // While the flush reads, a new event waits for the next interval.
      h.runs.runEvent.fire(events[1]!);
      assert.equal(h.timer.live.length, 0, 'no timer while a flush runs');
      await settle();
      await settle();
      assert.equal(h.timer.live.length, 1, 'the next flush is scheduled once the first settled');
      h.channel.reset();
      h.timer.fire();
      await settle();
      assert.deepEqual(h.runs.reads, ['run-a'], 'a view that went away is not updated');
      assert.equal(updates(h.seen.notes).length, 1);
    });
  });

  describe('trace', () => {
    it('trace/get answers the durable log; an unknown run is not_found', async () => {
      const events = log('run-a');
      const h = harness({ logs: { 'run-a': events } });
      await h.ready();
      const reply = await h.webview.request('trace/get', { runId: 'run-a' });
      assert.ok(reply.ok);
      assert.equal(reply.value.runId, 'run-a');
      assert.deepEqual(reply.value.events, events);
      const missing = await h.webview.request('trace/get', { runId: 'run-x' });
      assert.ok(!missing.ok);
      assert.equal(missing.error.code, 'not_found');
    });

    it('trace/export suggests <runId>.otlp.json and writes the OTLP JSON there; cancelling saves nothing', async () => {
      const events = log('run-a');
      const h = harness({ logs: { 'run-a': events } });
      await h.ready();
      assert.deepEqual(await h.webview.request('trace/export', { runId: 'run-a' }), { ok: true, value: { saved: true, location: '/exports/run-a.otlp.json' } });
      assert.deepEqual(h.seen.askedFileNames, ['run-a.otlp.json']);
      assert.deepEqual(h.seen.written, [{ location: '/exports/run-a.otlp.json', content: `${JSON.stringify({ otlpOf: 'run-a', events: events.length })}\n` }]);

      const cancelled = harness({ logs: { 'run-a': events }, exportTarget: 'cancel' });
      await cancelled.ready();
      assert.deepEqual(await cancelled.webview.request('trace/export', { runId: 'run-a' }), { ok: true, value: { saved: false } });
      assert.deepEqual(cancelled.seen.written, []);
    });

    it('trace/export of an unknown run fails before asking where to save', async () => {
      const h = harness();
      await h.ready();
      const reply = await h.webview.request('trace/export', { runId: 'run-x' });
      assert.ok(!reply.ok);
      assert.equal(reply.error.code, 'not_found');
      assert.deepEqual(h.seen.askedFileNames, []);
    });

    it('Open Trace before the view is ready sends trace/show right after its handshake, once', async () => {
      const h = harness();
      h.host.showTrace('run-a');
      await h.ready();
      assert.deepEqual(h.seen.notes, [{ method: 'trace/show', params: { runId: 'run-a' } }]);
      h.host.showTrace('run-b');
      await settle();
      h.channel.reset();
      await h.ready();
      assert.deepEqual(h.seen.notes.map((n) => (n.params as { runId: string }).runId), ['run-a', 'run-b']);
    });
  });

  describe('run/fork', () => {
    it('forks the run at the step, shows the fork in the chat and drives it as resume does', async () => {
      const h = harness({ logs: { 'run-a': log('run-a') } });
      await h.ready();
      assert.deepEqual(await h.webview.request('run/fork', { runId: 'run-a', step: 1 }), { ok: true, value: { runId: 'run-a-fork' } });
      assert.deepEqual(h.store.forks, [{ runId: 'run-a', step: 1 }]);
      assert.deepEqual(h.seen.chat, ['reveal', 'show run-a-fork']);
      assert.deepEqual(h.runs.resumed, ['run-a-fork']);
      h.timer.fire();
      await settle();
      await settle();
      assert.deepEqual(updates(h.seen.notes), [['run-a-fork:running']], 'the fork shows up in the list');
    });

    it('is refused while the source run is driven, here or by another process, and while another run is driven', async () => {
      const h = harness({ logs: { 'run-a': log('run-a'), 'run-b': log('run-b') } });
      await h.ready();
      h.runs.activeRunId = 'run-a';
      const driven = await h.webview.request('run/fork', { runId: 'run-a', step: 1 });
      assert.ok(!driven.ok);
      assert.equal(driven.error.code, 'conflict');
      const other = await h.webview.request('run/fork', { runId: 'run-b', step: 1 });
      assert.ok(!other.ok);
      assert.equal(other.error.code, 'conflict');
      h.runs.activeRunId = undefined;
      h.store.locked.add('run-b');
      const elsewhere = await h.webview.request('run/fork', { runId: 'run-b', step: 1 });
      assert.ok(!elsewhere.ok);
      assert.equal(elsewhere.error.code, 'conflict');
      assert.deepEqual(h.store.forks, []);
      assert.deepEqual(h.runs.resumed, []);
    });

    it('is refused from a step at which the run had completed (the fork could not be resumed), allowed before it', async () => {
      const events = new EventBuilder({ runId: 'run-a' })
        .runStarted('goal')
        .agentStarted('orchestrator-1', 'orchestrator')
        .modelTurn('orchestrator-1')
        .modelTurn('orchestrator-1')
        .runFinished('completed', 'done', { verdict: 'pass' })
        .build();
      const h = harness({ logs: { 'run-a': events } });
      await h.ready();
      const reply = await h.webview.request('run/fork', { runId: 'run-a', step: 2 });
      assert.ok(!reply.ok);
      assert.equal(reply.error.code, 'conflict');
      assert.match(reply.error.message, /had completed by step 2/);
      assert.deepEqual(h.store.forks, []);
      assert.deepEqual(await h.webview.request('run/fork', { runId: 'run-a', step: 1 }), { ok: true, value: { runId: 'run-a-fork' } });
    });

    it('is refused in Restricted Mode with Manage Workspace Trust', async () => {
      const h = harness({ logs: { 'run-a': log('run-a') }, trusted: false });
      await h.ready();
      const reply = await h.webview.request('run/fork', { runId: 'run-a', step: 1 });
      assert.deepEqual(reply, { ok: false, error: { code: 'untrusted', message: 'Restricted Mode.', actions: ['manageTrust'] } });
      assert.deepEqual(h.store.forks, []);
    });

    it('says the fork exists when it cannot start, with the failure\'s actions (Retry would act on the source run)', async () => {
      const h = harness({ logs: { 'run-a': log('run-a') } });
      h.runs.resumeError = new RequestFailed('failed', 'No OpenAI API key: use Set API Key.', ['setApiKey', 'retry']);
      await h.ready();
      const reply = await h.webview.request('run/fork', { runId: 'run-a', step: 1 });
      assert.ok(!reply.ok);
      assert.equal(reply.error.code, 'failed');
      assert.equal(reply.error.message, 'Run run-a-fork was created from step 1 of run-a but could not start: No OpenAI API key: use Set API Key.');
      assert.deepEqual(reply.error.actions, ['setApiKey']);
      assert.deepEqual(h.seen.chat, ['reveal', 'show run-a-fork'], 'the chat shows the fork, ready to continue');
    });

    it('maps the store\'s typed errors (a step out of range) to one sentence', async () => {
      const h = harness({ logs: { 'run-a': log('run-a') } });
      h.store.fork = async () => {
        throw Object.assign(new Error('Run run-a has steps 0 to 1; cannot roll back to step 9.'), { name: 'RunError', code: 'invalid_step' });
      };
      await h.ready();
      const reply = await h.webview.request('run/fork', { runId: 'run-a', step: 9 });
      assert.deepEqual(reply, { ok: false, error: { code: 'conflict', message: 'Run run-a has steps 0 to 1; cannot roll back to step 9.' } });
      assert.deepEqual(h.runs.resumed, []);
    });
  });

  it('passes error buttons to the commands and tells the view when the workspace becomes trusted', async () => {
    const h = harness();
    await h.ready();
    assert.deepEqual(await h.webview.request('action/invoke', { action: 'showLogs', runId: 'run-a' }), { ok: true, value: null });
    assert.deepEqual(h.seen.actions, ['showLogs run-a']);
    h.host.trustChanged();
    await settle();
    assert.deepEqual(h.seen.notes, [{ method: 'workspace/trust', params: { trusted: true } }]);
  });

  it('stops listening to the controller when disposed', async () => {
    const events = log('run-a');
    const h = harness({ logs: { 'run-a': events } });
    await h.ready();
    h.host.dispose();
    h.runs.runEvent.fire(events[0]!);
    assert.equal(h.timer.live.length, 0);
  });
});
