/**
 * The fake provider server itself: non-streaming replies, request
 * normalisation for both wires, and the scripted responders. Streaming through
 * the real SDKs is covered by adapters.test.ts.
 */
import assert from 'node:assert/strict';
import { createAdapter } from '../../src/core/model/adapters/index.ts';
import { ModelError } from '../../src/core/model/errors.ts';
import type { Message, ModelAdapter, ModelRequest, StreamPart } from '../../src/core/model/types.ts';
import {
  countSamples,
  queueResponder,
  roleOf,
  scriptByRole,
  startFakeProvider,
  turnIndex,
  type FakeProvider,
  type Responder,
  type WireProvider,
} from '../support/fake-provider/index.ts';

const ORCHESTRATOR = 'You are the Crewbox orchestrator: the lead of a small team.';
const DEVELOPER = 'You are the Crewbox developer: a careful engineer.';
const TESTER = 'You are the Crewbox tester: you verify changes.';

async function post(fake: FakeProvider, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function adapterFor(provider: WireProvider, fake: FakeProvider): ModelAdapter {
  return createAdapter({ provider, apiKey: 'k', baseURL: provider === 'openai' ? `${fake.url}/v1` : fake.url });
}

function request(system: string, messages: Message[]): ModelRequest {
  return { model: 'fake-model', system, messages, tools: [], maxOutputTokens: 100 };
}

/** The assembled text and tool calls of one adapter call, or the ModelError it threw. */
async function sample(adapter: ModelAdapter, req: ModelRequest): Promise<{ text: string; calls: string[]; ids: string[] } | ModelError> {
  const parts: StreamPart[] = [];
  try {
    for await (const part of adapter.stream(req, new AbortController().signal)) parts.push(part);
  } catch (e) {
    assert.ok(e instanceof ModelError);
    return e;
  }
  const text = parts.flatMap((p) => (p.type === 'text-delta' ? [p.text] : [])).join('');
  const starts = parts.filter((p) => p.type === 'tool-call-start');
  return { text, calls: starts.map((p) => p.name), ids: starts.map((p) => p.id) };
}

async function withFake<T>(respond: Responder, body: (fake: FakeProvider) => Promise<T>): Promise<T> {
  const fake = await startFakeProvider({ respond });
  try {
    return await body(fake);
  } finally {
    await fake.close();
  }
}

describe('fake provider: non-streaming and routing', () => {
  it('answers a non-streaming chat completion with JSON', async () => {
    await withFake(
      () => ({ text: 'Plain reply', toolCalls: [{ id: 'call_x', name: 'read_file', args: { path: 'a.ts' } }], usage: { inputTokens: 10, outputTokens: 4, cacheReadTokens: 6 } }),
      async (fake) => {
        const { status, json } = await post(fake, '/v1/chat/completions', { model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] });
        assert.equal(status, 200);
        const choice = (json['choices'] as Array<Record<string, unknown>>)[0]!;
        assert.equal(choice['finish_reason'], 'tool_calls');
        assert.deepEqual(choice['message'], {
          role: 'assistant',
          content: 'Plain reply',
          refusal: null,
          tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.ts"}' } }],
        });
        assert.deepEqual(json['usage'], {
          prompt_tokens: 16,
          completion_tokens: 4,
          total_tokens: 20,
          prompt_tokens_details: { cached_tokens: 6 },
        });
        assert.equal(fake.requests[0]!.stream, false);
      },
    );
  });

  it('answers a non-streaming Anthropic message with content blocks', async () => {
    await withFake(
      () => ({ text: 'Done', toolCalls: [{ name: 'run_command', args: '{"command":"ls"}' }], stopReason: 'tool_use' }),
      async (fake) => {
        const { status, json } = await post(fake, '/v1/messages', { model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
        assert.equal(status, 200);
        assert.deepEqual(json['content'], [
          { type: 'text', text: 'Done', citations: null },
          { type: 'tool_use', id: 'toolu_0_0', name: 'run_command', input: { command: 'ls' } },
        ]);
        assert.equal(json['stop_reason'], 'tool_use');
      },
    );
  });

  it('rejects malformed tool args on the non-streaming Anthropic wire and records why', async () => {
    await withFake(
      () => ({ toolCalls: [{ name: 'run_command', args: '{"command":' }] }),
      async (fake) => {
        const { status } = await post(fake, '/v1/messages', { model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
        assert.equal(status, 400);
        assert.equal(fake.errors.length, 1);
      },
    );
  });

  it('sends error responses in each wire format with retry headers', async () => {
    await withFake(
      () => ({ error: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'slow down' }, retryAfter: 3, retryAfterMs: 2500 }),
      async (fake) => {
        const openai = await fetch(`${fake.url}/v1/chat/completions`, { method: 'POST', body: '{"model":"m","messages":[]}' });
        assert.equal(openai.status, 429);
        assert.equal(openai.headers.get('retry-after'), '3');
        assert.equal(openai.headers.get('retry-after-ms'), '2500');
        assert.deepEqual(await openai.json(), { error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } });
        const anthropic = await post(fake, '/v1/messages', { model: 'm', messages: [] });
        assert.deepEqual(anthropic.json, {
          type: 'error',
          error: { type: 'rate_limit_error', message: 'slow down', details: { error_code: 'rate_limit_exceeded' } },
        });
      },
    );
  });

  it('answers unknown routes with 404 without calling the responder', async () => {
    await withFake(
      () => {
        throw new Error('responder must not be called');
      },
      async (fake) => {
        const { status } = await post(fake, '/v1/responses', {});
        assert.equal(status, 404);
        assert.deepEqual(fake.requests, []);
        assert.deepEqual(fake.errors, []);
      },
    );
  });
});

describe('fake provider: request normalisation', () => {
  it('reads OpenAI system/developer messages, content parts and tool results', async () => {
    await withFake(
      () => ({ text: 'ok' }),
      async (fake) => {
        await post(fake, '/v1/chat/completions', {
          model: 'gpt-x',
          stream: false,
          tools: [{ type: 'function', function: { name: 'read_file', parameters: {} } }],
          messages: [
            { role: 'system', content: 'First.' },
            { role: 'developer', content: [{ type: 'text', text: 'Second.' }] },
            { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
            { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'read_file', arguments: '{"path":"x"}' } }] },
            { role: 'tool', tool_call_id: 't1', content: 'file body' },
          ],
        });
        const req = fake.requests[0]!;
        assert.equal(req.system, 'First.\n\nSecond.');
        assert.deepEqual(req.tools, ['read_file']);
        assert.deepEqual(req.messages, [
          { role: 'user', content: 'Hello' },
          { role: 'assistant', text: '', toolCalls: [{ id: 't1', name: 'read_file', argsText: '{"path":"x"}' }] },
          { role: 'tool', callId: 't1', name: 'read_file', content: 'file body', isError: false },
        ]);
      },
    );
  });

  it('reads Anthropic string content, system string and mixed user blocks', async () => {
    await withFake(
      () => ({ text: 'ok' }),
      async (fake) => {
        await post(fake, '/v1/messages', {
          model: 'claude-x',
          max_tokens: 10,
          system: 'Be brief.',
          tools: [{ name: 'run_command', input_schema: { type: 'object' } }],
          messages: [
            { role: 'user', content: 'Start' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'run_command', input: { command: 'ls' } }] },
            {
              role: 'user',
              content: [
                { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'a.ts' }], is_error: true },
                { type: 'text', text: 'Now stop.' },
              ],
            },
          ],
        });
        const req = fake.requests[0]!;
        assert.equal(req.system, 'Be brief.');
        assert.deepEqual(req.tools, ['run_command']);
        assert.deepEqual(req.messages, [
          { role: 'user', content: 'Start' },
          { role: 'assistant', text: '', toolCalls: [{ id: 't1', name: 'run_command', argsText: '{"command":"ls"}' }] },
          { role: 'tool', callId: 't1', name: 'run_command', content: 'a.ts', isError: true },
          { role: 'user', content: 'Now stop.' },
        ]);
      },
    );
  });
});

for (const provider of ['openai', 'anthropic'] as const) {
  describe(`fake provider: scripted runs over ${provider}`, () => {
    const script = scriptByRole({
      orchestrator: [
        { text: 'Delegating.', toolCalls: [{ name: 'delegate', args: { role: 'developer', task: 'Add a README' } }] },
        { text: 'All done.' },
      ],
      developer: [
        (_req, ctx) => ({ text: `Working on: ${ctx.task}`, toolCalls: [{ name: 'write_file', args: { path: 'README.md' } }] }),
        async (_req, ctx) => ({ text: ctx.task.includes('README') ? 'README written.' : 'Something else done.' }),
      ],
    });

    it('answers each role by its turn index and counts samples from the records', async () => {
      await withFake(script, async (fake) => {
        const adapter = adapterFor(provider, fake);
        const first = await sample(adapter, request(ORCHESTRATOR, [{ role: 'user', content: 'Please add a README.' }]));
        assert.ok(!(first instanceof ModelError));
        assert.deepEqual([first.text, first.calls], ['Delegating.', ['delegate']]);

        const devTask: Message = { role: 'user', content: 'Add a README' };
        const dev0 = await sample(adapter, request(DEVELOPER, [devTask]));
        assert.ok(!(dev0 instanceof ModelError));
        assert.equal(dev0.text, 'Working on: Add a README');
        const dev1 = await sample(
          adapter,
          request(DEVELOPER, [
            devTask,
            { role: 'assistant', text: dev0.text, toolCalls: [{ id: dev0.ids[0]!, name: 'write_file', argsText: '{"path":"README.md"}' }] },
            { role: 'tool', callId: dev0.ids[0]!, name: 'write_file', content: 'ok', isError: false },
          ]),
        );
        assert.ok(!(dev1 instanceof ModelError));
        assert.equal(dev1.text, 'README written.');

        const otherTask = await sample(
          adapter,
          request(DEVELOPER, [
            { role: 'user', content: 'Fix the build' },
            { role: 'assistant', text: 'x', toolCalls: [] },
          ]),
        );
        assert.ok(!(otherTask instanceof ModelError));
        assert.equal(otherTask.text, 'Something else done.');

        assert.deepEqual(fake.requests.map(roleOf), ['orchestrator', 'developer', 'developer', 'developer']);
        assert.deepEqual(fake.requests.map(turnIndex), [0, 0, 1, 1]);
        assert.equal(countSamples(fake.requests, 'developer', 1), 2);
        assert.equal(countSamples(fake.requests, 'developer'), 3);
        assert.equal(countSamples(fake.requests, 'tester'), 0);
        assert.deepEqual(fake.errors, []);
      });
    });

    it('gives a repeated request the same answer, tool-call ids included (resume-safe)', async () => {
      await withFake(script, async (fake) => {
        const adapter = adapterFor(provider, fake);
        const req = request(ORCHESTRATOR, [{ role: 'user', content: 'Please add a README.' }]);
        const a = await sample(adapter, req);
        const b = await sample(adapter, req);
        assert.deepEqual(a, b);
        assert.equal(countSamples(fake.requests, 'orchestrator', 0), 2);
      });
    });

    it('fails a request the script does not cover with a non-retryable error and records why', async () => {
      await withFake(script, async (fake) => {
        const adapter = adapterFor(provider, fake);
        const tester = await sample(adapter, request(TESTER, [{ role: 'user', content: 'Test it' }]));
        assert.ok(tester instanceof ModelError);
        assert.equal(tester.kind, 'bad_request');
        const unmarked = await sample(adapter, request('You summarise conversations.', [{ role: 'user', content: 'x' }]));
        assert.ok(unmarked instanceof ModelError);
        assert.deepEqual(
          fake.errors.map((e) => e.message),
          ['no scripted response for tester turn 0', 'no role marker in the system prompt: "You summarise conversations."'],
        );
      });
    });
  });
}

describe('fake provider: other responders', () => {
  it('routes unmarked requests to the unmatched responder', async () => {
    const respond = scriptByRole({}, { unmatched: () => ({ text: 'summary' }) });
    await withFake(respond, async (fake) => {
      const result = await sample(adapterFor('anthropic', fake), request('Summarise.', [{ role: 'user', content: 'x' }]));
      assert.ok(!(result instanceof ModelError));
      assert.equal(result.text, 'summary');
    });
  });

  it('answers from a queue in order and fails once it is exhausted', async () => {
    const queue = queueResponder([{ text: 'one' }, (req) => ({ text: `two for ${req.model}` })]);
    await withFake(queue, async (fake) => {
      const adapter = adapterFor('openai', fake);
      const texts: string[] = [];
      for (let i = 0; i < 2; i++) {
        const r = await sample(adapter, request('sys', [{ role: 'user', content: 'x' }]));
        assert.ok(!(r instanceof ModelError));
        texts.push(r.text);
      }
      assert.deepEqual(texts, ['one', 'two for fake-model']);
      assert.equal(queue.remaining, 0);
      const third = await sample(adapter, request('sys', [{ role: 'user', content: 'x' }]));
      assert.ok(third instanceof ModelError && third.kind === 'bad_request');
      assert.equal(fake.errors.length, 1);
    });
  });

  it('streams with a per-chunk delay', async () => {
    await withFake(
      () => ({ text: 'slow but complete', chunkDelayMs: 2 }),
      async (fake) => {
        const r = await sample(adapterFor('anthropic', fake), request('sys', [{ role: 'user', content: 'x' }]));
        assert.ok(!(r instanceof ModelError));
        assert.equal(r.text, 'slow but complete');
      },
    );
  });
});
