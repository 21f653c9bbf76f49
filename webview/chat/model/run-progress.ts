/**
 * The shown run's state for the status line and the controls, folded from
 * its events: status, step, tokens, cost, budget left, the open question and
 * the sandbox's latest progress. The status follows the run index's rules
 * (src/core/store/run-summary.ts): the last of finished / interrupted /
 * resumed decides, and an unanswered question means waiting_user.
 *
 * A log cannot tell a live run from one whose process died; the host's
 * `driving` flag (status/update) does that, in composer-mode.ts.
 */
import type { Budgets, EventOf, Role, RunEvent, RunStatus, Usage } from '../../../src/core/events/schema.ts';

export interface OpenQuestion {
  callId: string;
  question: string;
  role?: Role;
}

export interface RunProgress {
  runId: string | null;
  goal: string;
  status: RunStatus | 'idle';
  step: number;
  tokens: number;
  costUsd: number;
  budgets?: Budgets;
  openQuestion?: OpenQuestion;
  sandbox?: { phase: string; message: string; done?: number; total?: number };
}

export function emptyProgress(runId: string | null): RunProgress {
  return { runId, goal: '', status: 'idle', step: 0, tokens: 0, costUsd: 0 };
}

const usageTokens = (u: Usage) => u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;

/** Applies one event; returns whether anything the status line shows changed. */
export function applyToProgress(p: RunProgress, e: RunEvent, roleOf: (agentId: string) => Role | undefined): boolean {
  const stepMoved = e.step > p.step;
  if (stepMoved) p.step = e.step;
  switch (e.type) {
    case 'run.started':
      p.goal = e.goal;
      p.budgets = e.config.budgets;
      p.status = 'running';
      return true;
    case 'run.resumed':
      p.status = p.openQuestion ? 'waiting_user' : 'running';
      return true;
    case 'run.interrupted':
      p.status = 'interrupted';
      return true;
    case 'run.finished':
      p.status = e.status;
      delete p.openQuestion;
      return true;
    case 'model.turn':
    case 'context.compacted':
      return addUsage(p, e) || stepMoved;
    case 'ask_user.asked': {
      const role = e.agentId !== undefined ? roleOf(e.agentId) : undefined;
      p.openQuestion = { callId: e.callId, question: e.question, ...(role && { role }) };
      p.status = 'waiting_user';
      return true;
    }
    case 'ask_user.answered':
      if (p.openQuestion?.callId !== e.callId) return stepMoved;
      delete p.openQuestion;
      if (p.status === 'waiting_user') p.status = 'running';
      return true;
    case 'sandbox.progress':
      p.sandbox = { phase: e.phase, message: e.message, ...(e.done !== undefined && { done: e.done }), ...(e.total !== undefined && { total: e.total }) };
      return true;
    default:
      return stepMoved;
  }
}

function addUsage(p: RunProgress, e: EventOf<'model.turn'> | EventOf<'context.compacted'>): boolean {
  if (e.usage) p.tokens += usageTokens(e.usage);
  p.costUsd += e.costUsd ?? 0;
  return true;
}

export interface BudgetLeft {
  /** The tightest of the cost, token and step budgets, as the fraction left (0..1). */
  fraction: number;
  /** Which budget is the tightest. */
  limitedBy: 'cost' | 'tokens' | 'steps';
  detail: string;
}

export function budgetLeft(p: RunProgress): BudgetLeft | undefined {
  const b = p.budgets;
  if (!b) return undefined;
  const left = (used: number, limit: number) => Math.max(0, 1 - used / limit);
  const options: BudgetLeft[] = [
    { fraction: left(p.costUsd, b.maxCostUsd), limitedBy: 'cost', detail: `$${p.costUsd.toFixed(3)} of $${b.maxCostUsd}` },
    { fraction: left(p.tokens, b.maxTokens), limitedBy: 'tokens', detail: `${p.tokens} of ${b.maxTokens} tokens` },
    { fraction: left(p.step, b.maxStepsTotal), limitedBy: 'steps', detail: `${p.step} of ${b.maxStepsTotal} steps` },
  ];
  return options.reduce((a, o) => (o.fraction < a.fraction ? o : a));
}
