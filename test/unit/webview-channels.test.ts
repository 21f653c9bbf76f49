import assert from 'node:assert/strict';
import { HostChannel, RequestFailed } from '../../src/protocol/host-channel.ts';
import type { HostChannelOptions, RequestHandlers } from '../../src/protocol/host-channel.ts';
import type { NotificationHandlers } from '../../src/protocol/webview-channel.ts';
import { WebviewChannel } from '../../src/protocol/webview-channel.ts';
import type { Rejection } from '../../src/protocol/validate.ts';

/**
 * Both ends wired through a JSON round trip (what postMessage does), with
 * recording hooks. Delivery is asynchronous, as in VS Code.
 */
function wire(handlers: RequestHandlers = {}, notificationHandlers: NotificationHandlers = {}, options: Partial<HostChannelOptions> = {}) {
  const log = { hostRejected: [] as Rejection[], webviewRejected: [] as Rejection[], handlerErrors: [] as string[], readyCalls: 0, toWebview: [] as unknown[], toHost: [] as unknown[] };
  let webview!: WebviewChannel;
  const host = new HostChannel(
    {
      post: async (m) => {
        log.toWebview.push(m);
        await Promise.resolve();
        webview.receive(JSON.parse(JSON.stringify(m)));
      },
    },
    handlers,
    {
      view: 'chat',
      trust: () => ({ trusted: true }),
      onReady: () => {
        log.readyCalls += 1;
      },
      onRejected: (r) => log.hostRejected.push(r),
      onHandlerError: (method) => log.handlerErrors.push(method),
      ...options,
    },
  );
  webview = new WebviewChannel(
    {
      post: (m) => {
        log.toHost.push(m);
        void Promise.resolve().then(() => host.receive(JSON.parse(JSON.stringify(m))));
      },
    },
    'chat',
    notificationHandlers,
    (r) => log.webviewRejected.push(r),
  );
  return { host, webview, log };
}

describe('webview protocol channels', () => {
  it('handshake: the host answers ui/ready, then sends state; nothing is sent before', async () => {
    const appended: string[] = [];
    const { host, webview, log } = wire({}, { 'transcript/reset': ({ runId }) => appended.push(String(runId)) });
    assert.equal(host.notify('transcript/reset', { runId: 'early', events: [] }), false);
    const ready = await webview.ready();
    assert.deepEqual(ready, { ok: true, value: { protocol: 1, trusted: true } });
    // onReady runs once the reply is posted, so the state follows the reply.
    await new Promise((r) => setImmediate(r));
    assert.equal(log.readyCalls, 1);
    assert.equal(host.isReady, true);
    assert.equal(host.notify('transcript/reset', { runId: 'after', events: [] }), true);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(appended, ['after']);
  });

  it('refuses a webview that speaks another protocol version or is the wrong view', async () => {
    const replies: unknown[] = [];
    const lone = new HostChannel({ post: (m) => void replies.push(m) }, {}, { view: 'history', trust: () => ({ trusted: true }), onReady: () => assert.fail('not ready'), onRejected: () => {}, onHandlerError: () => {} });
    await lone.receive({ kind: 'request', id: 'h-1', method: 'ui/ready', params: { view: 'history', protocol: 2 } });
    await lone.receive({ kind: 'request', id: 'h-2', method: 'ui/ready', params: { view: 'chat', protocol: 1 } });
    assert.equal(lone.isReady, false);
    assert.deepEqual(
      replies.map((r) => (r as { result: { ok: boolean; error?: { code: string } } }).result.error?.code),
      ['protocol_mismatch', 'protocol_mismatch'],
    );
  });

  it('routes a request to its handler and types the reply', async () => {
    const { webview } = wire({ 'run/start': ({ goal }) => ({ runId: `run-for-${goal}` }) });
    assert.deepEqual(await webview.request('run/start', { goal: 'tests' }), { ok: true, value: { runId: 'run-for-tests' } });
  });

  it('turns RequestFailed into an error reply with its actions, and a crash into "internal"', async () => {
    const { webview, log } = wire({
      'run/start': () => {
        throw new RequestFailed('failed', 'No API key is set for Anthropic.', ['setApiKey']);
      },
      'run/discard': () => {
        throw new TypeError('cannot read properties of undefined');
      },
    });
    assert.deepEqual(await webview.request('run/start', { goal: 'x' }), {
      ok: false,
      error: { code: 'failed', message: 'No API key is set for Anthropic.', actions: ['setApiKey'] },
    });
    const crash = await webview.request('run/discard', { runId: 'r' });
    assert.equal(crash.ok, false);
    if (!crash.ok) {
      assert.equal(crash.error.code, 'internal');
      assert.doesNotMatch(crash.error.message, /undefined/, 'internals are not shown to the user');
    }
    assert.deepEqual(log.handlerErrors, ['run/discard']);
  });

  it('answers a method the view host does not serve with "unsupported"', async () => {
    const { webview } = wire();
    const r = await webview.request('trace/export', { runId: 'r' });
    assert.equal(r.ok ? 'ok' : r.error.code, 'unsupported');
  });

  it('checks params before posting: an invalid request never leaves the webview', async () => {
    const { webview, log } = wire({ 'run/start': () => assert.fail('must not be called') });
    const r = await webview.request('run/start', { goal: '' });
    assert.equal(r.ok ? 'ok' : r.error.code, 'bad_request');
    assert.equal(log.toHost.length, 0);
  });

  it('replies to a malformed request whose id it can read, and reports it', async () => {
    const posted: unknown[] = [];
    const rejected: Rejection[] = [];
    const host = new HostChannel({ post: (m) => void posted.push(m) }, {}, { view: 'chat', trust: () => ({ trusted: true }), onReady: () => {}, onRejected: (r) => rejected.push(r), onHandlerError: () => {} });
    await host.receive({ kind: 'request', id: 'chat-3', method: 'run/answer', params: { runId: 'r', callId: 'c' } });
    await host.receive('garbage');
    assert.equal(posted.length, 1);
    assert.deepEqual((posted[0] as { id: string; result: { ok: boolean } }).id, 'chat-3');
    assert.match((posted[0] as { result: { error: { message: string } } }).result.error.message, /"run\/answer": params\.answer/);
    assert.deepEqual(rejected.map((r) => r.code), ['bad_params', 'bad_message']);
  });

  it('rejects a reply whose value does not match the method, and a reply nobody asked for', async () => {
    const { webview, log } = wire({ 'run/start': () => ({ runId: 42 }) as never });
    const r = await webview.request('run/start', { goal: 'x' });
    assert.equal(r.ok ? 'ok' : r.error.code, 'bad_reply');
    webview.receive({ kind: 'reply', id: 'chat-999', result: { ok: true, value: null } });
    assert.deepEqual(log.webviewRejected.map((x) => x.code), ['bad_result', 'bad_message']);
    assert.equal(webview.pendingCount, 0);
  });

  it('drops bad notifications without calling handlers', () => {
    const seen: unknown[] = [];
    const rejected: Rejection[] = [];
    const webview = new WebviewChannel({ post: () => {} }, 'chat', { 'status/update': (p) => seen.push(p) }, (r) => rejected.push(r));
    webview.receive({ kind: 'notify', method: 'status/update', params: { driving: 'yes', sandbox: { state: 'ready' } } });
    webview.receive({ kind: 'notify', method: 'status/update', params: { driving: true, sandbox: { state: 'ready' } } });
    assert.equal(seen.length, 1);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!.message, /params\.driving/);
  });
});
