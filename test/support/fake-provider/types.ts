/**
 * The fake provider's vocabulary: what it records about each request and what
 * a test's responder may answer with.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Message, Usage } from '../../../src/core/model/types.ts';

export type WireProvider = 'openai' | 'anthropic';

/** One request as the server received it, plus a view normalised to our Message shape. */
export interface FakeRequest {
  provider: WireProvider;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The parsed JSON body, for asserting on wire details (cache_control, tool_calls...). */
  body: Record<string, unknown>;
  model: string;
  /** All system text joined with blank lines ('' when none). */
  system: string;
  messages: Message[];
  /** Tool names, in request order. */
  tools: string[];
  stream: boolean;
}

export interface FakeToolCall {
  /** Defaults to a deterministic id derived from the turn index. */
  id?: string;
  name: string;
  /** An object is sent as JSON; a string is sent verbatim (so tests can send malformed JSON). */
  args: Record<string, unknown> | string;
}

/** What the model "says". Text and arguments are streamed in several small deltas. */
export interface FakeTurnContent {
  text?: string;
  toolCalls?: FakeToolCall[];
  /** Our Usage shape; translated to each wire's fields. Defaults are derived from sizes. */
  usage?: Partial<Usage>;
  /** Sent verbatim; defaults to the wire's "tool calls" or "end of turn" reason. */
  stopReason?: string;
  /** Pause before each SSE event (ms). */
  chunkDelayMs?: number;
}

export type FakeTurn = FakeTurnContent;

export interface FakeErrorSpec {
  status: number;
  type?: string;
  code?: string;
  message?: string;
}

/**
 * An HTTP error response. With `afterChunks`, a streaming request instead gets
 * a 200 stream of that many SSE events followed by an error event (the
 * provider failing mid-message); the turn content fills those events.
 */
export interface FakeError extends FakeTurnContent {
  error: FakeErrorSpec;
  /** Retry-After header, in seconds. */
  retryAfter?: number;
  /** retry-after-ms header. */
  retryAfterMs?: number;
  afterChunks?: number;
}

/** Headers and `afterChunks` SSE events (default 0), then silence until the client goes away. */
export interface FakeStall extends FakeTurnContent {
  stall: true;
  afterChunks?: number;
}

/**
 * `afterChunks` SSE events, then the socket is destroyed mid-stream; with
 * `graceful`, the response is ended properly instead (a proxy closing the
 * stream early), so only the missing end-of-message marker shows the loss.
 */
export interface FakeCut extends FakeTurnContent {
  cut: true;
  afterChunks: number;
  graceful?: boolean;
}

export type FakeResponse = FakeTurn | FakeError | FakeStall | FakeCut;

export type Responder = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

export function isFakeError(r: FakeResponse): r is FakeError {
  return 'error' in r;
}
export function isFakeStall(r: FakeResponse): r is FakeStall {
  return 'stall' in r && r.stall === true;
}
export function isFakeCut(r: FakeResponse): r is FakeCut {
  return 'cut' in r && r.cut === true;
}
