/** Budget checks before a model call: warn once at 80%, halt the team at 100%. */
import type { AgentState } from './fold.ts';
import type { RunContext } from './run-context.ts';
import { describeHalt, exceeded, readBudgets, WARN_FRACTION } from './budgets.ts';
import { RunStop } from './stop.ts';

export function checkBudgets(ctx: RunContext, agent: AgentState): void {
  const readings = readBudgets(ctx.state, agent, ctx.deps.now());
  const over = exceeded(readings);
  if (over) throw new RunStop({ kind: 'halted', reason: over.reason, message: describeHalt(over) });
  for (const r of readings) {
    if (r.reason === 'max_steps_agent') continue; // per agent: not a run-level warning
    if (r.used >= r.limit * WARN_FRACTION && !ctx.state.budgetWarnings.has(r.reason)) {
      ctx.recorder.record({ type: 'budget.warning', reason: r.reason, used: r.used, limit: r.limit });
    }
  }
}
