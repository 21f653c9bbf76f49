/**
 * Provider-neutral model types. Adapters (one per vendor SDK) translate these
 * to and from the wire; nothing outside src/core/model/adapters sees a vendor type.
 */
import type { ProviderName, ToolCallRecord, Usage } from '../events/schema.ts';

export type { Usage, ToolCallRecord };

/** Conversation messages as the runtime keeps them (system prompt is separate). */
export type Message =
  | { role: 'user'; content: string }
  | { role: 'assistant'; text: string; toolCalls: ToolCallRecord[] }
  | { role: 'tool'; callId: string; name: string; content: string; isError: boolean };

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema (object) generated from the tool's zod schema. */
  inputSchema: Record<string, unknown>;
}

export interface ModelRequest {
  model: string;
  system: string;
  messages: Message[];
  tools: ToolSpec[];
  maxOutputTokens: number;
  /** Ask the adapter to mark cache breakpoints (Anthropic cache_control). */
  cache?: boolean;
}

/** Normalised streaming parts; both wire formats map onto these. */
export type StreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-start'; index: number; id: string; name: string }
  | { type: 'tool-call-delta'; index: number; argsDelta: string }
  | { type: 'usage'; usage: Partial<Usage> }
  | { type: 'finish'; stopReason: string };

/**
 * One vendor SDK behind a narrow port. Contract: `stream` performs exactly one
 * attempt (the SDK's own retries disabled), yields parts as they arrive, honours
 * `signal`, and throws only ModelError (classified from status/type/code, never
 * from message text).
 */
export interface ModelAdapter {
  readonly provider: ProviderName;
  stream(req: ModelRequest, signal: AbortSignal): AsyncIterable<StreamPart>;
}

/** The assembled result of one model call. */
export interface ModelTurnResult {
  text: string;
  toolCalls: ToolCallRecord[];
  stopReason: string;
  usage: Usage;
  attempts: number;
  durationMs: number;
  ttftMs?: number;
}
