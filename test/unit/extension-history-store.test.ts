import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { RunEvent } from '../../src/core/events/schema.ts';
import { nullLogger } from '../../src/core/log/logger.ts';
import { readRunLog } from '../../src/core/store/event-log.ts';
import { crewboxPaths } from '../../src/core/store/layout.ts';
import { RunIndex } from '../../src/core/store/run-index.ts';
import type { OtlpExportTraceServiceRequest } from '../../src/core/trace/otlp.ts';
import { buildSpans } from '../../src/core/trace/spans.ts';
import { HistoryHost } from '../../src/extension/history/history-host.ts';
import { createHistoryStore } from '../../src/extension/history/history-store.ts';
import { RunController, loadHeavyModules } from '../../src/extension/run-controller.ts';
import { readSettings } from '../../src/extension/settings.ts';
import { CheckpointStore } from '../../src/sandbox/store/checkpoints.ts';
import { sha256 } from '../../src/sandbox/store/manifest.ts';
import { recordingIo } from '../support/cli-io.ts';
import { EventBuilder } from '../support/event-builder.ts';
import { tempDir } from '../support/workspace-fixture.ts';

/** A three-step run: the orchestrator delegates to a developer who runs a failing command. */
function sourceRun(runId: string): RunEvent[] {
  return new EventBuilder({ runId })
    .runStarted('Fix the bug')
    .agentStarted('orchestrator-1', 'orchestrator')
    .modelTurn('orchestrator-1', { toolCalls: [{ id: 'd1', name: 'delegate' }], usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 900 }, costUsd: 0.0125 })
    .delegate('orchestrator-1', 'd1', { agentId: 'developer-1', role: 'developer' }, (b) =>
      b
        .modelTurn('developer-1', { toolCalls: [{ id: 'c1', name: 'run_command' }] })
        .tool('developer-1', 'c1', 'run_command', { args: { command: 'npm test' }, isError: true, output: '1 failing', meta: { exitCode: 1 } })
        .modelTurn('developer-1', { text: 'Fixed it.' }),
    )
    .build();
}

function writeLog(workspace: string, events: RunEvent[]): void {
  const file = crewboxPaths(workspace).runEvents(events[0]!.runId);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
}

const fileEntry = (content: string) => ({ kind: 'file' as const, hash: sha256(content), mode: 0o644, size: content.length });

/** The source run's file checkpoints: src/a.js changes at steps 1, 2 and 3. */
async function writeCheckpoints(workspace: string, runId: string): Promise<void> {
  const store = new CheckpointStore(workspace);
  await store.createRun(runId, await store.writeSnapshot(new Map([['src/a.js', fileEntry('a0')]])));
  for (const step of [1, 2, 3]) await store.append(runId, step, [{ path: 'src/a.js', entry: fileEntry(`a${step}`) }]);
}

const withoutRunId = (events: RunEvent[]) => events.map(({ runId: _runId, ...rest }) => rest);

describe('extension: history store (real .crewbox/)', () => {
  let workspace: string;
  beforeEach(() => {
    workspace = tempDir('crewbox-history-');
  });
  afterEach(() => rmSync(workspace, { recursive: true, force: true }));

  it('exports exactly the OTLP JSON that `crewbox trace --otlp` prints, and it is a valid OTLP trace', async () => {
    const events = sourceRun('run-src');
    writeLog(workspace, events);
    const io = recordingIo();
    assert.equal(await main(['trace', 'run-src', '--otlp', '--workspace', workspace], io), 0);
    const store = createHistoryStore(workspace, {}, nullLogger);
    const exported = await store.otlpJson((await readRunLog(crewboxPaths(workspace).runEvents('run-src'))).events);
    assert.deepEqual(io.stdout, [exported]);

    const doc = JSON.parse(exported) as OtlpExportTraceServiceRequest;
    const spans = doc.resourceSpans[0]!.scopeSpans[0]!.spans;
    assert.equal(spans.length, buildSpans(events).length);
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of spans) {
      assert.match(s.traceId, /^[0-9a-f]{32}$/);
      assert.match(s.spanId, /^[0-9a-f]{16}$/);
      if (s.parentSpanId !== undefined) assert.ok(ids.has(s.parentSpanId), `${s.name}: parent is in the trace`);
      assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano), `${s.name}: ends after it starts`);
    }
    assert.equal(spans.filter((s) => s.parentSpanId === undefined).length, 1, 'one root (the run)');
    const ops = spans.map((s) => s.attributes.find((a) => a.key === 'gen_ai.operation.name')?.value).map((v) => (v && 'stringValue' in v ? v.stringValue : ''));
    assert.deepEqual([...new Set(ops)].sort(), ['chat', 'execute_tool', 'invoke_agent', 'invoke_workflow']);
  });

  it('forks like `crewbox rollback` (conversation and files through the step, original untouched) and indexes the fork', async () => {
    const events = sourceRun('run-src');
    writeLog(workspace, events);
    await writeCheckpoints(workspace, 'run-src');
    const sourceBefore = readFileSync(crewboxPaths(workspace).runEvents('run-src'), 'utf8');

    const forkId = await createHistoryStore(workspace, {}, nullLogger).fork('run-src', 2);
    const io = recordingIo();
    assert.equal(await main(['rollback', 'run-src', '--to', '2', '--workspace', workspace], io), 0);
    const cliForkId = io.stdout[0]!;
    assert.notEqual(forkId, cliForkId);

    const read = async (id: string) => (await readRunLog(crewboxPaths(workspace).runEvents(id))).events;
    const ours = await read(forkId);
    assert.deepEqual(withoutRunId(ours), withoutRunId(await read(cliForkId)));
    assert.ok(ours.every((e) => e.runId === forkId && e.step <= 2));
    assert.deepEqual(ours[0]?.type === 'run.started' && ours[0].forkOf, { runId: 'run-src', step: 2 });
    assert.equal(readFileSync(crewboxPaths(workspace).runEvents('run-src'), 'utf8'), sourceBefore);

    const checkpoints = new CheckpointStore(workspace);
    assert.deepEqual(await checkpoints.readDeltas(forkId), await checkpoints.readDeltas(cliForkId));
    assert.deepEqual((await checkpoints.stateAt(forkId)).manifest.get('src/a.js'), fileEntry('a2'));

    const indexed = await (await RunIndex.open(workspace)).get(forkId);
    assert.deepEqual(indexed && { goal: indexed.goal, forkOf: indexed.forkOf, steps: indexed.steps }, { goal: 'Fix the bug', forkOf: { runId: 'run-src', step: 2 }, steps: 2 });
  });

  it('forks a run that has no file checkpoints (conversation only)', async () => {
    writeLog(workspace, sourceRun('run-src'));
    const forkId = await createHistoryStore(workspace, {}, nullLogger).fork('run-src', 1);
    assert.equal(await new CheckpointStore(workspace).hasRun(forkId), false);
    assert.ok((await readRunLog(crewboxPaths(workspace).runEvents(forkId))).events.length > 0);
  });

  it('lists through the real controller without creating .crewbox/ in a folder without runs, then lists a run once there is one', async () => {
    const controller = new RunController({
      workspace,
      installDir: '/nowhere',
      env: {},
      settings: () => readSettings(() => undefined).settings,
      apiKey: async () => undefined,
      logger: nullLogger,
      load: loadHeavyModules,
    });
    const host = new HistoryHost({
      folder: { runs: controller, store: createHistoryStore(workspace, {}, nullLogger) },
      chat: { reveal: async () => {}, show: async () => {} },
      trust: () => ({ trusted: true }),
      chooseExportTarget: async () => undefined,
      invokeAction: async () => {},
      notify: () => false,
      isReady: () => false,
      logger: nullLogger,
    });
    assert.deepEqual(await host.listRuns(), []);
    assert.equal(existsSync(path.join(workspace, '.crewbox')), false);

    const events = sourceRun('run-src');
    writeLog(workspace, events);
    await (await RunIndex.open(workspace)).upsert({ id: 'run-src', goal: 'Fix the bug', status: 'running', createdAt: events[0]!.ts });
    // Nobody holds its run lock: a "running" run whose process is gone reads as interrupted.
    assert.deepEqual((await host.listRuns()).map((r) => `${r.id}:${r.status}`), ['run-src:interrupted']);
    host.dispose();
    await controller.dispose();
  });
});
