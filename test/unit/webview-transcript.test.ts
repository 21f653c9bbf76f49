import assert from 'node:assert/strict';
import type { RunEvent } from '../../src/core/events/schema.ts';
import type { Row, TextRow, ToolRow } from '../../webview/chat/model/rows.ts';
import { TOOL_OUTPUT_CAP, Transcript } from '../../webview/chat/model/transcript.ts';
import { DEVELOPER_TEXT, LiveRun, ORCHESTRATOR_TEXT, TEST_OUTPUT, teamRunBatches } from '../support/webview-transcripts.ts';

function fold(events: readonly RunEvent[], t = new Transcript()): Transcript {
  for (const e of events) t.apply(e);
  return t;
}

const visible = (rows: readonly Row[]) => rows.filter((r) => !(r.kind === 'tool' && r.hidden) && !(r.kind === 'text' && r.text === '' && !r.streaming));
const shape = (rows: readonly Row[]) => visible(rows).map((r) => `${r.depth}:${r.kind}${r.role ? `:${r.role}` : ''}`);
const tool = (t: Transcript, callId: string) => t.rows.find((r): r is ToolRow => r.kind === 'tool' && r.callId === callId);
const texts = (t: Transcript) => t.rows.filter((r): r is TextRow => r.kind === 'text');

describe('chat transcript view model', () => {
  it('groups rows by agent and nests the delegate one level deeper', () => {
    const t = fold(teamRunBatches().flat());
    assert.deepEqual(shape(t.rows), [
      '0:goal',
      '0:agent:orchestrator',
      '0:text:orchestrator',
      '0:tool:orchestrator',
      '1:agent:developer',
      '1:text:developer',
      '1:tool:developer',
    ]);
    const dev = t.rows.find((r) => r.kind === 'agent' && r.role === 'developer');
    assert.equal(dev?.kind === 'agent' && dev.parentRole, 'orchestrator');
    assert.equal(tool(t, 'call-dev')?.title, 'developer: Fix add() in src/math.js');
  });

  it('appends token deltas to one streaming row, then settles it with the turn text', () => {
    const run = new LiveRun();
    const [start, deltas] = teamRunBatches(run);
    const t = fold([...start!, ...deltas!]);
    const rows = texts(t);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.text, ORCHESTRATOR_TEXT);
    assert.equal(rows[0]!.streaming, true);
    fold(teamRunBatches(new LiveRun())[2]!, t);
    assert.equal(texts(t).length, 1);
    assert.equal(texts(t)[0]!.streaming, false);
  });

  it('ignores replays: the log then the live stream gives the same rows as the live stream alone', () => {
    const run = new LiveRun();
    const live = teamRunBatches(run).flat();
    const once = fold(live);
    const twice = fold(live, fold(run.log));
    assert.deepEqual(shape(twice.rows), shape(once.rows));
    assert.equal(texts(twice).map((r) => r.text).join('|'), `${ORCHESTRATOR_TEXT}|${DEVELOPER_TEXT}`);
    assert.equal(tool(twice, 'call-test')?.output, TEST_OUTPUT, 'stale output chunks are not appended again');
  });

  it('drops a live delta older than the last durable event', () => {
    const run = new LiveRun();
    const batches = teamRunBatches(run);
    const t = fold(batches.slice(0, 3).flat());
    const stale = batches[1]![0]!;
    assert.equal(t.apply(stale), false);
    assert.equal(texts(t)[0]!.text, ORCHESTRATOR_TEXT);
  });

  it('a model.retry voids the partial text and half-streamed tool calls of that turn', () => {
    const run = new LiveRun();
    const t = fold(run.durable((b) => b.runStarted().agentStarted('dev', 'developer')));
    fold([...run.deltas('dev', 'Partial answer that will be'), run.live({ type: 'model.tool_delta', agentId: 'dev', index: 0, name: 'write_file', argsDelta: '{"path":"a' })], t);
    fold(run.durable((b) => b.modelRetry('dev', 1, 'overloaded', 2000)), t);
    fold(run.deltas('dev', 'Second attempt.'), t);
    fold(run.durable((b) => b.modelTurn('dev', { text: 'Second attempt.' })), t);

    const [voided, settled] = texts(t);
    assert.equal(voided!.text, '');
    assert.equal(voided!.streaming, false);
    assert.equal(settled!.text, 'Second attempt.');
    const card = t.rows.find((r): r is ToolRow => r.kind === 'tool');
    assert.equal(card?.state, 'discarded');
    const notice = t.rows.find((r) => r.kind === 'notice');
    assert.match(notice?.kind === 'notice' ? notice.text : '', /overloaded.*retrying in 2\.0 s\. The partial reply was discarded/);
    assert.ok(t.rows.indexOf(notice!) < t.rows.indexOf(settled!), 'the retry notice precedes the new attempt');
  });

  it('tool cards go preparing → running → done or error, with output, exit code and duration', () => {
    const run = new LiveRun();
    const t = fold(run.durable((b) => b.runStarted().agentStarted('dev', 'developer')));
    fold([run.live({ type: 'model.tool_delta', agentId: 'dev', index: 0, callId: 'c1', name: 'run_command', argsDelta: '{"comm' })], t);
    assert.equal(tool(t, 'c1')?.state, 'preparing');
    fold([run.live({ type: 'model.tool_delta', agentId: 'dev', index: 0, argsDelta: 'and":"make"}' })], t);
    fold(run.durable((b) => b.modelTurn('dev', { toolCalls: [{ id: 'c1', name: 'run_command', args: { command: 'make' } }] }).toolStarted('dev', 'c1', 'run_command', { command: 'make' })), t);
    const card = tool(t, 'c1')!;
    assert.equal(card.state, 'running');
    assert.equal(card.title, 'make');
    fold([run.live({ type: 'tool.output', agentId: 'dev', callId: 'c1', stream: 'stdout', chunk: 'cc -o app\n' }), run.live({ type: 'tool.output', agentId: 'dev', callId: 'c1', stream: 'stderr', chunk: 'warning\n' })], t);
    assert.equal(card.output, 'cc -o app\nwarning\n');
    fold(run.durable((b) => b.toolCompleted('dev', 'c1', 'run_command', { output: 'built', durationMs: 2500, meta: { exitCode: 0 } })), t);
    assert.deepEqual([card.state, card.output, card.exitCode, card.durationMs], ['done', 'built', 0, 2500]);
    assert.equal(t.rows.filter((r) => r.kind === 'tool').length, 1, 'the preparing card became the running card');

    fold(run.durable((b) => b.tool('dev', 'c2', 'read_file', { args: { path: 'nope.txt' }, isError: true, output: 'No such file: nope.txt' })), t);
    assert.deepEqual([tool(t, 'c2')?.state, tool(t, 'c2')?.title], ['error', 'nope.txt']);
  });

  it('an interruption stops streaming rows and running tools', () => {
    const run = new LiveRun();
    const t = fold(teamRunBatches(run).slice(0, 5).flat());
    assert.equal(tool(t, 'call-test')?.state, 'running');
    fold(run.durable((b) => b.interrupted('user')), t);
    assert.equal(tool(t, 'call-test')?.state, 'interrupted');
    assert.equal(tool(t, 'call-dev')?.state, 'interrupted');
    const last = t.rows.at(-1)!;
    assert.equal(last.kind === 'notice' && last.text, 'Stopped by you.');
  });

  it('caps a huge tool output, keeping its head and tail', () => {
    const run = new LiveRun();
    const huge = `HEAD${'x'.repeat(TOOL_OUTPUT_CAP * 2)}TAIL`;
    const t = fold(run.durable((b) => b.runStarted().agentStarted('dev', 'developer').tool('dev', 'c', 'run_command', { output: huge })));
    const card = tool(t, 'c')!;
    assert.ok(card.output.length < TOOL_OUTPUT_CAP + 200);
    assert.ok(card.output.startsWith('HEAD') && card.output.endsWith('TAIL'));
    assert.equal(card.outputClipped, true);
  });

  it('ask_user shows the question, then the answer; the ask_user and finish calls have no card of their own', () => {
    const run = new LiveRun();
    const t = fold(
      run.durable((b) =>
        b
          .runStarted()
          .agentStarted('orch', 'orchestrator')
          .modelTurn('orch', { toolCalls: [{ id: 'q1', name: 'ask_user', args: { question: 'Which Node version?' } }] })
          .toolStarted('orch', 'q1', 'ask_user', { question: 'Which Node version?' })
          .event({ type: 'ask_user.asked', agentId: 'orch', callId: 'q1', question: 'Which Node version?' }),
      ),
    );
    const q = t.rows.find((r) => r.kind === 'question');
    assert.equal(q?.kind === 'question' && q.question, 'Which Node version?');
    assert.equal(q?.kind === 'question' && q.answer, undefined);
    fold(run.durable((b) => b.resumed().event({ type: 'ask_user.answered', agentId: 'orch', callId: 'q1', answer: 'Node 20' }).toolCompleted('orch', 'q1', 'ask_user', { output: 'Node 20' })), t);
    assert.equal(q?.kind === 'question' && q.answer, 'Node 20');
    fold(run.durable((b) => b.tool('orch', 'f1', 'finish', { args: { summary: 'done' } })), t);
    assert.deepEqual(shape(t.rows).filter((s) => s.includes('tool')), []);
  });

  it('error rows carry the actions of their kind; an abort has no row', () => {
    const run = new LiveRun();
    const t = fold(run.durable((b) => b.runStarted().error(undefined, 'auth', 'The Anthropic API key was rejected.').error(undefined, 'sandbox', 'Docker is not running.').error(undefined, 'aborted', 'aborted')));
    const errors = t.rows.filter((r) => r.kind === 'error');
    assert.deepEqual(
      errors.map((r) => r.kind === 'error' && [r.message, r.actions.join(',')]),
      [
        ['The Anthropic API key was rejected.', 'setApiKey,showLogs'],
        ['Docker is not running.', 'startDocker,retry,showLogs'],
      ],
    );
  });

  it('reports changed rows and growth since the last drain', () => {
    const run = new LiveRun();
    const t = fold(run.durable((b) => b.runStarted().agentStarted('dev', 'developer')));
    assert.deepEqual(t.drain(), { changed: [], grew: true });
    fold(run.deltas('dev', 'hello world', 5), t);
    const first = t.drain();
    assert.equal(first.grew, true);
    fold(run.deltas('dev', ' again', 3), t);
    assert.deepEqual(t.drain(), { changed: [2], grew: false });
    assert.deepEqual(t.drain(), { changed: [], grew: false });
  });
});
