import assert from 'node:assert/strict';
import { MIN_SECRET_LENGTH, REDACTED, createRedactor, secretsFromEnv } from '../../src/core/redact.ts';

// Fake credentials with the real shapes (random-looking, never valid).
const OPENAI_LEGACY = 'sk-4fQ9xT2mLp8RzW1vKc7NbY3dHs6GjE0aUi5oPq2Xw9Ze';
const OPENAI_PROJECT = 'sk-proj-Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6Kl9No2Qr5Tu8Wx1Za4_Cd7-Fg0';
const ANTHROPIC = 'sk-ant-api03-Zx9Cv8Bn7Mq6Wr5Ty4Ui3Op2As1Df0Gh9Jk8Lz7Xc6Vb5Nm4-Qw3Er2Ty1AA';
const AWS = 'AKIAIOSFODNN7EXAMPLE';
const GITHUB_CLASSIC = 'ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R';
const GITHUB_FINE = 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

describe('createRedactor', () => {
  const { redact } = createRedactor();

  for (const [label, key] of [
    ['an OpenAI key', OPENAI_LEGACY],
    ['an OpenAI project key', OPENAI_PROJECT],
    ['an Anthropic key', ANTHROPIC],
    ['an AWS access key id', AWS],
    ['a GitHub classic token', GITHUB_CLASSIC],
    ['a GitHub fine-grained token', GITHUB_FINE],
  ] as const) {
    it(`removes ${label} wherever it appears`, () => {
      assert.equal(redact(`export KEY=${key}\n`), `export KEY=${REDACTED}\n`);
      assert.equal(redact(`"${key}"`), `"${REDACTED}"`);
      assert.equal(redact(key), REDACTED);
    });
  }

  it('keeps the scheme of a Bearer token and removes the token', () => {
    assert.equal(redact(`curl -H "X-Trace: 1" --oauth2-bearer x; Bearer ${JWT} end`), `curl -H "X-Trace: 1" --oauth2-bearer x; Bearer ${REDACTED} end`);
    assert.equal(redact('bearer abc123def456'), `bearer ${REDACTED}`);
  });

  it('removes Authorization and x-api-key header values, keeping the header name', () => {
    assert.equal(redact('Authorization: Basic dXNlcjpwYXNzd29yZA==\nAccept: */*'), `Authorization: ${REDACTED}\nAccept: */*`);
    assert.equal(redact('authorization: token abcdefghijklmnop'), `authorization: ${REDACTED}`);
    assert.equal(redact('{"Authorization":"Bearer abc.def.ghi123"}'), `{"Authorization":"${REDACTED}"}`);
    assert.equal(redact("-H 'x-api-key: 0123456789abcdef0123'"), `-H 'x-api-key: ${REDACTED}'`);
    assert.equal(redact('Proxy-Authorization: Basic Zm9vOmJhcg=='), `Proxy-Authorization: ${REDACTED}`);
  });

  it('removes private key blocks, including one cut off before its END line', () => {
    const block = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA7b3', 'q9Zl+0aXyz==', '-----END RSA PRIVATE KEY-----'].join('\n');
    assert.equal(redact(`before\n${block}\nafter`), `before\n${REDACTED}\nafter`);
    assert.equal(redact('x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA'), `x ${REDACTED}`);
    assert.equal(redact('-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----'), '-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----');
  });

  it('leaves ordinary prose and code alone', () => {
    const text = [
      'ask-the-user-for-more-details-please',
      'pip install scikit-learn; import sk-learn-compatibility-layer',
      'Bearer authentication is described in RFC 6750.',
      'const authorization = req.headers.authorization;',
      'headers: { Authorization: `Bearer ${token}` }',
      'AKIA is the prefix of AWS access key ids',
      'task-1234567890abcdefghij has a digit but no sk- prefix at a word start',
    ].join('\n');
    assert.equal(redact(text), text);
  });

  it('removes the exact secret values it was given, longest first, regex characters included', () => {
    const r = createRedactor({ secrets: ['p4ss.word+(1)', 'p4ss.word+(1)-and-more', ''] });
    assert.equal(r.redact('a p4ss.word+(1)-and-more b p4ss.word+(1) c p4ssXword+(1)'), `a ${REDACTED} b ${REDACTED} c p4ssXword+(1)`);
  });

  it('survives adversarial inputs with the right answer', () => {
    const { redact } = createRedactor({ secrets: ['aaaaaaaaab'] });
    const spaces = `Authorization:${' '.repeat(100_000)}\n`;
    assert.equal(redact(spaces), spaces);
    const dashes = `sk-${'-'.repeat(100_000)}`;
    assert.equal(redact(dashes), dashes);
    const almost = 'a'.repeat(100_000);
    assert.equal(redact(almost), almost);
    const begins = '-----BEGIN PRIVATE KEY-----'.repeat(2_000);
    assert.equal(redact(begins), REDACTED);
    const nearMisses = 'sk-'.repeat(50_000);
    assert.equal(redact(nearMisses), nearMisses);
    const bearers = 'Bearer-Bearer-'.repeat(10_000);
    assert.equal(redact(bearers), bearers);
    const bearer = `Bearer ${'x'.repeat(100_000)}`;
    assert.equal(redact(bearer), bearer, 'no digit: not a token');
  });
});

describe('redactDeep', () => {
  const secret = 'correct-horse-battery-staple';
  const { redactDeep } = createRedactor({ secrets: [secret] });

  it('redacts strings at any depth and keeps other values', () => {
    const input = {
      type: 'tool.completed',
      seq: 7,
      isError: false,
      nothing: null,
      output: `key is ${secret}`,
      meta: { lines: [`${OPENAI_LEGACY}`, 42, { deeper: [`Bearer ${JWT}`] }] },
    };
    assert.deepEqual(redactDeep(input), {
      type: 'tool.completed',
      seq: 7,
      isError: false,
      nothing: null,
      output: `key is ${REDACTED}`,
      meta: { lines: [REDACTED, 42, { deeper: [`Bearer ${REDACTED}`] }] },
    });
  });

  it('never mutates its input', () => {
    const input = { a: [`x ${secret}`, { b: secret }], c: { headers: { authorization: 'Basic abc' } } };
    const before = structuredClone(input);
    const out = redactDeep(input);
    assert.deepEqual(input, before);
    assert.notEqual(out, input);
    assert.notEqual(out.a, input.a);
    assert.notEqual(out.a[1], input.a[1]);
  });

  it('replaces whole string values under credential-named keys', () => {
    const out = redactDeep({ headers: { Authorization: 'Basic Zm9vOmJhcg==', 'x-api-key': 'short', accept: 'json' }, apiKey: 'abc', primary_key: 'id' });
    assert.deepEqual(out, { headers: { Authorization: REDACTED, 'x-api-key': REDACTED, accept: 'json' }, apiKey: REDACTED, primary_key: 'id' });
  });

  it('turns errors into plain redacted objects and copes with cycles', () => {
    const err = Object.assign(new Error(`auth failed for ${secret}`), { status: 401 });
    const out = redactDeep({ err }) as unknown as { err: Record<string, unknown> };
    assert.equal(out.err['name'], 'Error');
    assert.equal(out.err['message'], `auth failed for ${REDACTED}`);
    assert.equal(out.err['status'], 401);
    assert.ok(typeof out.err['stack'] === 'string' && !(out.err['stack'] as string).includes(secret));

    const loop: Record<string, unknown> = { name: secret };
    loop['self'] = loop;
    const copy = redactDeep(loop);
    assert.equal(copy['name'], REDACTED);
    assert.equal(copy['self'], copy);
  });

  it('redacts a bare string', () => {
    assert.equal(redactDeep(`x${secret}x`), `x${REDACTED}x`);
  });
});

describe('secretsFromEnv', () => {
  it('collects values of credential-named variables, long enough to be safe to replace', () => {
    const env = {
      OPENAI_API_KEY: OPENAI_LEGACY,
      ANTHROPIC_API_KEY: ANTHROPIC,
      GITHUB_TOKEN: GITHUB_CLASSIC,
      CLIENT_SECRET: 'a-long-client-secret',
      DB_PASSWORD: 'swordfish-42\n',
      SHORT_TOKEN: 'abc',
      EMPTY_KEY: '',
      UNSET_KEY: undefined,
      PATH: '/usr/local/bin:/usr/bin',
      HOME: '/home/someone-with-a-long-name',
      KEYBOARD: 'us-international-layout',
    };
    assert.deepEqual(secretsFromEnv(env).sort(), [ANTHROPIC, 'a-long-client-secret', GITHUB_CLASSIC, OPENAI_LEGACY, 'swordfish-42'].sort());
  });

  it('skips values shorter than MIN_SECRET_LENGTH and de-duplicates', () => {
    const short = 'x'.repeat(MIN_SECRET_LENGTH - 1);
    const exact = 'y'.repeat(MIN_SECRET_LENGTH);
    assert.deepEqual(secretsFromEnv({ A_KEY: short, B_KEY: exact, C_TOKEN: exact }), [exact]);
  });

  it('feeds a redactor that removes those values', () => {
    const env = { MY_SERVICE_TOKEN: 'plain-looking-value-9' };
    const { redact } = createRedactor({ secrets: secretsFromEnv(env) });
    assert.equal(redact('using plain-looking-value-9 now'), `using ${REDACTED} now`);
  });
});
