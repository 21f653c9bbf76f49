/**
 * The two adapters driven through the real `openai` and `@anthropic-ai/sdk`
 * clients against the fake provider server: streaming, usage, error
 * classification, abort, truncation, and what goes out on the wire.
 */
import assert from 'node:assert/strict';
import { classifyApiError, parseRetryAfter } from '../../src/core/model/adapters/classify.ts';
import { createAdapter } from '../../src/core/model/adapters/index.ts';
import { ModelError, type ModelErrorKind } from '../../src/core/model/errors.ts';
import type { Message, ModelAdapter, ModelRequest, StreamPart, ToolCallRecord } from '../../src/core/model/types.ts';
import { startFakeProvider, type FakeProvider, type FakeRequest, type FakeResponse, type WireProvider } from '../support/fake-provider/index.ts';

const TOOLS = [
  { name: 'read_file', description: 'Read a file.', inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
  { name: 'run_command', description: 'Run a command.', inputSchema: { type: 'object', properties: { command: { type: 'string' } } } },
];

function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: 'fake-model',
    system: 'You are a test agent.',
    messages: [{ role: 'user', content: 'Say hello.' }],
    tools: TOOLS,
    maxOutputTokens: 256,
    ...overrides,
  };
}

/** A conversation with two parallel tool calls answered by two tool results (one failed). */
const HISTORY: Message[] = [
  { role: 'user', content: 'Fix the bug.' },
  {
    role: 'assistant',
    text: 'Looking.',
    toolCalls: [
      { id: 'c1', name: 'read_file', argsText: '{"path":"a.ts"}' },
      { id: 'c2', name: 'run_command', argsText: '{"command":"npm test"}' },
    ],
  },
  { role: 'tool', callId: 'c1', name: 'read_file', content: 'export const a = 1;', isError: false },
  { role: 'tool', callId: 'c2', name: 'run_command', content: 'exit code 1', isError: true },
];

interface Outcome {
  parts: StreamPart[];
  error: ModelError | undefined;
}

async function run(adapter: ModelAdapter, req: ModelRequest, signal = new AbortController().signal): Promise<Outcome> {
  const parts: StreamPart[] = [];
  try {
    for await (const part of adapter.stream(req, signal)) parts.push(part);
  } catch (e) {
    assert.ok(e instanceof ModelError, `expected a ModelError, got ${String(e)}`);
    return { parts, error: e };
  }
  return { parts, error: undefined };
}

async function expectError(adapter: ModelAdapter, req: ModelRequest, signal?: AbortSignal): Promise<ModelError> {
  const { error } = await run(adapter, req, signal);
  assert.ok(error, 'expected the stream to fail');
  return error;
}

function assemble(parts: readonly StreamPart[]): { text: string; toolCalls: ToolCallRecord[] } {
  const calls: ToolCallRecord[] = [];
  let text = '';
  for (const p of parts) {
    if (p.type === 'text-delta') text += p.text;
    if (p.type === 'tool-call-start') calls[p.index] = { id: p.id, name: p.name, argsText: '' };
    if (p.type === 'tool-call-delta') {
      const call = calls[p.index];
      assert.ok(call, `delta for unopened tool call ${p.index}`);
      call.argsText += p.argsDelta;
    }
  }
  return { text, toolCalls: calls };
}

/** The key as sent; the Anthropic SDK has used both `x-api-key` and a bearer token across versions. */
function sentKey(req: FakeRequest): string | undefined {
  const header = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '');
  return Array.isArray(header) ? header[0] : header;
}

function adapterFor(provider: WireProvider, fake: FakeProvider): ModelAdapter {
  return createAdapter({ provider, apiKey: 'test-key', baseURL: provider === 'openai' ? `${fake.url}/v1` : fake.url });
}

for (const provider of ['openai', 'anthropic'] as const) {
  describe(`${provider} adapter`, () => {
    let fake: FakeProvider;
    let next: FakeResponse | ((n: number) => FakeResponse);
    let adapter: ModelAdapter;

    beforeEach(async () => {
      next = { text: 'ok' };
      fake = await startFakeProvider({ respond: () => (typeof next === 'function' ? next(fake.requests.length) : next) });
      adapter = adapterFor(provider, fake);
    });
    afterEach(async () => {
      assert.deepEqual(fake.errors, []);
      await fake.close();
    });

    it('streams text and tool calls in several deltas and finishes last', async () => {
      next = {
        text: 'I will read both files now.',
        toolCalls: [
          { name: 'read_file', args: { path: 'src/a.ts' } },
          { name: 'run_command', args: { command: 'npm test -- --grep bug' } },
        ],
      };
      const { parts, error } = await run(adapter, request());
      assert.equal(error, undefined);
      const assembled = assemble(parts);
      assert.equal(assembled.text, 'I will read both files now.');
      assert.deepEqual(
        assembled.toolCalls.map((c) => [c.name, JSON.parse(c.argsText)]),
        [
          ['read_file', { path: 'src/a.ts' }],
          ['run_command', { command: 'npm test -- --grep bug' }],
        ],
      );
      assert.equal(new Set(assembled.toolCalls.map((c) => c.id)).size, 2);
      assert.ok(parts.filter((p) => p.type === 'text-delta').length > 3, 'text arrives in several deltas');
      for (const index of [0, 1]) {
        const deltas = parts.filter((p) => p.type === 'tool-call-delta' && p.index === index);
        assert.ok(deltas.length > 1, `tool call ${index} arguments arrive in several deltas`);
      }
      assert.deepEqual(parts.at(-1), { type: 'finish', stopReason: provider === 'openai' ? 'tool_calls' : 'tool_use' });
    });

    it('reports usage with cache reads and writes as disjoint counts', async () => {
      next = { text: 'cached', usage: { inputTokens: 120, outputTokens: 33, cacheReadTokens: 4000, cacheWriteTokens: 250 } };
      const { parts } = await run(adapter, request());
      const usage = parts.filter((p) => p.type === 'usage');
      assert.deepEqual(usage, [{ type: 'usage', usage: { inputTokens: 120, outputTokens: 33, cacheReadTokens: 4000, cacheWriteTokens: 250 } }]);
      assert.equal(parts.indexOf(usage[0]!), parts.length - 2, 'usage comes right before finish');
    });

    it('passes malformed tool arguments through untouched', async () => {
      const broken = '{"path": "src/a.ts", "content": "unterminated';
      next = { toolCalls: [{ id: 'call_broken', name: 'read_file', args: broken }] };
      const { parts, error } = await run(adapter, request());
      assert.equal(error, undefined);
      assert.deepEqual(assemble(parts).toolCalls, [{ id: 'call_broken', name: 'read_file', argsText: broken }]);
    });

    const errorCases: Array<{ name: string; response: FakeResponse; kind: ModelErrorKind; status: number; retryAfterMs?: number }> = [
      { name: '429 with Retry-After seconds', response: { error: { status: 429, type: 'rate_limit_error' }, retryAfter: 7 }, kind: 'rate_limit', status: 429, retryAfterMs: 7000 },
      { name: '429 with retry-after-ms', response: { error: { status: 429 }, retryAfterMs: 1500, retryAfter: 9 }, kind: 'rate_limit', status: 429, retryAfterMs: 1500 },
      { name: '529 overloaded', response: { error: { status: 529, type: 'overloaded_error' } }, kind: 'overloaded', status: 529 },
      { name: 'overloaded_error type on a 503', response: { error: { status: 503, type: 'overloaded_error' }, retryAfter: 2 }, kind: 'overloaded', status: 503, retryAfterMs: 2000 },
      { name: '500', response: { error: { status: 500, type: 'api_error' } }, kind: 'server', status: 500 },
      { name: '401', response: { error: { status: 401, type: 'authentication_error' } }, kind: 'auth', status: 401 },
      { name: '403', response: { error: { status: 403, type: 'permission_error' } }, kind: 'auth', status: 403 },
      { name: '413', response: { error: { status: 413, type: 'request_too_large' } }, kind: 'context_too_long', status: 413 },
      {
        name: '400 context_length_exceeded',
        response: { error: { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' } },
        kind: 'context_too_long',
        status: 400,
      },
      { name: '400 invalid request', response: { error: { status: 400, type: 'invalid_request_error' } }, kind: 'bad_request', status: 400 },
      { name: '404 unknown model', response: { error: { status: 404, type: 'not_found_error' } }, kind: 'bad_request', status: 404 },
      { name: '408', response: { error: { status: 408 } }, kind: 'timeout', status: 408 },
      { name: '409', response: { error: { status: 409 } }, kind: 'server', status: 409 },
    ];
    for (const c of errorCases) {
      it(`maps ${c.name} to ${c.kind}`, async () => {
        next = c.response;
        const error = await expectError(adapter, request());
        assert.equal(error.kind, c.kind);
        assert.equal(error.status, c.status);
        assert.equal(error.retryAfterMs, c.retryAfterMs);
        assert.equal(error.provider, provider);
        assert.equal(fake.requests.length, 1, 'exactly one attempt: SDK retries are off');
      });
    }

    it('classifies an error event inside a started stream by its type', async () => {
      next = { text: 'partial answer', error: { status: 529, type: 'overloaded_error' }, afterChunks: 4 };
      const { parts, error } = await run(adapter, request());
      assert.ok(parts.some((p) => p.type === 'text-delta'), 'deltas before the error were delivered');
      assert.equal(error?.kind, 'overloaded');
      assert.equal(error?.status, undefined);
    });

    it('ends a stalled stream with aborted when the signal fires mid-stream', async () => {
      next = { text: 'Hello world', stall: true, afterChunks: 4 };
      const controller = new AbortController();
      const parts: StreamPart[] = [];
      let caught: unknown;
      try {
        for await (const part of adapter.stream(request(), controller.signal)) {
          parts.push(part);
          // The first delta means the server has sent all it will send: abort during the silence.
          if (parts.length === 1) setTimeout(() => controller.abort(), 20);
        }
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof ModelError);
      assert.equal(caught.kind, 'aborted');
      assert.ok(parts.length > 0 && parts.every((p) => p.type === 'text-delta'));
    });

    it('ends a stream stalled before the first event with aborted', async () => {
      next = { stall: true };
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const error = await expectError(adapter, request(), controller.signal);
      assert.equal(error.kind, 'aborted');
    });

    it('reports an already-aborted signal as aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      const error = await expectError(adapter, request(), controller.signal);
      assert.equal(error.kind, 'aborted');
    });

    it('turns a connection cut mid-stream into network', async () => {
      next = { text: 'This answer will be cut off', cut: true, afterChunks: 4 };
      const { parts, error } = await run(adapter, request());
      assert.equal(error?.kind, 'network');
      assert.ok(!parts.some((p) => p.type === 'finish'));
    });

    it('turns a cleanly closed stream without the end marker into network', async () => {
      next = { text: 'This answer ends early', cut: true, afterChunks: 4, graceful: true };
      const { parts, error } = await run(adapter, request());
      assert.equal(error?.kind, 'network');
      assert.ok(parts.some((p) => p.type === 'text-delta'));
      assert.ok(!parts.some((p) => p.type === 'finish'));
    });

    it('reports a refused connection as network', async () => {
      const closed = await startFakeProvider({ respond: () => ({ text: 'unused' }) });
      const deadAdapter = adapterFor(provider, closed);
      await closed.close();
      const error = await expectError(deadAdapter, request());
      assert.equal(error.kind, 'network');
    });

    it('sends history that reads back as the same conversation', async () => {
      await run(adapter, request({ messages: HISTORY }));
      const recorded = fake.requests[0]!;
      assert.equal(recorded.system, 'You are a test agent.');
      assert.deepEqual(recorded.tools, ['read_file', 'run_command']);
      assert.equal(recorded.stream, true);
      // OpenAI's tool messages carry no error flag.
      const expected = provider === 'openai' ? HISTORY.map((m) => (m.role === 'tool' ? { ...m, isError: false } : m)) : HISTORY;
      assert.deepEqual(recorded.messages, expected);
    });

    it('replays tool arguments that are not a JSON object as {}', async () => {
      const messages: Message[] = [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          text: '',
          toolCalls: [
            { id: 'c1', name: 'read_file', argsText: '{"path": "a.ts"' },
            { id: 'c2', name: 'read_file', argsText: '["a.ts"]' },
            { id: 'c3', name: 'read_file', argsText: '{"path":  "b.ts"}' },
          ],
        },
        { role: 'tool', callId: 'c1', name: 'read_file', content: 'Invalid JSON arguments', isError: true },
        { role: 'tool', callId: 'c2', name: 'read_file', content: 'Arguments must be an object', isError: true },
        { role: 'tool', callId: 'c3', name: 'read_file', content: 'b', isError: false },
      ];
      await run(adapter, request({ messages }));
      const replayed = fake.requests[0]!.messages[1];
      assert.ok(replayed?.role === 'assistant');
      const args = replayed.toolCalls.map((c) => JSON.parse(c.argsText) as unknown);
      assert.deepEqual(args, [{}, {}, { path: 'b.ts' }]);
    });

    it('authenticates with the caller-supplied key', async () => {
      await run(adapter, request());
      assert.equal(sentKey(fake.requests[0]!), 'test-key');
    });
  });
}

describe('openai adapter wire format', () => {
  let fake: FakeProvider;
  beforeEach(async () => (fake = await startFakeProvider({ respond: () => ({ text: 'ok' }) })));
  afterEach(() => fake.close());

  it('sends tools as functions, tool calls on the assistant message, results with tool_call_id', async () => {
    await run(adapterFor('openai', fake), request({ messages: HISTORY }));
    const body = fake.requests[0]!.body;
    assert.equal(body['stream'], true);
    assert.deepEqual(body['stream_options'], { include_usage: true });
    assert.equal(body['max_completion_tokens'], 256);
    assert.deepEqual((body['tools'] as unknown[])[0], {
      type: 'function',
      function: { name: 'read_file', description: 'Read a file.', parameters: TOOLS[0]!.inputSchema },
    });
    assert.deepEqual(body['messages'], [
      { role: 'system', content: 'You are a test agent.' },
      { role: 'user', content: 'Fix the bug.' },
      {
        role: 'assistant',
        content: 'Looking.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.ts"}' } },
          { id: 'c2', type: 'function', function: { name: 'run_command', arguments: '{"command":"npm test"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'export const a = 1;' },
      { role: 'tool', tool_call_id: 'c2', content: 'exit code 1' },
    ]);
  });
});

describe('anthropic adapter wire format', () => {
  let fake: FakeProvider;
  beforeEach(async () => (fake = await startFakeProvider({ respond: () => ({ text: 'ok' }) })));
  afterEach(() => fake.close());

  it('merges consecutive tool results into one user message with is_error', async () => {
    await run(adapterFor('anthropic', fake), request({ messages: [...HISTORY, { role: 'user', content: 'Also check b.ts.' }] }));
    const messages = fake.requests[0]!.body['messages'] as Array<{ role: string; content: unknown[] }>;
    assert.deepEqual(
      messages.map((m) => m.role),
      ['user', 'assistant', 'user'],
    );
    assert.deepEqual(messages[1]!.content, [
      { type: 'text', text: 'Looking.' },
      { type: 'tool_use', id: 'c1', name: 'read_file', input: { path: 'a.ts' } },
      { type: 'tool_use', id: 'c2', name: 'run_command', input: { command: 'npm test' } },
    ]);
    assert.deepEqual(messages[2]!.content, [
      { type: 'tool_result', tool_use_id: 'c1', content: 'export const a = 1;' },
      { type: 'tool_result', tool_use_id: 'c2', content: 'exit code 1', is_error: true },
      { type: 'text', text: 'Also check b.ts.' },
    ]);
  });

  it('places cache breakpoints on the system block, the last tool and the last message block', async () => {
    await run(adapterFor('anthropic', fake), request({ messages: HISTORY, cache: true }));
    const body = fake.requests[0]!.body;
    assert.deepEqual(breakpointPaths(body), ['messages[2].content[1]', 'system[0]', 'tools[1]']);
  });

  it('moves the message breakpoint with the conversation', async () => {
    const adapter = adapterFor('anthropic', fake);
    await run(adapter, request({ messages: HISTORY.slice(0, 1), cache: true }));
    await run(adapter, request({ messages: HISTORY, cache: true }));
    assert.deepEqual(breakpointPaths(fake.requests[0]!.body), ['messages[0].content[0]', 'system[0]', 'tools[1]']);
    assert.deepEqual(breakpointPaths(fake.requests[1]!.body), ['messages[2].content[1]', 'system[0]', 'tools[1]']);
  });

  it('sends no breakpoints without req.cache', async () => {
    await run(adapterFor('anthropic', fake), request({ messages: HISTORY }));
    assert.deepEqual(breakpointPaths(fake.requests[0]!.body), []);
    assert.deepEqual(fake.requests[0]!.body['system'], [{ type: 'text', text: 'You are a test agent.' }]);
  });
});

/** Where cache_control appears in an Anthropic body, as sorted readable paths. */
function breakpointPaths(body: Record<string, unknown>): string[] {
  const found: string[] = [];
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${path}[${i}]`));
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'cache_control') {
          assert.deepEqual(v, { type: 'ephemeral' });
          found.push(path);
        } else visit(v, path === '' ? k : `${path}.${k}`);
      }
    }
  };
  visit(body, '');
  return found.sort();
}

describe('createAdapter', () => {
  it('refuses to build an adapter without a key, naming the variable to set', () => {
    for (const [provider, variable] of [
      ['openai', 'OPENAI_API_KEY'],
      ['anthropic', 'ANTHROPIC_API_KEY'],
    ] as const) {
      assert.throws(
        () => createAdapter({ provider }, { [variable]: '  ' }),
        (e: unknown) => e instanceof ModelError && e.kind === 'auth' && e.message.includes(variable),
      );
    }
  });

  it('falls back to the environment for key and base URL', async () => {
    const fake = await startFakeProvider({ respond: () => ({ text: 'from env' }) });
    try {
      const openai = createAdapter({ provider: 'openai' }, { OPENAI_API_KEY: 'env-openai', OPENAI_BASE_URL: `${fake.url}/v1` });
      const anthropic = createAdapter({ provider: 'anthropic' }, { ANTHROPIC_API_KEY: 'env-anthropic', ANTHROPIC_BASE_URL: fake.url });
      assert.equal(assemble((await run(openai, request())).parts).text, 'from env');
      assert.equal(assemble((await run(anthropic, request())).parts).text, 'from env');
      assert.equal(sentKey(fake.requests[0]!), 'env-openai');
      assert.equal(sentKey(fake.requests[1]!), 'env-anthropic');
    } finally {
      await fake.close();
    }
  });

  it('prefers explicit settings over the environment', async () => {
    const fake = await startFakeProvider({ respond: () => ({ text: 'explicit' }) });
    try {
      const adapter = createAdapter(
        { provider: 'anthropic', apiKey: 'explicit-key', baseURL: fake.url },
        { ANTHROPIC_API_KEY: 'env-key', ANTHROPIC_BASE_URL: 'http://127.0.0.1:1' },
      );
      assert.equal(assemble((await run(adapter, request())).parts).text, 'explicit');
      assert.equal(sentKey(fake.requests[0]!), 'explicit-key');
    } finally {
      await fake.close();
    }
  });
});

describe('error classification', () => {
  it('decides from type and code before status, and from status otherwise', () => {
    const cases: Array<[Parameters<typeof classifyApiError>[0], ModelErrorKind]> = [
      [{ status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' }, 'context_too_long'],
      [{ status: 429, type: 'insufficient_quota', code: 'insufficient_quota' }, 'auth'],
      [{ status: 429, type: 'tokens', code: 'rate_limit_exceeded' }, 'rate_limit'],
      [{ status: 500, type: 'overloaded_error' }, 'overloaded'],
      [{ status: 402, type: 'billing_error' }, 'auth'],
      [{ status: 422 }, 'bad_request'],
      [{ status: 502 }, 'server'],
      [{ type: 'overloaded_error' }, 'overloaded'],
      [{ type: 'invalid_request_error' }, 'bad_request'],
      [{ type: 'something_new' }, 'server'],
    ];
    for (const [fields, kind] of cases) assert.equal(classifyApiError(fields), kind, JSON.stringify(fields));
  });

  it('reads retry-after-ms, Retry-After seconds and Retry-After dates', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const h = (entries: Record<string, string>): Headers => new Headers(entries);
    assert.equal(parseRetryAfter(h({ 'retry-after-ms': '250' }), now), 250);
    assert.equal(parseRetryAfter(h({ 'retry-after-ms': 'soon', 'retry-after': '3' }), now), 3000);
    assert.equal(parseRetryAfter(h({ 'retry-after': '1.5' }), now), 1500);
    assert.equal(parseRetryAfter(h({ 'retry-after': 'Tue, 01 Jan 2030 00:00:30 GMT' }), now), 30_000);
    assert.equal(parseRetryAfter(h({ 'retry-after': 'Mon, 31 Dec 2029 23:59:00 GMT' }), now), 0);
    assert.equal(parseRetryAfter(h({ 'retry-after': '-5' }), now), undefined);
    assert.equal(parseRetryAfter(h({}), now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
