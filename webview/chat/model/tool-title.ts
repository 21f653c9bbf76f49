/**
 * One line that says what a tool call does, from its arguments: the command,
 * the path, the pattern, or for `delegate` who gets which task.
 */
import { oneLine } from '../../shared/format.ts';

const MAIN_ARGUMENT = ['command', 'path', 'pattern', 'task', 'question', 'summary'] as const;

export function toolTitle(name: string, args: unknown): string {
  if (!args || typeof args !== 'object') return args === undefined ? '' : oneLine(String(args), 160);
  const a = args as Record<string, unknown>;
  if (name === 'delegate' && typeof a['agent'] === 'string') {
    return oneLine(`${a['agent']}: ${typeof a['task'] === 'string' ? a['task'] : ''}`, 160);
  }
  for (const key of MAIN_ARGUMENT) {
    const value = a[key];
    if (typeof value === 'string') return oneLine(value, 160);
  }
  return oneLine(JSON.stringify(args), 160);
}

/** The title from the raw JSON text of the arguments; empty while it does not parse (still streaming). */
export function toolTitleFromText(name: string, argsText: string): string {
  try {
    return toolTitle(name, JSON.parse(argsText));
  } catch {
    return '';
  }
}
