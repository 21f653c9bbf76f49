import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { BreakerRegistry, ProviderBreaker, breakerKey } from '../../src/core/model/breaker.ts';
import { ModelError, type ModelErrorKind } from '../../src/core/model/errors.ts';

const never = new AbortController().signal;
const isKind = (kind: ModelErrorKind) => (e: unknown) => e instanceof ModelError && e.kind === kind;

/** A recording attempt: counts how often the breaker let it run. */
function attempts() {
  const record = {
    runs: 0,
    failWith(kind: ModelErrorKind) {
      return () => {
        record.runs++;
        return Promise.reject(new ModelError(kind, `scripted ${kind}`));
      };
    },
    succeed() {
      return () => {
        record.runs++;
        return Promise.resolve('ok');
      };
    },
  };
  return record;
}

async function failTimes(breaker: ProviderBreaker, n: number, kind: ModelErrorKind, rec = attempts()): Promise<void> {
  for (let i = 0; i < n; i++) await assert.rejects(breaker.run(rec.failWith(kind), never), isKind(kind));
}

describe('ProviderBreaker', () => {
  it('opens after `threshold` consecutive infrastructure failures and then fails fast', async () => {
    const breaker = new ProviderBreaker('anthropic', { threshold: 5, cooldownMs: 60_000 });
    await failTimes(breaker, 4, 'server');
    assert.equal(breaker.state, 'closed');
    await failTimes(breaker, 1, 'overloaded');
    assert.equal(breaker.state, 'open');

    const rec = attempts();
    await assert.rejects(breaker.run(rec.succeed(), never), (e) => isKind('circuit_open')(e) && (e as ModelError).provider === 'anthropic');
    assert.equal(rec.runs, 0);
  });

  it('counts network errors and timeouts too', async () => {
    const breaker = new ProviderBreaker('openai', { threshold: 2, cooldownMs: 60_000 });
    await failTimes(breaker, 1, 'network');
    await failTimes(breaker, 1, 'timeout');
    assert.equal(breaker.state, 'open');
  });

  it('resets the count on success', async () => {
    const breaker = new ProviderBreaker('openai', { threshold: 3, cooldownMs: 60_000 });
    await failTimes(breaker, 2, 'server');
    assert.equal(await breaker.run(attempts().succeed(), never), 'ok');
    await failTimes(breaker, 2, 'server');
    assert.equal(breaker.state, 'closed');
  });

  for (const kind of ['auth', 'bad_request', 'context_too_long', 'aborted', 'rate_limit'] as const) {
    it(`is not tripped by ${kind}`, async () => {
      const breaker = new ProviderBreaker('openai', { threshold: 2, cooldownMs: 60_000 });
      await failTimes(breaker, 5, kind);
      assert.equal(breaker.state, 'closed');
    });
  }

  it('neither counts nor resets on a non-tripping error between failures', async () => {
    const breaker = new ProviderBreaker('openai', { threshold: 3, cooldownMs: 60_000 });
    await failTimes(breaker, 2, 'server');
    await failTimes(breaker, 1, 'auth');
    await failTimes(breaker, 1, 'server');
    assert.equal(breaker.state, 'open');
  });

  it('can be told which kinds trip it', async () => {
    const breaker = new ProviderBreaker('openai', { threshold: 2, cooldownMs: 60_000, tripOn: new Set(['rate_limit']) });
    await failTimes(breaker, 3, 'server');
    assert.equal(breaker.state, 'closed');
    await failTimes(breaker, 2, 'rate_limit');
    assert.equal(breaker.state, 'open');
  });

  it('lets one probe through after the cooldown and closes when it succeeds', async () => {
    const breaker = new ProviderBreaker('anthropic', { threshold: 2, cooldownMs: 20 });
    await failTimes(breaker, 2, 'server');
    await delay(60);
    const rec = attempts();
    assert.equal(await breaker.run(rec.succeed(), never), 'ok');
    assert.equal(breaker.state, 'closed');
    await failTimes(breaker, 1, 'server');
    assert.equal(breaker.state, 'closed', 'the count starts again from zero');
  });

  it('opens again when the probe fails', async () => {
    const breaker = new ProviderBreaker('anthropic', { threshold: 2, cooldownMs: 20 });
    await failTimes(breaker, 2, 'server');
    await delay(60);
    await failTimes(breaker, 1, 'network');
    assert.equal(breaker.state, 'open');
    await assert.rejects(breaker.run(attempts().succeed(), never), isKind('circuit_open'));
  });

  it('makes attempts wait for the probe, and lets a waiting caller abort promptly without ever running', async () => {
    const breaker = new ProviderBreaker('anthropic', { threshold: 1, cooldownMs: 20 });
    await failTimes(breaker, 1, 'server');
    await delay(60);

    let finishProbe!: (v: string) => void;
    const probe = breaker.run(() => new Promise<string>((resolve) => (finishProbe = resolve)), never);
    assert.equal(breaker.state, 'half-open');

    const controller = new AbortController();
    const rec = attempts();
    const queued = breaker.run(rec.succeed(), controller.signal);
    controller.abort();
    await assert.rejects(queued, isKind('aborted'));

    finishProbe('probe ok');
    assert.equal(await probe, 'probe ok');
    await delay(0);
    assert.equal(rec.runs, 0, 'an aborted caller must not start its attempt later');
    assert.equal(breaker.state, 'closed');
  });

  it('rejects with aborted for an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const rec = attempts();
    await assert.rejects(new ProviderBreaker('openai').run(rec.succeed(), controller.signal), isKind('aborted'));
    assert.equal(rec.runs, 0);
  });
});

describe('BreakerRegistry', () => {
  it('returns one breaker per key, shared by every caller', async () => {
    const registry = new BreakerRegistry({ threshold: 1, cooldownMs: 60_000 });
    assert.equal(registry.get('openai'), registry.get('openai'));
    await failTimes(registry.get('openai'), 1, 'server');
    assert.equal(registry.get('openai').state, 'open');
    assert.equal(registry.get('anthropic').state, 'closed');
  });

  it('keys endpoints by provider and baseURL', () => {
    assert.equal(breakerKey('openai'), 'openai');
    assert.notEqual(breakerKey('openai', 'http://localhost:11434/v1'), breakerKey('openai'));
    assert.equal(breakerKey('openai', 'http://localhost:11434/v1/'), breakerKey('openai', 'http://localhost:11434/v1'));
    assert.notEqual(breakerKey('openai', 'https://a.example'), breakerKey('anthropic', 'https://a.example'));
  });
});
