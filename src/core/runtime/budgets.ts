/**
 * Run budgets: steps (total and per agent), tokens, cost, wall time. Checked
 * before every model call; exceeding any halts the whole team. A warning event
 * is written once per budget at 80% so the UI can show it coming.
 */
import type { HaltReason } from '../events/schema.ts';
import type { AgentState, RunState } from './fold.ts';
import { activeMs, totalTokens } from './fold.ts';

export const WARN_FRACTION = 0.8;

export interface BudgetReading {
  reason: HaltReason;
  used: number;
  limit: number;
}

export function readBudgets(s: RunState, agent: AgentState, nowMs: number): BudgetReading[] {
  const b = s.config.budgets;
  return [
    { reason: 'max_steps_total', used: s.step, limit: b.maxStepsTotal },
    { reason: 'max_steps_agent', used: agent.steps, limit: b.maxStepsPerAgent },
    { reason: 'max_tokens', used: totalTokens(s.usage), limit: b.maxTokens },
    { reason: 'max_cost', used: s.costUsd, limit: b.maxCostUsd },
    { reason: 'max_wall_time', used: activeMs(s, nowMs), limit: b.maxWallTimeMs },
  ];
}

/** The first budget that forbids another model call, if any. */
export function exceeded(readings: BudgetReading[]): BudgetReading | undefined {
  return readings.find((r) => r.used >= r.limit);
}

export function describeHalt(r: BudgetReading): string {
  const fmt = (n: number) => (r.reason === 'max_cost' ? `$${n.toFixed(4)}` : r.reason === 'max_wall_time' ? `${Math.round(n / 1000)} s` : String(Math.round(n)));
  const what: Record<HaltReason, string> = {
    max_steps_total: 'the run reached its step limit',
    max_steps_agent: 'an agent reached its per-agent step limit',
    max_tokens: 'the run reached its token budget',
    max_cost: 'the run reached its cost budget',
    max_wall_time: 'the run reached its wall-time limit',
    loop: 'the same tool call kept producing the same result',
  };
  return `Halted: ${what[r.reason]} (${fmt(r.used)} of ${fmt(r.limit)}).`;
}
