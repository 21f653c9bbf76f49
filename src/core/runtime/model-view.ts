/**
 * What the model sees of durable records. Derived deterministically from the
 * log at fold time, so a resumed run shows the model exactly the same text.
 */
import { capToolOutput, fenceToolOutput } from '../tools/output.ts';
import { renderTemplate } from '../prompts/render.ts';
import summaryTemplate from './prompts/summary-message.njk';

export function modelViewOfToolResult(tool: string, output: string, isError: boolean, note: string | undefined): string {
  const body = fenceToolOutput(tool, capToolOutput(output));
  const parts = [isError ? `Error from ${tool}:\n${body}` : body];
  if (note) parts.push(note);
  return parts.join('\n\n');
}

export function summaryMessage(task: string, summary: string): string {
  return renderTemplate(summaryTemplate, { task, summary });
}
