/**
 * Pages of a run's durable log for the chat: the host sends the tail of the
 * log with `transcript/reset` and older pages on request
 * (`transcript/page`), so opening a long run costs the tail, not the log.
 *
 * The chat folds events from the start of the log (webview/chat/model), so a
 * page carries what its fold needs from before it (`Earlier`):
 * - `prelude`: the earlier events that set up state the page's events rely
 *   on: the run's lifecycle (started, resumed, interrupted, finished,
 *   discarded), every agent's start (role and nesting), the ask_user
 *   questions and answers, and the tool calls still open at the cut (their
 *   completion may be in the page);
 * - `usage`: the tokens and cost of the earlier model calls (the same sums as
 *   RunSummary's `tokens` and `costUsd`), which the progress adds up.
 * Folding `prelude`, then the page, then anything later gives the status
 * line and controls exactly what folding the whole log gives; only the rows
 * of the left-out events are missing until their page is loaded.
 *
 * Contract: pure, no zod and no Node (the host, the tests and the bench
 * build pages with it); `log` is a durable log in `seq` order.
 */
import type { RunEvent, RunEventType } from '../core/events/schema.ts';

/**
 * Events in the reset (the tail) and in each older page. The tail is a few
 * hundred rows, many screens above the fold; opening costs about this many
 * events, whatever the log's length (bench/webview.bench.ts).
 */
export const TAIL_EVENTS = 500;
export const PAGE_EVENTS = 1_000;

export interface Earlier {
  /** Durable events before the page that were not sent (the prelude's are among them). */
  count: number;
  prelude: RunEvent[];
  usage: { tokens: number; costUsd: number };
}

export interface TranscriptPage {
  events: RunEvent[];
  /** Absent when the page starts at the beginning of the log. */
  earlier?: Earlier;
}

const PRELUDE_TYPES: ReadonlySet<RunEventType> = new Set<RunEventType>([
  'run.started',
  'run.resumed',
  'run.interrupted',
  'run.finished',
  'run.discarded',
  'agent.started',
  'ask_user.asked',
  'ask_user.answered',
]);

/** How far back a page's start may move to begin at a model turn. */
const ALIGN_WINDOW = 50;

/**
 * About the last `limit` events of `log` before `beforeSeq` (before the end
 * when undefined), and what their fold needs from before them. The page
 * starts at a model turn when one is within ALIGN_WINDOW events before the
 * cut, so it does not open with the end of a call whose start it lacks.
 */
export function transcriptPage(log: readonly RunEvent[], limit: number, beforeSeq?: number): TranscriptPage {
  const end = beforeSeq === undefined ? log.length : firstIndexAtOrAbove(log, beforeSeq);
  const start = turnAlignedStart(log, Math.max(0, end - limit));
  const events = log.slice(start, end);
  if (start === 0) return { events };
  return { events, earlier: earlierThan(log, start) };
}

function earlierThan(log: readonly RunEvent[], start: number): Earlier {
  const prelude: RunEvent[] = [];
  const openCalls = new Map<string, number>();
  let tokens = 0;
  let costUsd = 0;
  for (let i = 0; i < start; i++) {
    const e = log[i]!;
    if (PRELUDE_TYPES.has(e.type)) prelude.push(e);
    else if (e.type === 'tool.started') openCalls.set(e.callId, prelude.push(e) - 1);
    else if (e.type === 'tool.completed') openCalls.delete(e.callId);
    if (e.type === 'model.turn' || e.type === 'context.compacted') {
      const u = e.usage;
      if (u) tokens += u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
      costUsd += e.costUsd ?? 0;
    }
  }
  // tool.started went in provisionally, in order; keep only the calls still open at the cut.
  const open = new Set(openCalls.values());
  const kept = prelude.filter((e, i) => e.type !== 'tool.started' || open.has(i));
  return { count: start, prelude: kept, usage: { tokens, costUsd } };
}

function turnAlignedStart(log: readonly RunEvent[], cut: number): number {
  for (let i = cut; i > 0 && i > cut - ALIGN_WINDOW; i--) if (log[i]!.type === 'model.turn') return i;
  return cut;
}

/** Binary search: the index of the first event whose seq is ≥ `seq` (log.length if none). */
function firstIndexAtOrAbove(log: readonly RunEvent[], seq: number): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
