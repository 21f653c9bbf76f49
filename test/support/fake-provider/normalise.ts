/**
 * Reads either wire format's request body back into our Message shape, so
 * responders and assertions can be written once for both providers. Anything
 * the body does not say (OpenAI tool results carry no name or error flag) is
 * filled in from the conversation or left at its neutral value.
 */
import type { Message } from '../../../src/core/model/types.ts';
import type { WireProvider } from './types.ts';

export interface NormalisedBody {
  model: string;
  system: string;
  messages: Message[];
  tools: string[];
  stream: boolean;
}

type Json = Record<string, unknown>;

export function normaliseBody(provider: WireProvider, body: Json): NormalisedBody {
  return provider === 'openai' ? normaliseOpenAI(body) : normaliseAnthropic(body);
}

function normaliseOpenAI(body: Json): NormalisedBody {
  const system: string[] = [];
  const messages: Message[] = [];
  for (const m of arrayOf(body['messages'])) {
    const role = m['role'];
    if (role === 'system' || role === 'developer') system.push(textOf(m['content']));
    else if (role === 'user') messages.push({ role: 'user', content: textOf(m['content']) });
    else if (role === 'assistant') {
      const toolCalls = arrayOf(m['tool_calls']).map((c) => {
        const fn = objectOf(c['function']);
        return { id: String(c['id']), name: String(fn['name']), argsText: String(fn['arguments'] ?? '') };
      });
      messages.push({ role: 'assistant', text: textOf(m['content']), toolCalls });
    } else if (role === 'tool') {
      const callId = String(m['tool_call_id']);
      messages.push({ role: 'tool', callId, name: toolNameOf(messages, callId), content: textOf(m['content']), isError: false });
    }
  }
  const tools = arrayOf(body['tools']).map((t) => String(objectOf(t['function'])['name']));
  return { model: String(body['model']), system: system.join('\n\n'), messages, tools, stream: body['stream'] === true };
}

function normaliseAnthropic(body: Json): NormalisedBody {
  const messages: Message[] = [];
  for (const m of arrayOf(body['messages'])) {
    const blocks = typeof m['content'] === 'string' ? [{ type: 'text', text: m['content'] }] : arrayOf(m['content']);
    if (m['role'] === 'assistant') {
      const text = blocks.filter((b) => b['type'] === 'text').map((b) => String(b['text'])).join('');
      const toolCalls = blocks
        .filter((b) => b['type'] === 'tool_use')
        .map((b) => ({ id: String(b['id']), name: String(b['name']), argsText: JSON.stringify(b['input'] ?? {}) }));
      messages.push({ role: 'assistant', text, toolCalls });
      continue;
    }
    // A user turn: tool results become tool messages, runs of text one user message.
    let pendingText: string[] = [];
    const flushText = (): void => {
      if (pendingText.length > 0) messages.push({ role: 'user', content: pendingText.join('\n\n') });
      pendingText = [];
    };
    for (const b of blocks) {
      if (b['type'] === 'tool_result') {
        flushText();
        const callId = String(b['tool_use_id']);
        const content = textOf(b['content']);
        messages.push({ role: 'tool', callId, name: toolNameOf(messages, callId), content, isError: b['is_error'] === true });
      } else if (b['type'] === 'text') {
        pendingText.push(String(b['text']));
      }
    }
    flushText();
  }
  const tools = arrayOf(body['tools']).map((t) => String(t['name']));
  return {
    model: String(body['model']),
    system: textOf(body['system']),
    messages,
    tools,
    stream: body['stream'] === true,
  };
}

/** A string, or the text parts of a content array joined with blank lines. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return arrayOf(content)
    .filter((p) => p['type'] === 'text')
    .map((p) => String(p['text']))
    .join('\n\n');
}

function toolNameOf(messages: readonly Message[], callId: string): string {
  for (const m of messages) {
    if (m.role !== 'assistant') continue;
    const call = m.toolCalls.find((c) => c.id === callId);
    if (call) return call.name;
  }
  return '';
}

function arrayOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((v): v is Json => v !== null && typeof v === 'object') : [];
}

function objectOf(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}
