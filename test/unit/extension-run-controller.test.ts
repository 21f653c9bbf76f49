import assert from 'node:assert/strict';
import type { RunConfig, RunEvent } from '../../src/core/events/schema.ts';
import { nullLogger } from '../../src/core/log/logger.ts';
import type { CrewRuntime, RunHandle } from '../../src/core/runtime/runtime.ts';
import type { RunOutcome } from '../../src/core/runtime/run-driver.ts';
import type { RunSummary } from '../../src/core/store/run-summary.ts';
import { RequestFailed } from '../../src/protocol/host-channel.ts';
import { RunController, type DriveSession, type HeavyModules } from '../../src/extension/run-controller.ts';
import { readSettings } from '../../src/extension/settings.ts';
import { EventBuilder } from '../support/event-builder.ts';

/** A handle the test ends by hand. */
class FakeHandle implements RunHandle {
  interrupts: Array<string | undefined> = [];
  finish!: (o: RunOutcome) => void;
  readonly done = new Promise<RunOutcome>((resolve) => (this.finish = resolve));
  constructor(readonly runId: string) {}
  subscribe(): () => void {
    return () => {};
  }
  interrupt(reason?: string): void {
    this.interrupts.push(reason);
  }
}

/** Recording fakes of the sandbox session and the runtime. */
function harness(opts: { keys?: Record<string, string>; logs?: Record<string, RunEvent[]>; runs?: RunSummary[]; dockerDown?: boolean; closeGate?: Promise<void>; openGate?: Promise<void> } = {}) {
  const calls: string[] = [];
  const sessions: Array<DriveSession & { closed: boolean; network: boolean }> = [];
  const handles: FakeHandle[] = [];
  const runtime = {
    async start(goal: string, o: { config: RunConfig; onEvent?: (e: RunEvent) => void }) {
      calls.push(`start ${goal} network=${o.config.network}`);
      const events = new EventBuilder({ runId: 'run-new' }).runStarted(goal, { config: o.config }).build();
      for (const e of events) o.onEvent?.(e);
      const h = new FakeHandle('run-new');
      handles.push(h);
      return h;
    },
    async resume(runId: string, o: { message?: string }) {
      calls.push(`resume ${runId} ${o.message ?? '-'}`);
      const h = new FakeHandle(runId);
      handles.push(h);
      return h;
    },
    async answer(runId: string, answer: string) {
      calls.push(`answer ${runId} ${answer}`);
      const h = new FakeHandle(runId);
      handles.push(h);
      return h;
    },
  };
  const heavy: HeavyModules = {
    async openSession(o) {
      if (opts.dockerDown) throw Object.assign(new Error('Docker is not running.'), { name: 'DockerError', code: 'daemon_down' });
      await opts.openGate;
      o.onProgress({ phase: 'image', message: 'building' });
      const s = { sandbox: {}, runFiles: {}, closed: false, network: o.network, close: async () => { await opts.closeGate; s.closed = true; } };
      calls.push('open session');
      sessions.push(s);
      return s;
    },
    createRuntime: (o) => {
      calls.push(`runtime keys=${Object.keys(o.apiKeys).join(',')}`);
      return runtime as unknown as CrewRuntime;
    },
    listRuns: async () => opts.runs ?? [],
    isRunLocked: async () => false,
    async readEvents(_w, runId) {
      const log = opts.logs?.[runId];
      if (!log) throw Object.assign(new Error(`no run ${runId}`), { name: 'StoreError', code: 'not_found' });
      return log;
    },
  };
  const keys = opts.keys ?? { openai: 'sk-test' };
  const controller = new RunController({
    workspace: '/ws',
    installDir: '/ext',
    env: {},
    settings: () => readSettings(() => undefined).settings,
    apiKey: async (p) => keys[p],
    logger: nullLogger,
    load: async () => heavy,
  });
  const seen = { events: [] as RunEvent[], started: [] as string[], statusChanges: 0, sandboxStates: [] as string[] };
  controller.onDidRunEvent((e) => seen.events.push(e));
  controller.onDidStartDrive((id) => seen.started.push(id));
  controller.onDidChangeStatus(() => {
    seen.statusChanges++;
    seen.sandboxStates.push(controller.sandbox.state);
  });
  return { controller, calls, sessions, handles, seen };
}

async function expectFailure(p: Promise<unknown>, code: string, actions?: string[]) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RequestFailed, `expected RequestFailed, got ${String(e)}`);
    assert.equal(e.code, code);
    if (actions) assert.deepEqual(e.actions, actions);
    return true;
  });
}

describe('extension: run controller', () => {
  it('stops a drive that was still opening when the window closed, and starts none afterwards', async () => {
    let open!: () => void;
    const h = harness({ openGate: new Promise<void>((r) => (open = r)) });
    const starting = h.controller.start('slow sandbox');
    await new Promise((r) => setImmediate(r));
    const disposed = h.controller.dispose();
    open();
    assert.equal(await starting, 'run-new');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.handles[0]!.interrupts, ['the window closed'], 'the run that became active is stopped');
    h.handles[0]!.finish({ runId: 'run-new', status: 'interrupted', summary: 'stopped' });
    await disposed;
    await expectFailure(h.controller.start('after close'), 'failed');
    assert.equal(h.sessions.length, 1);
  });

  it('says the run stopped before the sandbox session has closed, and the next drive waits for that close', async () => {
    let release!: () => void;
    const h = harness({ closeGate: new Promise<void>((r) => (release = r)) });
    await h.controller.start('first');
    h.handles[0]!.finish({ runId: 'run-new', status: 'completed', summary: 'done' });
    await new Promise((r) => setImmediate(r));
    assert.equal(h.controller.isDriving('run-new'), false, 'the views learn at once that the run stopped');
    assert.equal(h.sessions[0]!.closed, false);
    const second = h.controller.start('second');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.sessions.length, 1, 'no second session while the first still closes');
    release();
    await second;
    assert.equal(h.sessions[0]!.closed, true);
    assert.equal(h.sessions.length, 2);
  });

  it('starts a run in a fresh sandbox session, forwards its events, and closes the session when it stops', async () => {
    const h = harness();
    const runId = await h.controller.start('fix the bug');
    assert.equal(runId, 'run-new');
    assert.deepEqual(h.calls, ['open session', 'runtime keys=openai', 'start fix the bug network=false']);
    assert.equal(h.sessions.length, 1);
    assert.deepEqual(h.seen.sandboxStates.slice(0, 3), ['starting', 'building', 'ready']);
    assert.deepEqual(h.seen.started, ['run-new']);
    assert.equal(h.seen.events[0]?.type, 'run.started');
    assert.ok(h.controller.isDriving('run-new'));

    await expectFailure(h.controller.start('another'), 'conflict');

    h.controller.interrupt('run-new');
    assert.deepEqual(h.handles[0]!.interrupts, [undefined]);
    h.handles[0]!.finish({ runId: 'run-new', status: 'interrupted', summary: 'stopped' });
    await h.handles[0]!.done;
    await new Promise((r) => setImmediate(r));
    assert.equal(h.sessions[0]!.closed, true);
    assert.equal(h.controller.activeRunId, undefined);
  });

  it('asks for an API key before opening any sandbox', async () => {
    const h = harness({ keys: {} });
    await expectFailure(h.controller.start('x'), 'failed', ['setApiKey']);
    assert.equal(h.sessions.length, 0);
    assert.equal(h.controller.activeRunId, undefined);
  });

  it('reports Docker being down with Start Docker, and can start again afterwards', async () => {
    const h = harness({ dockerDown: true });
    await expectFailure(h.controller.start('x'), 'failed', ['startDocker', 'showLogs']);
    assert.equal(h.controller.sandbox.state, 'unavailable');
    await expectFailure(h.controller.start('x'), 'failed');
  });

  it('resumes with the run\'s own network setting and keys for every provider it uses', async () => {
    const events = new EventBuilder({ runId: 'run-old' }).runStarted('old goal').interrupted().build();
    const h = harness({ keys: { openai: 'sk-o', anthropic: 'sk-a' }, logs: { 'run-old': events } });
    await h.controller.resume('run-old', 'try the other file');
    assert.deepEqual(h.calls, ['open session', 'runtime keys=anthropic,openai', 'resume run-old try the other file']);
    assert.equal(h.sessions[0]!.network, false);
  });

  it('answers only the open question', async () => {
    const b = new EventBuilder({ runId: 'run-q' }).runStarted('goal');
    const events = b.event({ type: 'ask_user.asked', agentId: 'orchestrator-1', callId: 'call-1', question: 'Which file?' }).build();
    const h = harness({ logs: { 'run-q': events }, keys: { openai: 'k', anthropic: 'k' } });
    await expectFailure(h.controller.answer('run-q', 'call-other', 'a.ts'), 'not_found');
    await h.controller.answer('run-q', 'call-1', 'a.ts');
    assert.deepEqual(h.calls.at(-1), 'answer run-q a.ts');
  });

  it('refuses to interrupt a run it does not drive, and maps a missing run to not_found', async () => {
    const h = harness();
    assert.throws(() => h.controller.interrupt('run-x'), (e: unknown) => e instanceof RequestFailed && e.code === 'not_found');
    await expectFailure(h.controller.resume('run-missing'), 'not_found');
  });
});
