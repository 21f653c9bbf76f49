import assert from 'node:assert/strict';
import type { ProviderName } from '../../src/core/events/schema.ts';
import { BreakerRegistry } from '../../src/core/model/breaker.ts';
import { ModelError, type ModelErrorKind } from '../../src/core/model/errors.ts';
import { ModelGateway, type AttemptLimits, type RetryInfo, type RetryPolicy } from '../../src/core/model/gateway.ts';
import { RetryGate } from '../../src/core/model/retry-gate.ts';
import { FakeClock, settle, track } from '../support/fake-clock.ts';
import type { ModelAdapter, ModelRequest, StreamPart } from '../../src/core/model/types.ts';

// ------------------------------------------------------- scripted adapter

/** One step of a scripted attempt. `hang` never ends and ignores the signal. */
type Step = { part: StreamPart } | { waitMs: number } | { fail: Error } | { hang: true };

const text = (t: string): Step => ({ part: { type: 'text-delta', text: t } });
const finish = (stopReason = 'end_turn'): Step => ({ part: { type: 'finish', stopReason } });
const wait = (ms: number): Step => ({ waitMs: ms });
const fail = (kind: ModelErrorKind, opts: { status?: number; retryAfterMs?: number } = {}): Step => ({
  fail: new ModelError(kind, `scripted ${kind}`, opts),
});
const ok: Step[] = [text('ok'), finish()];

/** A recording ModelAdapter double: each `stream` call plays the next scripted attempt. */
class ScriptedAdapter implements ModelAdapter {
  readonly starts: { at: number; signal: AbortSignal }[] = [];

  constructor(
    private readonly clock: FakeClock,
    private readonly attempts: Step[][],
    readonly provider: ProviderName = 'anthropic',
  ) {}

  async *stream(_req: ModelRequest, signal: AbortSignal): AsyncIterable<StreamPart> {
    const steps = this.attempts.shift();
    if (!steps) throw new Error('no scripted attempt left');
    this.starts.push({ at: this.clock.now(), signal });
    for (const step of steps) {
      if ('part' in step) yield step.part;
      else if ('fail' in step) throw step.fail;
      else if ('hang' in step) await new Promise<never>(() => {});
      else {
        try {
          await this.clock.sleep(step.waitMs, signal);
        } catch (e) {
          throw new ModelError('aborted', 'adapter saw its signal abort', { cause: e });
        }
      }
    }
  }
}

const request: ModelRequest = { model: 'claude-sonnet-4-5', system: 'sys', messages: [], tools: [], maxOutputTokens: 100 };

function gatewayFor(
  adapter: ModelAdapter,
  clock: FakeClock,
  opts: {
    gate?: RetryGate;
    breakers?: BreakerRegistry;
    limits?: Partial<AttemptLimits>;
    retry?: Partial<RetryPolicy>;
    random?: () => number;
  } = {},
): ModelGateway {
  return new ModelGateway({
    adapterFor: () => adapter,
    gate: opts.gate ?? new RetryGate(clock),
    breakers: opts.breakers ?? new BreakerRegistry({ threshold: 1_000 }),
    clock,
    random: opts.random ?? (() => 0.5),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
  });
}

const isKind = (kind: ModelErrorKind) => (e: unknown) => e instanceof ModelError && e.kind === kind;

// ------------------------------------------------------------------ tests

describe('ModelGateway', () => {
  const never = new AbortController().signal;

  describe('assembly', () => {
    it('assembles text, interleaved tool-call deltas and usage into one turn', async () => {
      const clock = new FakeClock();
      const steps: Step[] = [
        { part: { type: 'usage', usage: { inputTokens: 120, cacheReadTokens: 30 } } },
        wait(250),
        text('Let me '),
        { part: { type: 'tool-call-start', index: 1, id: 'call_b', name: 'read_file' } },
        { part: { type: 'tool-call-delta', index: 0, argsDelta: '{"pa' } },
        { part: { type: 'tool-call-start', index: 0, id: 'call_a', name: 'write_file' } },
        { part: { type: 'tool-call-delta', index: 1, argsDelta: '{"path":"b"}' } },
        text('look.'),
        { part: { type: 'tool-call-delta', index: 0, argsDelta: 'th":"a"}' } },
        { part: { type: 'usage', usage: { outputTokens: 40 } } },
        { part: { type: 'usage', usage: { outputTokens: 55, cacheWriteTokens: 7 } } },
        finish('tool_use'),
      ];
      const adapter = new ScriptedAdapter(clock, [steps]);
      const seen: StreamPart[] = [];
      const result = await clock.run(gatewayFor(adapter, clock).call('anthropic', request, never, { onPart: (p) => seen.push(p) }));

      assert.equal(result.text, 'Let me look.');
      assert.deepEqual(result.toolCalls, [
        { id: 'call_a', name: 'write_file', argsText: '{"path":"a"}' },
        { id: 'call_b', name: 'read_file', argsText: '{"path":"b"}' },
      ]);
      assert.deepEqual(result.usage, { inputTokens: 120, outputTokens: 55, cacheReadTokens: 30, cacheWriteTokens: 7 });
      assert.equal(result.stopReason, 'tool_use');
      assert.equal(result.attempts, 1);
      assert.equal(result.ttftMs, 250);
      assert.equal(result.durationMs, 250);
      assert.deepEqual(
        seen,
        steps.flatMap((s) => ('part' in s ? [s.part] : [])),
      );
    });

    it('treats a stream that ends without a finish part as a cut-off (network) failure', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[text('half')], ok]);
      const result = await clock.run(gatewayFor(adapter, clock).call('anthropic', request, never));
      assert.equal(result.attempts, 2);
      assert.equal(result.text, 'ok');
    });
  });

  describe('per-attempt limits', () => {
    const limits = { firstTokenMs: 1_000, idleMs: 5_000, totalMs: 30_000 };

    it('fails an attempt with no first part in time as a timeout, and aborts its signal', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[wait(10_000), ...ok]]);
      const call = gatewayFor(adapter, clock, { limits, retry: { maxAttempts: 1 } }).call('anthropic', request, never);
      await assert.rejects(clock.run(call), isKind('timeout'));
      assert.equal(clock.now(), 1_000);
      assert.equal(adapter.starts[0]?.signal.aborted, true);
    });

    it('applies the idle limit between parts once the stream has started', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[text('a'), wait(4_000), text('b'), wait(4_000), text('c'), wait(9_000), ...ok]]);
      const call = gatewayFor(adapter, clock, { limits, retry: { maxAttempts: 1 } }).call('anthropic', request, never);
      await assert.rejects(clock.run(call), isKind('timeout'));
      assert.equal(clock.now(), 13_000);
    });

    it('caps a lively attempt at the total limit', async () => {
      const clock = new FakeClock();
      const chatty = Array.from({ length: 20 }, () => [text('.'), wait(4_000)]).flat();
      const adapter = new ScriptedAdapter(clock, [[...chatty, finish()]]);
      const call = gatewayFor(adapter, clock, { limits, retry: { maxAttempts: 1 } }).call('anthropic', request, never);
      await assert.rejects(clock.run(call), isKind('timeout'));
      assert.equal(clock.now(), 30_000);
    });

    it('retries a timed-out attempt', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[{ hang: true }], ok]);
      const retries: RetryInfo[] = [];
      const result = await clock.run(
        gatewayFor(adapter, clock, { limits }).call('anthropic', request, never, { onRetry: (i) => retries.push(i) }),
      );
      assert.equal(result.attempts, 2);
      assert.equal(retries[0]?.errorKind, 'timeout');
    });
  });

  describe('retries', () => {
    it('retries retryable failures with jittered exponential backoff, then succeeds', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[fail('server', { status: 503 })], [fail('network')], ok]);
      const retries: RetryInfo[] = [];
      const gateway = gatewayFor(adapter, clock, { retry: { baseDelayMs: 1_000, maxDelayMs: 30_000 }, random: () => 0.5 });
      const result = await clock.run(gateway.call('anthropic', request, never, { onRetry: (i) => retries.push(i) }));

      assert.equal(result.attempts, 3);
      assert.equal(result.text, 'ok');
      assert.deepEqual(retries, [
        { attempt: 1, errorKind: 'server', delayMs: 500, status: 503, discardPartial: false },
        { attempt: 2, errorKind: 'network', delayMs: 1_000, discardPartial: false },
      ]);
      assert.deepEqual(
        adapter.starts.map((s) => s.at),
        [0, 500, 1_500],
      );
      assert.equal(result.durationMs, 1_500);
    });

    it('caps the backoff at maxDelayMs', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[fail('server')], [fail('server')], [fail('server')], ok]);
      const retries: RetryInfo[] = [];
      const gateway = gatewayFor(adapter, clock, { retry: { baseDelayMs: 1_000, maxDelayMs: 1_500 }, random: () => 0.999 });
      await clock.run(gateway.call('anthropic', request, never, { onRetry: (i) => retries.push(i) }));
      assert.deepEqual(
        retries.map((r) => r.delayMs),
        [999, 1_498, 1_498],
      );
    });

    it('gives up after maxAttempts with the last error', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[fail('server')], [fail('server')], [fail('overloaded', { status: 529 })], ok]);
      const call = gatewayFor(adapter, clock, { retry: { maxAttempts: 3 } }).call('anthropic', request, never);
      await assert.rejects(clock.run(call), isKind('overloaded'));
      assert.equal(adapter.starts.length, 3);
    });

    it('retries an Anthropic 529 (overloaded)', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[fail('overloaded', { status: 529 })], ok]);
      const retries: RetryInfo[] = [];
      const result = await clock.run(gatewayFor(adapter, clock).call('anthropic', request, never, { onRetry: (i) => retries.push(i) }));
      assert.equal(result.attempts, 2);
      assert.equal(retries[0]?.status, 529);
      assert.equal(retries[0]?.errorKind, 'overloaded');
    });

    for (const kind of ['auth', 'bad_request', 'context_too_long'] as const) {
      it(`fails at once on ${kind}`, async () => {
        const clock = new FakeClock();
        const adapter = new ScriptedAdapter(clock, [[fail(kind, { status: 400 })], ok]);
        const retries: RetryInfo[] = [];
        const call = gatewayFor(adapter, clock).call('anthropic', request, never, { onRetry: (i) => retries.push(i) });
        await assert.rejects(clock.run(call), isKind(kind));
        assert.equal(adapter.starts.length, 1);
        assert.deepEqual(retries, []);
      });
    }

    it('passes a non-ModelError (an adapter bug) through without retrying', async () => {
      const clock = new FakeClock();
      const bug = new TypeError('adapter bug');
      const adapter = new ScriptedAdapter(clock, [[{ fail: bug }], ok]);
      await assert.rejects(clock.run(gatewayFor(adapter, clock).call('anthropic', request, never)), (e) => e === bug);
      assert.equal(adapter.starts.length, 1);
    });

    it('tells onRetry to discard partial output before the next attempt streams', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[text('par'), fail('network')], [fail('server')], [text('whole'), finish()]]);
      const log: string[] = [];
      const result = await clock.run(
        gatewayFor(adapter, clock).call('anthropic', request, never, {
          onPart: (p) => log.push(p.type === 'text-delta' ? `text:${p.text}` : p.type),
          onRetry: (i) => log.push(`retry:${i.attempt}:${i.discardPartial}`),
        }),
      );
      assert.deepEqual(log, ['text:par', 'retry:1:true', 'retry:2:false', 'text:whole', 'finish']);
      assert.equal(result.text, 'whole');
    });
  });

  describe('Retry-After and the shared gate', () => {
    it('waits the server-requested time and holds a concurrent call of the run until then', async () => {
      const clock = new FakeClock();
      const gate = new RetryGate(clock);
      const breakers = new BreakerRegistry({ threshold: 1_000 });
      const limited = new ScriptedAdapter(clock, [[fail('rate_limit', { status: 429, retryAfterMs: 20_000 })], ok]);
      const other = new ScriptedAdapter(clock, [[wait(1_000), fail('server', { status: 500 })], ok], 'openai');
      const otherRetries: RetryInfo[] = [];

      const a = gatewayFor(limited, clock, { gate, breakers, random: () => 0 }).call('anthropic', request, never);
      const b = gatewayFor(other, clock, { gate, breakers, random: () => 0 }).call('openai', request, never, {
        onRetry: (i) => otherRetries.push(i),
      });
      const [ra, rb] = await clock.run(Promise.all([a, b]));

      assert.deepEqual(
        limited.starts.map((s) => s.at),
        [0, 20_000],
      );
      assert.deepEqual(
        other.starts.map((s) => s.at),
        [0, 20_000],
      );
      assert.equal(otherRetries[0]?.delayMs, 19_000);
      assert.deepEqual([ra.attempts, rb.attempts], [2, 2]);
    });

    it('makes a new call of the run wait before its first attempt', async () => {
      const clock = new FakeClock();
      const gate = new RetryGate(clock);
      const limited = new ScriptedAdapter(clock, [[fail('rate_limit', { retryAfterMs: 8_000 })], ok]);
      const fresh = new ScriptedAdapter(clock, [ok]);
      const a = gatewayFor(limited, clock, { gate }).call('anthropic', request, never);
      await settle();
      const b = gatewayFor(fresh, clock, { gate }).call('anthropic', request, never);
      await clock.run(Promise.all([a, b]));
      assert.deepEqual(
        fresh.starts.map((s) => s.at),
        [8_000],
      );
    });

    it('fails with the rate-limit error when the server asks for more than the cap', async () => {
      const clock = new FakeClock();
      const gate = new RetryGate(clock);
      const tooLong = new ModelError('rate_limit', 'slow down', { status: 429, retryAfterMs: 301_000 });
      const adapter = new ScriptedAdapter(clock, [[{ fail: tooLong }], ok]);
      const retries: RetryInfo[] = [];
      const call = gatewayFor(adapter, clock, { gate }).call('anthropic', request, never, { onRetry: (i) => retries.push(i) });
      await assert.rejects(clock.run(call), (e) => e === tooLong);
      assert.equal(adapter.starts.length, 1);
      assert.deepEqual(retries, []);
      assert.equal(gate.remainingMs(), 0, 'an over-cap wait must not stall the other calls');
      assert.equal(clock.now(), 0);
    });

    it('accepts a wait up to a configured cap', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[fail('rate_limit', { retryAfterMs: 400_000 })], ok]);
      const gateway = gatewayFor(adapter, clock, { retry: { maxRetryAfterMs: 600_000 } });
      const result = await clock.run(gateway.call('anthropic', request, never));
      assert.equal(result.attempts, 2);
      assert.equal(adapter.starts[1]?.at, 400_000);
    });
  });

  describe('caller abort', () => {
    it('ends the call promptly during a stream whose adapter ignores the signal', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[text('a'), { hang: true }], ok]);
      const controller = new AbortController();
      const call = track(gatewayFor(adapter, clock).call('anthropic', request, controller.signal));
      await settle();
      controller.abort();
      await settle();
      assert.equal(call.state, 'rejected');
      assert.ok(isKind('aborted')(call.error));
      assert.equal(adapter.starts.length, 1);
      assert.equal(adapter.starts[0]?.signal.aborted, true, 'the attempt signal follows the caller');
      assert.equal(clock.now(), 0);
    });

    it('reports aborted, not timeout, when the adapter fails on the forwarded abort', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[wait(500), ...ok]]);
      const controller = new AbortController();
      const call = track(gatewayFor(adapter, clock).call('anthropic', request, controller.signal));
      await settle();
      controller.abort();
      await settle();
      assert.ok(isKind('aborted')(call.error));
    });

    it('ends the call promptly during a backoff sleep', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [[fail('server')], ok]);
      const controller = new AbortController();
      const call = track(gatewayFor(adapter, clock, { random: () => 0.9 }).call('anthropic', request, controller.signal));
      await settle();
      assert.equal(call.state, 'pending');
      controller.abort();
      await settle();
      assert.ok(isKind('aborted')(call.error));
      assert.equal(adapter.starts.length, 1);
      assert.equal(clock.now(), 0);
    });

    it('ends the call promptly while it waits at the gate', async () => {
      const clock = new FakeClock();
      const gate = new RetryGate(clock);
      gate.deferFor(60_000);
      const adapter = new ScriptedAdapter(clock, [ok]);
      const controller = new AbortController();
      const call = track(gatewayFor(adapter, clock, { gate }).call('anthropic', request, controller.signal));
      await settle();
      controller.abort();
      await settle();
      assert.ok(isKind('aborted')(call.error));
      assert.equal(adapter.starts.length, 0);
    });

    it('does not start at all with an already aborted signal', async () => {
      const clock = new FakeClock();
      const adapter = new ScriptedAdapter(clock, [ok]);
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(gatewayFor(adapter, clock).call('anthropic', request, controller.signal), isKind('aborted'));
      assert.equal(adapter.starts.length, 0);
    });
  });

  describe('circuit breaker', () => {
    it('opens after repeated infrastructure failures and then fails fast', async () => {
      const clock = new FakeClock();
      const breakers = new BreakerRegistry({ threshold: 3, cooldownMs: 3_600_000 });
      const adapter = new ScriptedAdapter(clock, [[fail('server')], [fail('network')], [{ hang: true }], ok]);
      const gateway = gatewayFor(adapter, clock, { breakers, retry: { maxAttempts: 3 }, limits: { firstTokenMs: 1_000 } });

      await assert.rejects(clock.run(gateway.call('anthropic', request, never)), isKind('timeout'));
      await assert.rejects(clock.run(gateway.call('anthropic', request, never)), isKind('circuit_open'));
      assert.equal(adapter.starts.length, 3);
    });

    it('is not tripped by caller aborts or auth failures', async () => {
      const clock = new FakeClock();
      const breakers = new BreakerRegistry({ threshold: 2, cooldownMs: 3_600_000 });
      const adapter = new ScriptedAdapter(clock, [[fail('auth')], [fail('auth')], [{ hang: true }], [{ hang: true }], ok]);
      const gateway = gatewayFor(adapter, clock, { breakers });
      for (let i = 0; i < 2; i++) await assert.rejects(clock.run(gateway.call('anthropic', request, never)), isKind('auth'));
      for (let i = 0; i < 2; i++) {
        const controller = new AbortController();
        const call = gateway.call('anthropic', request, controller.signal);
        await settle();
        controller.abort();
        await assert.rejects(call, isKind('aborted'));
      }
      const result = await clock.run(gateway.call('anthropic', request, never));
      assert.equal(result.text, 'ok');
    });

    it('keys breakers by endpoint, so another provider is unaffected', async () => {
      const clock = new FakeClock();
      const breakers = new BreakerRegistry({ threshold: 1, cooldownMs: 3_600_000 });
      const broken = new ScriptedAdapter(clock, [[fail('server')]]);
      const healthy = new ScriptedAdapter(clock, [ok], 'openai');
      const gateway = new ModelGateway({
        adapterFor: (p) => (p === 'anthropic' ? broken : healthy),
        gate: new RetryGate(clock),
        breakers,
        clock,
        retry: { maxAttempts: 1 },
      });
      await assert.rejects(clock.run(gateway.call('anthropic', request, never)), isKind('server'));
      await assert.rejects(clock.run(gateway.call('anthropic', request, never)), isKind('circuit_open'));
      const result = await clock.run(gateway.call('openai', request, never));
      assert.equal(result.text, 'ok');
    });
  });

  it('rejects nonsensical options', () => {
    const clock = new FakeClock();
    const adapter = new ScriptedAdapter(clock, []);
    assert.throws(() => gatewayFor(adapter, clock, { retry: { maxAttempts: 0 } }), RangeError);
    assert.throws(() => gatewayFor(adapter, clock, { limits: { idleMs: Number.NaN } }), RangeError);
  });
});
