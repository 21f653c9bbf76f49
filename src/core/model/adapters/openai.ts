/**
 * OpenAI Chat Completions behind ModelAdapter. The only module that imports
 * `openai`. Works against OpenAI and OpenAI-compatible servers (set baseURL to
 * the server's `/v1` root).
 *
 * Usage: OpenAI reports `prompt_tokens` including cached tokens. We report the
 * three input counts as disjoint parts, as Anthropic does, so cost is
 * `input*price + cacheRead*cachedPrice + cacheWrite*writePrice` without double
 * counting: inputTokens = prompt_tokens - cached_tokens - cache_write_tokens.
 */
import { randomUUID } from 'node:crypto';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { Message, ModelAdapter, ModelRequest, StreamPart, ToolSpec, Usage } from '../types.ts';
import { toModelError, truncatedStreamError, type SdkFailure } from './classify.ts';

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type ChatTool = OpenAI.Chat.Completions.ChatCompletionFunctionTool;
type ChatChunk = OpenAI.Chat.Completions.ChatCompletionChunk;
type StreamingParams = OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming;

export interface OpenAIAdapterOptions {
  apiKey: string;
  /** API root including `/v1`; the SDK default (api.openai.com) when absent. */
  baseURL?: string | undefined;
  organization?: string | undefined;
  project?: string | undefined;
}

/**
 * The SDK's timeout only covers waiting for response headers. The gateway owns
 * first-token/idle/total limits through the abort signal; this is a backstop.
 */
const BACKSTOP_TIMEOUT_MS = 30 * 60_000;

export class OpenAIAdapter implements ModelAdapter {
  readonly provider = 'openai' as const;
  readonly #client: OpenAI;

  constructor(options: OpenAIAdapterOptions) {
    // Every option is explicit (null rather than undefined) so the SDK never
    // falls back to reading process.env behind the factory's back.
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL ?? null,
      organization: options.organization ?? null,
      project: options.project ?? null,
      adminAPIKey: null,
      maxRetries: 0,
      timeout: BACKSTOP_TIMEOUT_MS,
    });
  }

  async *stream(req: ModelRequest, signal: AbortSignal): AsyncIterable<StreamPart> {
    const openedCalls = new Set<number>();
    let finishReason: string | undefined;
    let usage: Usage | undefined;
    try {
      const stream = await this.#client.chat.completions.create(toRequestBody(req), { signal });
      for await (const chunk of stream) {
        if (chunk.usage) usage = toUsage(chunk.usage);
        const choice = chunk.choices[0];
        if (!choice) continue;
        if (choice.delta.content) yield { type: 'text-delta', text: choice.delta.content };
        for (const call of choice.delta.tool_calls ?? []) yield* toolCallParts(call, openedCalls);
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    } catch (e) {
      throw toModelError('openai', failureOf(e), signal, e);
    }
    // The SDK ends iteration quietly on abort; finish_reason is the only proof
    // that the whole message arrived.
    if (signal.aborted || finishReason === undefined) throw truncatedStreamError('openai', signal);
    if (usage) yield { type: 'usage', usage };
    yield { type: 'finish', stopReason: finishReason };
  }
}

export function toRequestBody(req: ModelRequest): StreamingParams {
  const body: StreamingParams = {
    model: req.model,
    messages: toChatMessages(req.system, req.messages),
    // `max_tokens` is rejected by OpenAI's reasoning models; compatible servers
    // that predate `max_completion_tokens` ignore it rather than fail.
    max_completion_tokens: req.maxOutputTokens,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (req.tools.length > 0) body.tools = req.tools.map(toChatTool);
  return body;
}

function toChatTool(tool: ToolSpec): ChatTool {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.inputSchema } };
}

function toChatMessages(system: string, messages: readonly Message[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (system) out.push({ role: 'system', content: system });
  for (const m of messages) {
    switch (m.role) {
      case 'user':
        out.push({ role: 'user', content: m.content });
        break;
      case 'assistant':
        out.push({
          role: 'assistant',
          // null only beside tool calls: an assistant message needs one or the other.
          content: m.text === '' && m.toolCalls.length > 0 ? null : m.text,
          ...(m.toolCalls.length > 0 && {
            tool_calls: m.toolCalls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: replayableArgs(c.argsText) },
            })),
          }),
        });
        break;
      case 'tool':
        // The wire has no error flag for tool results: the runtime's content
        // has to say that the call failed.
        out.push({ role: 'tool', tool_call_id: m.callId, content: m.content });
        break;
    }
  }
  return out;
}

/**
 * Arguments sent back in history. Valid JSON objects go out byte-for-byte (a
 * stable prefix keeps provider caches warm); anything else becomes `{}`,
 * because some compatible servers parse history arguments and would reject
 * every later request of the conversation. The tool result that follows
 * already tells the model what was wrong with its call.
 */
function replayableArgs(argsText: string): string {
  try {
    const parsed: unknown = JSON.parse(argsText);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return argsText;
  } catch {
    // fall through
  }
  return '{}';
}

type ToolCallDelta = NonNullable<ChatChunk['choices'][number]['delta']['tool_calls']>[number];

/** The first delta of an index opens the call; later ones only carry argument text. */
function* toolCallParts(call: ToolCallDelta, openedCalls: Set<number>): Generator<StreamPart> {
  if (!openedCalls.has(call.index)) {
    openedCalls.add(call.index);
    // A few compatible servers omit ids; the runtime still needs one to pair the result.
    const id = call.id || `call_${randomUUID()}`;
    yield { type: 'tool-call-start', index: call.index, id, name: call.function?.name ?? '' };
  }
  const args = call.function?.arguments;
  if (args) yield { type: 'tool-call-delta', index: call.index, argsDelta: args };
}

function toUsage(u: OpenAI.Completions.CompletionUsage): Usage {
  const cacheReadTokens = u.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheWriteTokens = u.prompt_tokens_details?.cache_write_tokens ?? 0;
  return {
    inputTokens: Math.max(0, u.prompt_tokens - cacheReadTokens - cacheWriteTokens),
    outputTokens: u.completion_tokens,
    cacheReadTokens,
    cacheWriteTokens,
  };
}

function failureOf(e: unknown): SdkFailure {
  if (e instanceof APIUserAbortError) return { via: 'abort' };
  if (e instanceof APIConnectionError) return { via: 'connection', timedOut: e instanceof APIConnectionTimeoutError };
  if (e instanceof APIError) {
    return { via: 'api', fields: { status: e.status, type: e.type, code: e.code }, headers: e.headers };
  }
  return { via: 'transport' };
}
