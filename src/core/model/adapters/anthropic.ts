/**
 * Anthropic Messages behind ModelAdapter. The only module that imports
 * `@anthropic-ai/sdk`.
 *
 * Usage: Anthropic's input_tokens already excludes cache reads and cache
 * writes, so the three input counts are disjoint as the Usage type expects.
 */
import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { Message, ModelAdapter, ModelRequest, StreamPart, ToolSpec, Usage } from '../types.ts';
import { toModelError, truncatedStreamError, type SdkFailure } from './classify.ts';

/** The block kinds we send; all of them accept cache_control. */
type WireBlock = Anthropic.TextBlockParam | Anthropic.ToolUseBlockParam | Anthropic.ToolResultBlockParam;
interface WireMessage {
  role: 'user' | 'assistant';
  content: WireBlock[];
}
type StreamingParams = Anthropic.MessageCreateParamsStreaming;

export interface AnthropicAdapterOptions {
  apiKey: string;
  /** Server root without `/v1` (the SDK appends `/v1/messages`). */
  baseURL?: string | undefined;
}

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** Covers waiting for headers only; the gateway's abort signal owns the real limits. */
const BACKSTOP_TIMEOUT_MS = 30 * 60_000;
const EPHEMERAL = { type: 'ephemeral' } as const;

export class AnthropicAdapter implements ModelAdapter {
  readonly provider = 'anthropic' as const;
  readonly #client: Anthropic;

  constructor(options: AnthropicAdapterOptions) {
    // An explicit key and base URL keep the SDK from consulting process.env or
    // its credential-profile chain behind the factory's back.
    this.#client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: options.baseURL ?? DEFAULT_BASE_URL,
      maxRetries: 0,
      timeout: BACKSTOP_TIMEOUT_MS,
    });
  }

  async *stream(req: ModelRequest, signal: AbortSignal): AsyncIterable<StreamPart> {
    /** Content-block index → tool-call ordinal (text blocks share the index space). */
    const toolOrdinal = new Map<number, number>();
    const usage: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    let stopReason: string | undefined;
    let complete = false;
    try {
      const stream = await this.#client.messages.create(toRequestBody(req), { signal });
      for await (const event of stream) {
        switch (event.type) {
          case 'message_start':
            Object.assign(usage, readUsage(event.message.usage));
            break;
          case 'content_block_start':
            if (event.content_block.type === 'tool_use') {
              const ordinal = toolOrdinal.size;
              toolOrdinal.set(event.index, ordinal);
              yield { type: 'tool-call-start', index: ordinal, id: event.content_block.id, name: event.content_block.name };
            }
            break;
          case 'content_block_delta': {
            const { delta } = event;
            if (delta.type === 'text_delta' && delta.text) yield { type: 'text-delta', text: delta.text };
            const ordinal = toolOrdinal.get(event.index);
            if (delta.type === 'input_json_delta' && ordinal !== undefined && delta.partial_json) {
              yield { type: 'tool-call-delta', index: ordinal, argsDelta: delta.partial_json };
            }
            break;
          }
          case 'message_delta':
            // Counts here are cumulative for the message, so they replace the start's.
            Object.assign(usage, readUsage(event.usage));
            if (event.delta.stop_reason) stopReason = event.delta.stop_reason;
            break;
          case 'message_stop':
            complete = true;
            break;
        }
      }
    } catch (e) {
      throw toModelError('anthropic', failureOf(e), signal, e);
    }
    // The SDK ends iteration quietly on abort; message_stop is the only proof
    // that the whole message arrived.
    if (signal.aborted || !complete) throw truncatedStreamError('anthropic', signal);
    yield { type: 'usage', usage };
    yield { type: 'finish', stopReason: stopReason ?? 'end_turn' };
  }
}

interface WireUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/** Only the fields the event actually carries, so a later event cannot zero an earlier count. */
function readUsage(u: WireUsage): Partial<Usage> {
  const out: Partial<Usage> = {};
  if (u.input_tokens != null) out.inputTokens = u.input_tokens;
  if (u.output_tokens != null) out.outputTokens = u.output_tokens;
  if (u.cache_read_input_tokens != null) out.cacheReadTokens = u.cache_read_input_tokens;
  if (u.cache_creation_input_tokens != null) out.cacheWriteTokens = u.cache_creation_input_tokens;
  return out;
}

/**
 * With `req.cache`, three cache breakpoints (the API allows four): the system
 * block and the last tool mark the stable prefix; the last block of the last
 * message moves with the conversation, so each turn reads the previous turn's
 * prefix and writes its own.
 */
export function toRequestBody(req: ModelRequest): StreamingParams {
  const cache = req.cache === true;
  const messages = toWireMessages(req.messages);
  const lastBlock = messages.at(-1)?.content.at(-1);
  if (cache && lastBlock) lastBlock.cache_control = EPHEMERAL;
  const body: StreamingParams = { model: req.model, max_tokens: req.maxOutputTokens, messages, stream: true };
  if (req.system) body.system = [{ type: 'text', text: req.system, ...(cache && { cache_control: EPHEMERAL }) }];
  if (req.tools.length > 0) {
    body.tools = req.tools.map((t, i) => toWireTool(t, cache && i === req.tools.length - 1));
  }
  return body;
}

function toWireTool(tool: ToolSpec, breakpoint: boolean): Anthropic.Tool {
  return {
    name: tool.name,
    description: tool.description,
    input_schema: { ...tool.inputSchema, type: 'object' },
    ...(breakpoint && { cache_control: EPHEMERAL }),
  };
}

/**
 * Consecutive messages that land on the same wire role merge into one message
 * (a run of tool results becomes one user message of tool_result blocks, as
 * the API requires after a tool_use turn). Blocks that would be empty are left
 * out, since the API rejects empty text and empty messages.
 */
function toWireMessages(messages: readonly Message[]): WireMessage[] {
  const out: WireMessage[] = [];
  for (const m of messages) {
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    const blocks = toBlocks(m);
    if (blocks.length === 0) continue;
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  return out;
}

function toBlocks(m: Message): WireBlock[] {
  switch (m.role) {
    case 'user':
      return m.content === '' ? [] : [{ type: 'text', text: m.content }];
    case 'tool':
      return [{ type: 'tool_result', tool_use_id: m.callId, content: m.content, ...(m.isError && { is_error: true }) }];
    case 'assistant': {
      const blocks: WireBlock[] = m.text === '' ? [] : [{ type: 'text', text: m.text }];
      for (const c of m.toolCalls) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: toolInput(c.argsText) });
      return blocks;
    }
  }
}

/**
 * tool_use.input must be an object. Arguments that are not a JSON object go
 * back as `{}`: the tool result that follows already tells the model what was
 * wrong, and echoing a wrapped copy of the broken text would invite the model
 * to imitate that shape in later calls.
 */
function toolInput(argsText: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(argsText);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  return {};
}

function failureOf(e: unknown): SdkFailure {
  if (e instanceof APIUserAbortError) return { via: 'abort' };
  if (e instanceof APIConnectionError) return { via: 'connection', timedOut: e instanceof APIConnectionTimeoutError };
  if (e instanceof APIError) {
    return { via: 'api', fields: { status: e.status, type: e.type, code: e.errorCode }, headers: e.headers, detail: e.apiMessage };
  }
  return { via: 'transport' };
}
