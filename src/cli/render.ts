/**
 * Human-readable live progress for the terminal: one line per meaningful
 * event (agent, tool, short output), indented by delegation depth. Token
 * deltas are not printed one by one; the model's text is printed per turn.
 */
import type { RunEvent } from '../core/events/schema.ts';

export interface ProgressWriter {
  (line: string): void;
}

const MAX_LINE = 160;

function oneLine(text: string, max = MAX_LINE): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function argsPreview(args: unknown): string {
  if (!args || typeof args !== 'object') return oneLine(String(args ?? ''), 80);
  const a = args as Record<string, unknown>;
  const main = a['command'] ?? a['path'] ?? a['pattern'] ?? a['task'] ?? a['question'] ?? a['summary'];
  return oneLine(typeof main === 'string' ? main : JSON.stringify(args), 100);
}

export function createProgressRenderer(write: ProgressWriter): (e: RunEvent) => void {
  const depth = new Map<string, number>();
  const pad = (agentId: string | undefined) => '  '.repeat(agentId ? depth.get(agentId) ?? 0 : 0);
  return (e) => {
    const p = pad(e.agentId);
    switch (e.type) {
      case 'run.started':
        write(`▶ run ${e.runId}: ${oneLine(e.goal)}`);
        break;
      case 'run.resumed':
        write(`▶ resumed${e.message ? `: ${oneLine(e.message)}` : ''}`);
        break;
      case 'agent.started':
        depth.set(e.agentId!, e.parentAgentId ? (depth.get(e.parentAgentId) ?? 0) + 1 : 0);
        write(`${pad(e.agentId)}● ${e.role} (${e.model.model})${e.parentAgentId ? `: ${oneLine(e.task, 120)}` : ''}`);
        break;
      case 'model.turn':
        if (e.text.trim()) write(`${p}  ${oneLine(e.text)}`);
        break;
      case 'model.retry':
        write(`${p}  ↻ model ${e.errorKind}, retry ${e.attempt} in ${Math.round(e.delayMs / 100) / 10} s`);
        break;
      case 'tool.started':
        if (e.name !== 'finish') write(`${p}  → ${e.name} ${argsPreview(e.args)}`);
        break;
      case 'tool.completed': {
        if (e.name === 'delegate' || (e.name === 'finish' && !e.isError)) break;
        const exit = typeof e.meta?.['exitCode'] === 'number' ? ` exit ${e.meta['exitCode']}` : '';
        // The first line of real output, past run_command's own headers.
        const first = e.output.split('\n').find((l) => l.trim() && !/^(Exit code:|--- std(out|err) ---|> )/.test(l.trim())) ?? '';
        write(`${p}    ${e.isError ? '✗' : '✓'}${exit} ${oneLine(first, 120)}`);
        break;
      }
      case 'agent.finished':
        write(`${p}✔ ${oneLine(e.summary)}${e.verdict ? ` [verdict: ${e.verdict}]` : ''}`);
        break;
      case 'ask_user.asked':
        write(`${p}? ${e.question}`);
        break;
      case 'user.message':
        if (e.origin === 'user') write(`${p}» ${oneLine(e.text)}`);
        break;
      case 'budget.warning':
        write(`! budget ${e.reason}: ${Math.round(e.used)} of ${Math.round(e.limit)}`);
        break;
      case 'loop.warning':
        write(`${p}! repeated call (${e.count}×): ${oneLine(e.signature, 100)}`);
        break;
      case 'context.compacted':
        write(`${p}  ⇢ compacted ${e.replacedMessages} messages`);
        break;
      case 'error':
        write(`✗ ${e.kind}: ${oneLine(e.message, 300)}`);
        break;
      case 'run.interrupted':
        write(`■ interrupted: ${e.reason}`);
        break;
      case 'run.discarded':
        write('■ discarded: the proposed changes will not be applied');
        break;
      case 'run.finished':
        write(`■ ${e.status}${e.verdict ? ` (tester verdict: ${e.verdict})` : ''}: ${oneLine(e.summary, 300)}`);
        break;
      default:
        break;
    }
  };
}
