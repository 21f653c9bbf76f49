import assert from 'node:assert/strict';
import type { LogLevel } from '../../src/core/log/logger.ts';
import { createJsonLogger, nullLogger } from '../../src/core/log/logger.ts';
import { REDACTED, createRedactor } from '../../src/core/redact.ts';

const NOW = new Date('2025-03-04T05:06:07.089Z');

function recording(level?: LogLevel, secrets: string[] = []) {
  const lines: string[] = [];
  const logger = createJsonLogger({
    sink: (line) => lines.push(line),
    ...(level && { level }),
    redactor: createRedactor({ secrets }),
    now: () => NOW,
  });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('createJsonLogger', () => {
  it('writes one JSON object per line: time, level, msg, then fields', () => {
    const { logger, lines, records } = recording('debug');
    logger.info('run started', { runId: 'r1', steps: 3, ok: true });
    logger.debug('multi\nline message', { text: 'a\nb' });
    assert.equal(lines.length, 2);
    for (const line of lines) assert.ok(!line.includes('\n'), 'a record never spans lines');
    assert.equal(lines[0], '{"time":"2025-03-04T05:06:07.089Z","level":"info","msg":"run started","runId":"r1","steps":3,"ok":true}');
    assert.deepEqual(records()[1], { time: NOW.toISOString(), level: 'debug', msg: 'multi\nline message', text: 'a\nb' });
  });

  it('drops lines below the configured level (default info)', () => {
    const levels: LogLevel[] = ['debug', 'info', 'warn', 'error'];
    const emitAll = (logger: ReturnType<typeof recording>['logger']) => levels.forEach((l) => logger[l](l));
    const warn = recording('warn');
    emitAll(warn.logger);
    assert.deepEqual(warn.records().map((r) => r['level']), ['warn', 'error']);
    const byDefault = recording();
    emitAll(byDefault.logger);
    assert.deepEqual(byDefault.records().map((r) => r['level']), ['info', 'warn', 'error']);
    const all = recording('debug');
    emitAll(all.logger);
    assert.deepEqual(all.records().map((r) => r['msg']), levels);
  });

  it('adds child bindings to every line; fields override bindings, inner children override outer', () => {
    const { logger, records } = recording();
    const run = logger.child({ runId: 'r1', component: 'runtime' });
    const agent = run.child({ agentId: 'dev', component: 'agent' });
    agent.info('turn', { step: 2 });
    agent.info('override', { agentId: 'qa' });
    run.warn('plain');
    logger.info('root');
    assert.deepEqual(records().map(({ time: _t, ...rest }) => rest), [
      { level: 'info', msg: 'turn', runId: 'r1', component: 'agent', agentId: 'dev', step: 2 },
      { level: 'info', msg: 'override', runId: 'r1', component: 'agent', agentId: 'qa' },
      { level: 'warn', msg: 'plain', runId: 'r1', component: 'runtime' },
      { level: 'info', msg: 'root' },
    ]);
  });

  it('never lets bindings or fields overwrite time, level or msg', () => {
    const { logger, records } = recording();
    logger.child({ level: 'debug' }).error('real', { msg: 'fake', time: 'then' });
    assert.deepEqual(records()[0], { time: NOW.toISOString(), level: 'error', msg: 'real', _level: 'debug', _msg: 'fake', _time: 'then' });
  });

  it('redacts the message, fields and bindings', () => {
    const secret = 'sekrit-value-123456';
    const { logger, lines } = recording('info', [secret]);
    logger
      .child({ apiKeyHint: `${secret}!` })
      .info(`calling with ${secret}`, { headers: { authorization: 'Basic abc' }, args: [`Bearer eyJhbGciOi.J9x1`, secret] });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes(secret));
    assert.ok(!lines[0]!.includes('Basic abc'));
    assert.deepEqual(JSON.parse(lines[0]!), {
      time: NOW.toISOString(),
      level: 'info',
      msg: `calling with ${REDACTED}`,
      apiKeyHint: `${REDACTED}!`,
      headers: { authorization: REDACTED },
      args: [`Bearer ${REDACTED}`, REDACTED],
    });
  });

  it('serialises errors, bigints and cycles instead of throwing', () => {
    const { logger, records } = recording();
    const cause = new Error('socket hang up');
    const err = Object.assign(new Error('request failed', { cause }), { status: 503 });
    const loop: Record<string, unknown> = { id: 1 };
    loop['self'] = loop;
    logger.error('boom', { err, big: 12345678901234567890n, loop });
    const [r] = records();
    const e = r!['err'] as Record<string, unknown>;
    assert.equal(e['name'], 'Error');
    assert.equal(e['message'], 'request failed');
    assert.equal(e['status'], 503);
    assert.match(String(e['stack']), /request failed/);
    assert.equal((e['cause'] as Record<string, unknown>)['message'], 'socket hang up');
    assert.equal(r!['big'], '12345678901234567890');
    assert.deepEqual(r!['loop'], { id: 1, self: '[Circular]' });
  });

  it('swallows a failing sink', () => {
    const logger = createJsonLogger({
      sink: () => {
        throw new Error('channel closed');
      },
    });
    assert.doesNotThrow(() => logger.error('still fine'));
  });

  it('redacts well-known key shapes by default, without explicit secrets', () => {
    const lines: string[] = [];
    createJsonLogger({ sink: (l) => lines.push(l) }).info('key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789');
    assert.equal(JSON.parse(lines[0]!)['msg'], `key ${REDACTED}`);
  });
});

describe('nullLogger', () => {
  it('accepts every call, including children, and returns nothing', () => {
    assert.equal(nullLogger.info('x', { a: 1 }), undefined);
    const child = nullLogger.child({ runId: 'r1' });
    for (const level of ['debug', 'info', 'warn', 'error'] as const) assert.doesNotThrow(() => child[level]('x'));
  });
});
