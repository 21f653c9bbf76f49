/**
 * Context compaction. When an agent's prompt nears its context budget, the
 * older part of its conversation is replaced by a model-written summary so the
 * run continues instead of failing. The task message and a recent tail are
 * kept verbatim; the cut always lands on an assistant message, so no tool
 * result is separated from the call it answers.
 */
import type { Message } from '../model/types.ts';
import { renderTemplate } from '../prompts/render.ts';
import type { AgentState } from './fold.ts';
import type { RunContext } from './run-context.ts';
import requestTemplate from './prompts/compaction-request.njk';
import systemTemplate from './prompts/compaction-system.njk';

/** Compact when the prompt estimate passes this share of the context window. */
export const COMPACT_AT = 0.7;
/** Keep roughly this share of the window as the verbatim recent tail. */
const KEEP_TAIL = 0.25;
const PER_MESSAGE_CHARS = 2000;
const CHARS_PER_TOKEN = 4;

export function estimateTokens(system: string, messages: Message[]): number {
  let chars = system.length;
  for (const m of messages) chars += messageText(m).length + 16;
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

function messageText(m: Message): string {
  if (m.role === 'user') return m.content;
  if (m.role === 'tool') return m.content;
  return m.text + m.toolCalls.map((c) => `${c.name}(${c.argsText})`).join('\n');
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n[... ${text.length - max} characters omitted ...]\n${text.slice(-half)}`;
}

function transcriptOf(messages: Message[]): string {
  return messages
    .map((m) => {
      if (m.role === 'user') return `[user]\n${clip(m.content, PER_MESSAGE_CHARS)}`;
      if (m.role === 'tool') return `[tool result: ${m.name}${m.isError ? ', error' : ''}]\n${clip(m.content, PER_MESSAGE_CHARS)}`;
      const calls = m.toolCalls.map((c) => `[call ${c.name}] ${clip(c.argsText, PER_MESSAGE_CHARS)}`).join('\n');
      return `[assistant]\n${clip(m.text, PER_MESSAGE_CHARS)}${calls ? `\n${calls}` : ''}`;
    })
    .join('\n\n');
}

/**
 * Index of the first kept message: an assistant message such that the kept
 * tail fits in `tailTokens`, leaving at least two messages to replace.
 * Returns undefined when there is nothing worth compacting.
 */
export function chooseCut(messages: Message[], tailTokens: number): number | undefined {
  let tail = 0;
  let cut: number | undefined;
  for (let i = messages.length - 1; i >= 3; i--) {
    tail += estimateTokens('', [messages[i]!]);
    if (messages[i]!.role === 'assistant') {
      if (tail > tailTokens && cut !== undefined) break;
      cut = i;
    }
  }
  return cut;
}

export async function compactIfNeeded(ctx: RunContext, agent: AgentState, opts: { force?: boolean } = {}): Promise<void> {
  const window = agent.model.contextTokens ?? ctx.deps.contextWindowOf(agent.model.model);
  const estimate = Math.max(agent.lastPromptTokens, estimateTokens(agent.system, agent.messages));
  if (!opts.force && (!window || estimate < window * COMPACT_AT)) return;
  const tailBudget = window ? window * KEEP_TAIL : estimate * KEEP_TAIL;
  const cut = chooseCut(agent.messages, tailBudget);
  if (cut === undefined) return;
  const replaced = agent.messages.slice(1, cut);
  const prompt = renderTemplate(requestTemplate, { role: agent.role, task: agent.task, transcript: transcriptOf(replaced) });
  const result = await ctx.models.call(
    agent.model.provider,
    { model: agent.model.model, system: renderTemplate(systemTemplate, {}), messages: [{ role: 'user', content: prompt }], tools: [], maxOutputTokens: 2048 },
    ctx.signal,
  );
  ctx.recorder.record({
    type: 'context.compacted',
    agentId: agent.id,
    replacedMessages: replaced.length,
    summary: result.text,
    tokensBefore: estimate,
    usage: result.usage,
    costUsd: ctx.deps.priceOf(agent.model.model, result.usage),
  });
}
