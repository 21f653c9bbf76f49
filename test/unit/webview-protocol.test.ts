import assert from 'node:assert/strict';
import { errorReply, notificationMessage, okReply, requestMessage } from '../../src/protocol/envelope.ts';
import { notifications, requests } from '../../src/protocol/messages.ts';
import { contentSecurityPolicy, renderPage } from '../../src/protocol/page.ts';
import { parseHostMessage, parseRequest, parseResult } from '../../src/protocol/validate.ts';
import { EventBuilder } from '../support/event-builder.ts';

function rejection(parsed: { ok: boolean; rejection?: { code: string; message: string; requestId?: string } }) {
  assert.equal(parsed.ok, false, 'expected a rejection');
  return parsed.rejection!;
}

describe('webview protocol: webview → host requests', () => {
  it('accepts a valid request and hands back typed, normalised params', () => {
    const parsed = parseRequest(requestMessage('chat-1', 'run/start', { goal: '  fix the test  ' }));
    assert.ok(parsed.ok);
    assert.equal(parsed.message.method, 'run/start');
    if (parsed.message.method === 'run/start') assert.equal(parsed.message.params.goal, 'fix the test');
  });

  it('rejects what is not a request at all, saying so', () => {
    for (const raw of [null, 'run/start', 42, { kind: 'notify', method: 'run/start', params: {} }]) {
      const r = rejection(parseRequest(raw));
      assert.equal(r.code, 'bad_message');
      assert.match(r.message, /not a request/);
      assert.equal(r.requestId, undefined);
    }
  });

  it('rejects an unknown method but keeps the id so the host can reply', () => {
    const r = rejection(parseRequest({ kind: 'request', id: 'chat-7', method: 'run/explode', params: {} }));
    assert.equal(r.code, 'unknown_method');
    assert.equal(r.requestId, 'chat-7');
    assert.match(r.message, /"run\/explode": no such method/);
  });

  it('rejects bad params naming the method and the field', () => {
    const empty = rejection(parseRequest(requestMessage('c-1', 'run/start', { goal: '   ' })));
    assert.equal(empty.code, 'bad_params');
    assert.equal(empty.requestId, 'c-1');
    assert.match(empty.message, /"run\/start": params\.goal: The goal must not be empty/);

    const wrongType = rejection(parseRequest({ kind: 'request', id: 'c-2', method: 'run/fork', params: { runId: 'r', step: -1 } }));
    assert.match(wrongType.message, /"run\/fork": params\.step/);

    const extra = rejection(parseRequest({ kind: 'request', id: 'c-3', method: 'history/list', params: { all: true } }));
    assert.match(extra.message, /"history\/list"/);

    const action = rejection(parseRequest({ kind: 'request', id: 'c-4', method: 'action/invoke', params: { action: 'rm -rf' } }));
    assert.match(action.message, /params\.action/);
  });

  it('has a params and a result schema for every request, and a params schema for every notification', () => {
    for (const [method, spec] of Object.entries(requests)) {
      assert.match(method, /^[a-z]+\/[a-z-]+$/, `${method} is namespaced`);
      assert.ok(spec.params && spec.result, method);
    }
    for (const method of Object.keys(notifications)) assert.match(method, /^[a-z]+\/[a-z-]+$/);
  });
});

describe('webview protocol: host → webview messages', () => {
  const events = new EventBuilder({ runId: 'run-1' }).runStarted('goal').agentStarted('o', 'orchestrator').build();

  it('accepts notifications carrying RunEvents and applies the event schema (defaults included)', () => {
    const raw = JSON.parse(JSON.stringify(notificationMessage('transcript/append', { runId: 'run-1', events })));
    delete raw.params.events[0].v;
    const parsed = parseHostMessage(raw);
    assert.ok(parsed.ok);
    assert.equal(parsed.message.kind, 'notify');
    if (parsed.message.kind === 'notify' && parsed.message.method === 'transcript/append') {
      assert.equal(parsed.message.params.events.length, 2);
      assert.equal(parsed.message.params.events[0]!.v, 1);
    }
  });

  it('rejects an event that breaks the RunEvent schema, pointing at it', () => {
    const bad = JSON.parse(JSON.stringify(events));
    bad[1].seq = 0;
    const r = rejection(parseHostMessage(notificationMessage('transcript/reset', { runId: 'run-1', events: bad })));
    assert.equal(r.code, 'bad_params');
    assert.match(r.message, /"transcript\/reset": params\.events\.1\.seq/);
  });

  it('rejects an unknown event type and an unknown notification', () => {
    const bad = [{ ...events[0], type: 'model.hallucinated' }];
    assert.equal(rejection(parseHostMessage(notificationMessage('transcript/append', { runId: 'run-1', events: bad as never }))).code, 'bad_params');
    assert.equal(rejection(parseHostMessage({ kind: 'notify', method: 'transcript/replace', params: {} })).code, 'unknown_method');
  });

  it('rejects an empty append: deltas, never nothing', () => {
    assert.match(rejection(parseHostMessage({ kind: 'notify', method: 'transcript/append', params: { runId: 'r', events: [] } })).message, /params\.events/);
  });

  it('accepts ok and error replies, and checks a reply value against its method', () => {
    const ok = parseHostMessage(okReply('chat-1', 'run/start', { runId: 'run-9' }));
    assert.ok(ok.ok && ok.message.kind === 'reply');
    const err = parseHostMessage(errorReply('chat-2', { code: 'untrusted', message: 'Runs are disabled.', actions: ['manageTrust'] }));
    assert.ok(err.ok);
    assert.equal(rejection(parseHostMessage({ kind: 'reply', id: 'x', result: { ok: false, error: { code: 'oops', message: 'm' } } })).code, 'bad_message');

    assert.ok(parseResult('trace/get', { runId: 'r', events }).ok);
    const r = rejection(parseResult('trace/get', { runId: 'r', events: 'all of them' }));
    assert.equal(r.code, 'bad_result');
    assert.match(r.message, /"trace\/get": value\.events/);
  });
});

describe('webview page shell', () => {
  it('allows one nonce\'d script and the webview source only', () => {
    const csp = contentSecurityPolicy('https://x.vscode-cdn.net', 'abcdefghijklmnop0123');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abcdefghijklmnop0123'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = renderPage({ view: 'chat', title: 'Crewbox', cspSource: 'https://x.vscode-cdn.net', nonce: 'abcdefghijklmnop0123', scriptUri: 'https://x/chat.js', styleUri: 'https://x/chat.css' });
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.match(html, /<script nonce="abcdefghijklmnop0123" src="https:\/\/x\/chat.js">/);
    assert.doesNotMatch(html, /style=/);
  });

  it('refuses a nonce or source that could break out of the policy', () => {
    assert.throws(() => contentSecurityPolicy('https://x', "short'"), /nonce/);
    assert.throws(() => contentSecurityPolicy("https://x; script-src *", 'abcdefghijklmnop0123'), /CSP source/);
  });
});
