/**
 * A real HTTP server on 127.0.0.1 (random port) that speaks both providers'
 * wire formats, so the real SDK clients are exercised end to end:
 *   POST /v1/chat/completions  (OpenAI; client baseURL `${url}/v1`)
 *   POST /v1/messages          (Anthropic; client baseURL `${url}`)
 * Every request is recorded before the responder sees it. If the responder
 * throws, the client gets a 400 (not retryable, so a broken script fails the
 * run quickly) and the error is kept in `errors` for the test to report.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicErrorBody, anthropicEvents, anthropicMessage, anthropicStreamError, ANTHROPIC_ID_PREFIX } from './anthropic-wire.ts';
import { normaliseBody } from './normalise.ts';
import { openaiCompletion, openaiErrorBody, openaiEvents, openaiStreamError, OPENAI_ID_PREFIX } from './openai-wire.ts';
import { resolveTurn } from './turn.ts';
import {
  isFakeCut,
  isFakeError,
  isFakeStall,
  type FakeError,
  type FakeErrorSpec,
  type FakeRequest,
  type FakeResponse,
  type Responder,
  type WireProvider,
} from './types.ts';

export interface FakeProviderOptions {
  respond: Responder;
}

export interface FakeProvider {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly requests: FakeRequest[];
  /** Responder failures and encoding mistakes; a passing test expects this empty. */
  readonly errors: Error[];
  close(): Promise<void>;
}

const ROUTES: Readonly<Record<string, WireProvider>> = {
  '/v1/chat/completions': 'openai',
  '/v1/messages': 'anthropic',
};

export async function startFakeProvider(options: FakeProviderOptions): Promise<FakeProvider> {
  const requests: FakeRequest[] = [];
  const errors: Error[] = [];
  let messageCount = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const provider = req.method === 'POST' ? ROUTES[path] : undefined;
    const rawBody = await readBody(req);
    if (!provider) return sendJson(res, 404, { error: { type: 'not_found_error', message: `fake provider: no route ${req.method} ${path}` } });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(rawBody) as Record<string, unknown>;
    } catch {
      return sendError(res, provider, { status: 400, type: 'invalid_request_error', message: 'fake provider: body is not JSON' });
    }
    const request: FakeRequest = { provider, path, headers: req.headers, rawBody, body, ...normaliseBody(provider, body) };
    requests.push(request);
    try {
      const response = await options.respond(request);
      await send(res, request, response, ++messageCount);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      errors.push(error);
      if (res.headersSent) res.destroy();
      else sendError(res, provider, { status: 400, type: 'invalid_request_error', message: `fake provider: ${error.message}` });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      errors.push(e instanceof Error ? e : new Error(String(e)));
      res.destroy();
    });
  });
  await listen(server);
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    errors,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        // Stalled streams and pooled keep-alive sockets would hold close() open.
        server.closeAllConnections();
      }),
  };
}

async function send(res: ServerResponse, req: FakeRequest, response: FakeResponse, n: number): Promise<void> {
  if (isFakeError(response) && (response.afterChunks === undefined || !req.stream)) {
    return sendError(res, req.provider, response.error, retryHeaders(response));
  }
  const idPrefix = req.provider === 'openai' ? OPENAI_ID_PREFIX : ANTHROPIC_ID_PREFIX;
  const turn = resolveTurn(response, req, idPrefix);
  const id = req.provider === 'openai' ? `chatcmpl-fake-${n}` : `msg_fake_${n}`;
  const envelope = { id, model: req.model, created: Math.floor(Date.now() / 1000) };
  const closed = new Promise<void>((resolve) => res.once('close', resolve));

  if (!req.stream) {
    if (isFakeStall(response) || isFakeCut(response)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      if (isFakeCut(response)) res.socket?.destroy();
      return closed;
    }
    const body = req.provider === 'openai' ? openaiCompletion(turn, envelope) : anthropicMessage(turn, envelope);
    return sendJson(res, 200, body);
  }

  const includeUsage = (req.body['stream_options'] as { include_usage?: unknown } | undefined)?.include_usage === true;
  const events = req.provider === 'openai' ? openaiEvents(turn, envelope, includeUsage) : anthropicEvents(turn, envelope);
  const partial = isFakeStall(response) || isFakeCut(response) || isFakeError(response);
  const limit = partial ? (response.afterChunks ?? 0) : events.length;

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  let clientGone = false;
  void closed.then(() => (clientGone = true));
  for (const event of events.slice(0, limit)) {
    if (response.chunkDelayMs) await Promise.race([delay(response.chunkDelayMs), closed]);
    if (clientGone) return;
    // A failed write means the client went away, which is the client's story to tell, not a fake error.
    await new Promise<void>((resolve) => res.write(event, () => resolve()));
  }
  if (isFakeStall(response)) return closed;
  if (isFakeCut(response)) {
    if (response.graceful) res.end();
    else res.socket?.destroy();
    return;
  }
  if (isFakeError(response)) {
    res.end(req.provider === 'openai' ? openaiStreamError(response.error) : anthropicStreamError(response.error));
    return;
  }
  res.end();
}

function sendError(res: ServerResponse, provider: WireProvider, spec: FakeErrorSpec, headers: Record<string, string> = {}): void {
  sendJson(res, spec.status, provider === 'openai' ? openaiErrorBody(spec) : anthropicErrorBody(spec), headers);
}

function retryHeaders(response: FakeError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (response.retryAfter !== undefined) headers['retry-after'] = String(response.retryAfter);
  if (response.retryAfterMs !== undefined) headers['retry-after-ms'] = String(response.retryAfterMs);
  return headers;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
