/**
 * Scripted team runs end to end, over both providers' wire formats: the real
 * runtime, gateway, adapters and SDKs against the fake provider server, with
 * a scripted sandbox double and a real on-disk store.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { scriptByRole, countSamples } from '../support/fake-provider/index.ts';
import type { FakeRequest, FakeResponse } from '../support/fake-provider/types.ts';
import { createHarness, ofType, PROVIDERS, type Harness } from '../support/team-harness.ts';
import { RunIndex } from '../../src/core/store/run-index.ts';
import { readRunLog } from '../../src/core/store/event-log.ts';
import { crewboxPaths } from '../../src/core/store/layout.ts';

const call = (name: string, args: Record<string, unknown> | string, id?: string): FakeResponse => ({
  toolCalls: [{ ...(id ? { id } : {}), name, args }],
});
const say = (text: string, name: string, args: Record<string, unknown>): FakeResponse => ({ text, toolCalls: [{ name, args }] });

const BUGGY = 'export function add(a, b) {\n  return a - b;\n}\n';
const FIXED = 'export function add(a, b) {\n  return a + b;\n}\n';

/** A workspace with a bug and a test command that passes only once it is fixed. */
function bugSandbox(): MemorySandbox {
  const sandbox = new MemorySandbox({ 'src/math.js': BUGGY, 'package.json': '{"scripts":{"test":"node test.js"}}\n' });
  sandbox.onCommand(/^npm test$/, (_cmd, { files }) =>
    files.get('src/math.js')?.includes('a + b')
      ? { exitCode: 0, stdout: 'ok 1 - add(2, 3) === 5\n1 passing\n' }
      : { exitCode: 1, stdout: 'not ok 1 - add(2, 3) === 5: got -1\n' },
  );
  return sandbox;
}

const DEV_FIX = [
  call('read_file', { path: 'src/math.js' }),
  say('The subtraction is the bug.', 'edit_file', { path: 'src/math.js', old_string: 'return a - b;', new_string: 'return a + b;' }),
  call('run_command', { command: 'npm test' }),
  call('finish', { summary: 'Fixed add() in src/math.js; npm test passes.' }),
];
const TESTER_PASS = [call('run_command', { command: 'npm test' }), call('finish', { summary: 'npm test: 1 passing.', verdict: 'pass' })];

function toolResultsIn(req: FakeRequest): string[] {
  return req.messages.filter((m) => m.role === 'tool').map((m) => (m.role === 'tool' ? m.content : ''));
}

for (const provider of PROVIDERS) {
  describe(`team runs over ${provider}`, function () {
    this.timeout(30_000);
    let h: Harness | undefined;
    afterEach(async () => {
      if (h) assert.deepEqual(h.fake.errors, [], 'the fake provider saw no malformed exchange');
      await h?.close();
      h = undefined;
    });

    it('delegates to developer and tester, and finishes with the verdict', async () => {
      const sandbox = bugSandbox();
      h = await createHarness({
        provider,
        sandbox,
        git: true,
        respond: scriptByRole({
          orchestrator: [
            call('list_files', { path: '.' }),
            call('delegate', { agent: 'developer', task: 'Fix add() in src/math.js so npm test passes.' }),
            call('delegate', { agent: 'tester', task: 'Run npm test and report.' }),
            call('finish', { summary: 'add() fixed and verified by the tester.' }),
          ],
          developer: DEV_FIX,
          tester: TESTER_PASS,
        }),
      });
      const seen: string[] = [];
      const handle = await h.runtime.start('Fix the failing test', { config: h.config(), onEvent: (e) => seen.push(e.type) });
      const outcome = await handle.done;
      assert.equal(outcome.status, 'completed', outcome.summary);
      assert.equal(outcome.verdict, 'pass');
      assert.equal(sandbox.files.get('src/math.js'), FIXED);

      const events = await h.runtime.events(handle.runId);
      const agents = ofType(events, 'agent.started');
      assert.deepEqual(agents.map((a) => [a.agentId, a.role, a.parentAgentId]), [
        ['orchestrator-1', 'orchestrator', undefined],
        ['developer-2', 'developer', 'orchestrator-1'],
        ['tester-3', 'tester', 'orchestrator-1'],
      ]);
      // The sub-agent starts from its task, not the orchestrator's history.
      const devFirst = h.fake.requests.find((r) => r.system.includes('Crewbox developer'))!;
      assert.equal(devFirst.messages.length, 1);
      assert.match(devFirst.messages[0]!.role === 'user' ? devFirst.messages[0]!.content : '', /Fix add\(\)/);
      // The delegate result carries the sub-agent's summary and verdict back.
      const delegations = ofType(events, 'tool.completed').filter((e) => e.name === 'delegate');
      assert.match(delegations[0]!.output, /Fixed add\(\) in src\/math.js/);
      assert.match(delegations[1]!.output, /Verdict: pass/);
      // Live listeners saw token deltas that are not in the log.
      assert.ok(seen.includes('model.delta') || seen.includes('model.tool_delta'));
      assert.equal(ofType(events, 'model.delta' as never).length, 0);
      // Ordering: every tool.started follows its model turn and precedes its result.
      for (const done of ofType(events, 'tool.completed')) {
        const started = events.findIndex((e) => e.type === 'tool.started' && e.callId === done.callId && e.agentId === done.agentId);
        assert.ok(started >= 0 && started < events.indexOf(done), `tool ${done.callId} started before it completed`);
      }
      const finished = ofType(events, 'run.finished')[0]!;
      assert.equal(finished.status, 'completed');
      // The index lists the run; .crewbox is excluded from git.
      const entry = await (await RunIndex.open(h.workspace)).get(handle.runId);
      assert.equal(entry?.status, 'completed');
      assert.equal(entry?.verdict, 'pass');
      assert.ok((entry?.tokens ?? 0) > 0);
      assert.match(await readFile(path.join(h.workspace, '.git', 'info', 'exclude'), 'utf8'), /^\.crewbox\/$/m);
      if (provider === 'anthropic') {
        const body = JSON.stringify(h.fake.requests.at(-1)!.body);
        assert.match(body, /"cache_control":\{"type":"ephemeral"\}/);
      }
    });

    it('keeps calls apart when the model reuses tool-call ids across agents and turns', async () => {
      const sandbox = bugSandbox();
      h = await createHarness({
        provider,
        sandbox,
        respond: scriptByRole({
          orchestrator: [
            call('delegate', { agent: 'developer', task: 'Run the tests once.' }, 'call_same'),
            call('delegate', { agent: 'tester', task: 'Run the tests again.' }, 'call_same'),
            call('finish', { summary: 'Both ran.', verdict: 'fail' }),
          ],
          developer: [call('run_command', { command: 'npm test' }, 'call_0'), call('finish', { summary: 'ran' }, 'call_0')],
          tester: [call('run_command', { command: 'npm test' }, 'call_0'), call('finish', { summary: 'ran', verdict: 'fail' }, 'call_0')],
        }),
      });
      const handle = await h.runtime.start('Ids', { config: h.config() });
      const outcome = await handle.done;
      assert.equal(outcome.summary, 'Both ran.');
      const events = await h.runtime.events(handle.runId);
      // The second delegation started its own child rather than finding the first.
      assert.deepEqual(ofType(events, 'agent.started').map((a) => a.role), ['orchestrator', 'developer', 'tester']);
      // Each command reached the sandbox under its own journal key.
      assert.equal(sandbox.execs.length, 2);
      assert.notEqual(sandbox.execs[0]!.callId, sandbox.execs[1]!.callId);
    });

    it('refuses a finish after changes until a tester passes after the last change', async () => {
      const sandbox = bugSandbox();
      h = await createHarness({
        provider,
        sandbox,
        respond: scriptByRole({
          orchestrator: [
            call('delegate', { agent: 'developer', task: 'Fix add().' }),
            call('finish', { summary: 'Done.' }),
            call('delegate', { agent: 'tester', task: 'Verify add().' }),
            call('finish', { summary: 'Done and verified.' }),
          ],
          developer: DEV_FIX,
          tester: [
            call('run_command', { command: 'npm test' }),
            call('finish', { summary: 'Looks fine.' }), // no verdict: refused
            call('finish', { summary: 'npm test passes.', verdict: 'pass' }),
          ],
        }),
      });
      const handle = await h.runtime.start('Fix add', { config: h.config() });
      const outcome = await handle.done;
      assert.equal(outcome.status, 'completed', outcome.summary);
      const events = await h.runtime.events(handle.runId);
      const finishes = ofType(events, 'tool.completed').filter((e) => e.name === 'finish');
      const refusedOrch = finishes.find((e) => e.agentId === 'orchestrator-1' && e.isError);
      assert.ok(refusedOrch, 'the premature finish got a tool error');
      assert.match(refusedOrch.output, /cannot finish yet/);
      const refusedTester = finishes.find((e) => e.agentId === 'tester-3' && e.isError);
      assert.match(refusedTester!.output, /must finish with a verdict/);
      // The model saw the refusal as a tool result.
      const third = h.fake.requests.filter((r) => r.system.includes('Crewbox orchestrator'))[2]!;
      assert.ok(toolResultsIn(third).some((t) => /cannot finish yet/.test(t)));
    });

    it('answers the model with what to fix for malformed, unknown and invalid calls, and goes on', async () => {
      const sandbox = bugSandbox();
      h = await createHarness({
        provider,
        sandbox,
        respond: scriptByRole({
          orchestrator: [
            call('read_file', '{"path": "src/math.js"'), // invalid JSON
            call('rm_rf', { path: '/' }), // unknown tool
            call('read_file', { path: 42 }), // wrong type
            call('write_file', { path: 'x', content: 'y' }), // not an orchestrator tool
            call('read_file', { path: '../../etc/passwd' }), // path escape
            call('finish', { summary: 'Nothing changed.' }),
          ],
        }),
      });
      const outcome = await (await h.runtime.start('Look around', { config: h.config() })).done;
      assert.equal(outcome.status, 'completed', outcome.summary);
      const last = h.fake.requests.at(-1)!;
      const results = toolResultsIn(last);
      assert.match(results[0]!, /not valid JSON/);
      assert.match(results[1]!, /Unknown tool "rm_rf"/);
      assert.match(results[2]!, /path/);
      assert.match(results[3]!, /not available to the orchestrator/);
      assert.match(results[4]!, /outside the workspace/);
      assert.equal(sandbox.execs.length, 0);
    });

    it('pauses durably on ask_user and continues with the answer in a new process', async () => {
      const sandbox = bugSandbox();
      h = await createHarness({
        provider,
        sandbox,
        respond: scriptByRole({
          orchestrator: [
            call('ask_user', { question: 'Should add() also accept strings?' }),
            (req) => {
              const results = toolResultsIn(req);
              return call('finish', { summary: `User said: ${results.at(-1)?.includes('numbers only') ? 'numbers only' : '?'}` });
            },
          ],
        }),
      });
      const first = await h.runtime.start('Clarify add', { config: h.config() });
      const paused = await first.done;
      assert.equal(paused.status, 'waiting_user');
      assert.equal(paused.question, 'Should add() also accept strings?');
      const summary = await (await RunIndex.open(h.workspace)).get(first.runId);
      assert.equal(summary?.status, 'waiting_user');
      // Resuming without an answer keeps waiting and samples nothing.
      const before = h.fake.requests.length;
      const still = await (await h.restart().resume(first.runId)).done;
      assert.equal(still.status, 'waiting_user');
      assert.equal(h.fake.requests.length, before);
      const answered = await (await h.restart().answer(first.runId, 'numbers only')).done;
      assert.equal(answered.status, 'completed');
      assert.match(answered.summary, /numbers only/);
    });

    it('halts the whole team at the step budget with a clear reason', async () => {
      const sandbox = bugSandbox();
      h = await createHarness({
        provider,
        sandbox,
        respond: scriptByRole({
          orchestrator: [call('delegate', { agent: 'developer', task: 'Explore.' })],
          developer: Array.from({ length: 20 }, (_, i) => call('list_files', { path: '.', depth: (i % 3) + 1 + i })),
        }),
      });
      const handle = await h.runtime.start('Explore forever', { config: h.config({ budgets: { maxStepsTotal: 6 } }) });
      const outcome = await handle.done;
      assert.equal(outcome.status, 'halted');
      assert.equal(outcome.haltReason, 'max_steps_total');
      assert.match(outcome.summary, /step limit \(6 of 6\)/);
      const events = await h.runtime.events(handle.runId);
      assert.equal(ofType(events, 'model.turn').length, 6);
      assert.ok(ofType(events, 'budget.warning').some((w) => w.reason === 'max_steps_total'));
    });

    it('warns at 3 identical calls and halts at 5', async () => {
      const sandbox = bugSandbox();
      h = await createHarness({
        provider,
        sandbox,
        respond: scriptByRole({
          orchestrator: [call('delegate', { agent: 'tester', task: 'Test.' })],
          tester: Array.from({ length: 8 }, () => call('run_command', { command: 'npm test' })),
        }),
      });
      const handle = await h.runtime.start('Loop', { config: h.config() });
      const outcome = await handle.done;
      assert.equal(outcome.status, 'halted');
      assert.equal(outcome.haltReason, 'loop');
      assert.equal(sandbox.execs.length, 5);
      const fourth = h.fake.requests.filter((r) => r.system.includes('Crewbox tester'))[3]!;
      assert.match(toolResultsIn(fourth).at(-1)!, /called run_command 3 times/);
      const events = await h.runtime.events(handle.runId);
      assert.deepEqual(ofType(events, 'loop.warning').map((w) => w.count), [3, 4, 5]);
    });

    it('retries a 429 with Retry-After and a 5xx, recording each retry', async () => {
      const sandbox = bugSandbox();
      let calls = 0;
      h = await createHarness({
        provider,
        sandbox,
        respond: (req) => {
          calls += 1;
          if (calls === 1) return { error: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' }, retryAfter: 0 };
          if (calls === 2) return { error: provider === 'anthropic' ? { status: 529, type: 'overloaded_error' } : { status: 503 } };
          return scriptByRole({ orchestrator: [call('finish', { summary: 'ok' })] })(req);
        },
      });
      const handle = await h.runtime.start('Retry', { config: h.config() });
      const outcome = await handle.done;
      assert.equal(outcome.status, 'completed', outcome.summary);
      const events = await h.runtime.events(handle.runId);
      assert.deepEqual(ofType(events, 'model.retry').map((r) => r.errorKind), ['rate_limit', provider === 'anthropic' ? 'overloaded' : 'server']);
      assert.equal(ofType(events, 'model.turn')[0]!.attempts, 3);
    });

    it('fails with a typed error, not a crash, when the key is rejected', async () => {
      h = await createHarness({
        provider,
        sandbox: bugSandbox(),
        respond: () => ({ error: { status: 401, type: 'authentication_error', code: 'invalid_api_key' } }),
      });
      const handle = await h.runtime.start('Anything', { config: h.config() });
      const outcome = await handle.done;
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.error?.kind, 'auth');
      assert.equal(h.fake.requests.length, 1, 'auth errors are not retried');
      const events = await h.runtime.events(handle.runId);
      assert.equal(ofType(events, 'error')[0]!.kind, 'auth');
      // The API key never reaches the log.
      const raw = await readFile(crewboxPaths(h.workspace).runEvents(handle.runId), 'utf8');
      assert.doesNotMatch(raw, /sk-test-openai|sk-ant-test/);
    });

    it('is interrupted during a long command, and resumes with a steering message', async () => {
      const sandbox = bugSandbox();
      sandbox.onCommand(/^npm run watch$/, (_cmd, { signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ exitCode: null, aborted: true }))));
      h = await createHarness({
        provider,
        sandbox,
        respond: scriptByRole({
          orchestrator: [call('delegate', { agent: 'developer', task: 'Fix add().' }), call('delegate', { agent: 'tester', task: 'Verify.' }), call('finish', { summary: 'Fixed.' })],
          developer: [
            call('run_command', { command: 'npm run watch' }),
            (req) => {
              const last = req.messages.at(-1)!;
              assert.equal(last.role, 'user');
              assert.match(last.role === 'user' ? last.content : '', /Do not use watch mode/);
              return DEV_FIX[0]!;
            },
            ...DEV_FIX.slice(1),
          ],
          tester: TESTER_PASS,
        }),
      });
      const handle = await h.runtime.start('Fix add', {
        config: h.config(),
        onEvent: (e) => {
          if (e.type === 'tool.started' && e.name === 'run_command') setTimeout(() => handle.interrupt('stopped by the user'), 20);
        },
      });
      const stopped = await handle.done;
      assert.equal(stopped.status, 'interrupted');
      let events = await h.runtime.events(handle.runId);
      const killed = ofType(events, 'tool.completed').find((e) => e.name === 'run_command')!;
      assert.equal(killed.isError, true);
      assert.equal(ofType(events, 'run.interrupted').length, 1);
      assert.equal((await (await RunIndex.open(h.workspace)).get(handle.runId))?.status, 'interrupted');

      const resumed = await (await h.restart().resume(handle.runId, { message: 'Do not use watch mode; just fix the bug.' })).done;
      assert.equal(resumed.status, 'completed', resumed.summary);
      assert.equal(sandbox.files.get('src/math.js'), FIXED);
      events = await h.runtime.events(handle.runId);
      assert.equal(ofType(events, 'user.message')[0]!.agentId, 'developer-2');
      // Nothing that completed was sampled twice.
      assert.equal(countSamples(h.fake.requests, 'orchestrator', 0), 1);
      assert.equal(countSamples(h.fake.requests, 'developer', 0), 1);
    });

    it('rolls back to a step as a fork and continues from there, keeping the original', async () => {
      const sandbox = bugSandbox();
      let variant = 'first';
      h = await createHarness({
        provider,
        sandbox,
        respond: scriptByRole({
          orchestrator: [
            call('list_files', { path: '.' }),
            () => call('finish', { summary: `finished (${variant})`, verdict: 'fail' }),
          ],
        }),
      });
      const handle = await h.runtime.start('Look', { config: h.config() });
      assert.equal((await handle.done).summary, 'finished (first)');
      const original = await readFile(crewboxPaths(h.workspace).runEvents(handle.runId), 'utf8');

      variant = 'second';
      const forkId = await h.runtime.fork(handle.runId, 1);
      const forked = await (await h.restart().resume(forkId)).done;
      assert.equal(forked.summary, 'finished (second)');
      assert.equal(await readFile(crewboxPaths(h.workspace).runEvents(handle.runId), 'utf8'), original, 'the original run is untouched');
      const events = await h.runtime.events(forkId);
      assert.deepEqual(ofType(events, 'run.started')[0]!.forkOf, { runId: handle.runId, step: 1 });
      assert.equal(ofType(events, 'model.turn').length, 2);
      const { problems } = await readRunLog(crewboxPaths(h.workspace).runEvents(forkId));
      assert.deepEqual(problems, []);
      const list = await (await RunIndex.open(h.workspace)).list();
      assert.equal(list.find((r) => r.id === forkId)?.forkOf?.runId, handle.runId);
    });
  });
}
