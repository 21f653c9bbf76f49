/** `crewbox trace`: every event of a run, with tool inputs and outputs; or JSON lines; or OTLP JSON. */
import type { RunEvent } from '../../core/events/schema.ts';
import { readRunLog } from '../../core/store/event-log.ts';
import { crewboxPaths } from '../../core/store/layout.ts';
import { toOtlpJson } from '../../core/trace/otlp.ts';
import { summarizeByAgent } from '../../core/trace/tree.ts';
import { requireRunId, UsageError, type ParsedCommand } from '../args.ts';
import type { CliIo } from '../io.ts';

export async function traceCommand(p: ParsedCommand, io: CliIo): Promise<number> {
  const runId = requireRunId(p);
  if (p.values['json'] === true && p.values['otlp'] === true) throw new UsageError('Choose one of --json and --otlp.');
  const { events, problems } = await readRunLog(crewboxPaths(p.workspace).runEvents(runId));
  for (const problem of problems) io.err(`warning: ${problem.message}`);
  if (p.values['otlp'] === true) {
    io.out(JSON.stringify(toOtlpJson(events, { serviceName: 'crewbox' })));
    return 0;
  }
  if (p.values['json'] === true) {
    for (const e of events) io.out(JSON.stringify(e));
    return 0;
  }
  for (const e of events) io.out(describe(e));
  io.out('');
  for (const a of summarizeByAgent(events)) {
    const t = a.totals;
    io.out(`${a.agentId.padEnd(16)} ${a.model.padEnd(22)} steps ${String(t.steps).padStart(3)}  in ${t.usage.inputTokens} out ${t.usage.outputTokens} cache ${t.usage.cacheReadTokens}/${t.usage.cacheWriteTokens}  $${t.costUsd.toFixed(5)}`);
  }
  return 0;
}

const indent = (text: string) => text.replace(/\n/g, '\n      ');

function describe(e: RunEvent): string {
  const head = `#${e.seq} [${e.ts.slice(11, 23)}] step ${e.step}${e.agentId ? ` ${e.agentId}` : ''} ${e.type}`;
  switch (e.type) {
    case 'run.started':
      return `${head}: ${e.goal}${e.forkOf ? ` (fork of ${e.forkOf.runId} at step ${e.forkOf.step})` : ''}`;
    case 'agent.started':
      return `${head}: ${e.role} on ${e.model.provider}/${e.model.model}\n      task: ${indent(e.task)}`;
    case 'model.turn':
      return `${head}: ${e.model} ${e.durationMs} ms, in ${e.usage.inputTokens} out ${e.usage.outputTokens} cache ${e.usage.cacheReadTokens}/${e.usage.cacheWriteTokens}, $${e.costUsd.toFixed(5)}${e.text ? `\n      ${indent(e.text)}` : ''}${e.toolCalls.map((c) => `\n      call ${c.name} ${c.argsText}`).join('')}`;
    case 'tool.started':
      return `${head}: ${e.name} ${JSON.stringify(e.args)}`;
    case 'tool.completed':
      return `${head}: ${e.name}${e.isError ? ' (error)' : ''} ${e.durationMs} ms${e.meta ? ` ${JSON.stringify(e.meta)}` : ''}\n      ${indent(e.output)}${e.modelNote ? `\n      note: ${e.modelNote}` : ''}`;
    case 'agent.finished':
      return `${head}: ${e.summary}${e.verdict ? ` [${e.verdict}]` : ''}`;
    case 'run.finished':
      return `${head}: ${e.status}${e.haltReason ? ` (${e.haltReason})` : ''}: ${e.summary}`;
    case 'error':
      return `${head}: ${e.kind}: ${e.message}`;
    default: {
      const { v: _v, runId: _r, seq: _s, ts: _t, step: _st, agentId: _a, type: _ty, ...rest } = e;
      return Object.keys(rest).length ? `${head} ${JSON.stringify(rest)}` : head;
    }
  }
}
