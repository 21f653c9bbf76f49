/**
 * Builds run event logs for tests. The builder assigns runId, a dense seq, a
 * deterministic clock and the run-wide step (a model turn begins the next
 * step), and parses every event with the RunEvent schema, so a test can only
 * build logs the real recorder could have written.
 *
 * Time: each event advances the clock by `tickMs`, except a model turn and a
 * tool completion, which advance it by their own `durationMs` (so a model
 * call starts where the previous event was, and a tool span lasts exactly
 * its duration). `wait(ms)` adds idle time, e.g. the downtime before a resume.
 */
import type { z } from 'zod';
import { RunEvent } from '../../src/core/events/schema.ts';
import type { ErrorKind, HaltReason, ModelSettings, Role, RunConfig, Usage, Verdict } from '../../src/core/events/schema.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event as a test writes it; `step` defaults to the builder's current step. */
export type EventDraft = DistributiveOmit<z.input<typeof RunEvent>, 'v' | 'runId' | 'seq' | 'ts' | 'step'> & { step?: number };

export const T0 = Date.parse('2025-01-01T00:00:00.000Z');

export const DEFAULT_MODELS: Record<Role, ModelSettings> = {
  orchestrator: { provider: 'anthropic', model: 'claude-sonnet-4-5' },
  developer: { provider: 'anthropic', model: 'claude-sonnet-4-5' },
  tester: { provider: 'openai', model: 'gpt-5-mini' },
};

export function defaultConfig(): RunConfig {
  return {
    roles: structuredClone(DEFAULT_MODELS),
    budgets: { maxStepsTotal: 100, maxStepsPerAgent: 40, maxTokens: 2_000_000, maxCostUsd: 10, maxWallTimeMs: 3_600_000 },
    requireTesterPass: true,
    network: false,
  };
}

export interface BuilderOptions {
  runId?: string;
  startMs?: number;
  tickMs?: number;
}

export interface ModelTurnOptions {
  turnId?: string;
  provider?: ModelSettings['provider'];
  model?: string;
  text?: string;
  /** Tool calls the model asked for; `args` is serialised into argsText. */
  toolCalls?: { id: string; name: string; args?: unknown }[];
  stopReason?: string;
  usage?: Partial<Usage>;
  costUsd?: number;
  durationMs?: number;
  ttftMs?: number;
  attempts?: number;
}

export interface ToolResultOptions {
  output?: string;
  isError?: boolean;
  durationMs?: number;
  meta?: Record<string, unknown>;
}

export interface ToolOptions extends ToolResultOptions {
  args?: unknown;
  readOnly?: boolean;
}

export interface DelegateOptions {
  agentId: string;
  role: Exclude<Role, 'orchestrator'>;
  task?: string;
  /** The child's closing summary (also the delegate tool's output). */
  summary?: string;
  verdict?: Verdict;
}

export class EventBuilder {
  readonly runId: string;
  readonly events: RunEvent[] = [];
  private readonly tickMs: number;
  private readonly roles = new Map<string, Role>();
  private clock: number;
  private step = 0;

  constructor(options: BuilderOptions = {}) {
    this.runId = options.runId ?? 'run-1';
    this.clock = options.startMs ?? T0;
    this.tickMs = options.tickMs ?? 100;
  }

  /** The time of the last event (or the start time), in ms. */
  get now(): number {
    return this.clock;
  }

  get currentStep(): number {
    return this.step;
  }

  /** The last event built. */
  get last(): RunEvent {
    const e = this.events[this.events.length - 1];
    if (!e) throw new Error('no events yet');
    return e;
  }

  wait(ms: number): this {
    this.clock += ms;
    return this;
  }

  /** Appends any event; the escape hatch for shapes without a helper. */
  event(draft: EventDraft, advanceMs = this.tickMs): this {
    this.clock += advanceMs;
    const raw = {
      ...draft,
      runId: this.runId,
      seq: this.events.length + 1,
      ts: new Date(this.clock).toISOString(),
      step: draft.step ?? this.step,
    };
    this.events.push(RunEvent.parse(raw));
    return this;
  }

  runStarted(goal = 'Make the failing test pass', extra: { forkOf?: { runId: string; step: number }; config?: RunConfig } = {}): this {
    return this.event({
      type: 'run.started',
      goal,
      config: extra.config ?? defaultConfig(),
      workspace: '/workspace',
      ...(extra.forkOf && { forkOf: extra.forkOf }),
    });
  }

  agentStarted(
    agentId: string,
    role: Role,
    options: { parentAgentId?: string; parentCallId?: string; task?: string; model?: Partial<ModelSettings> } = {},
  ): this {
    this.roles.set(agentId, role);
    return this.event({
      type: 'agent.started',
      agentId,
      role,
      ...(options.parentAgentId !== undefined && { parentAgentId: options.parentAgentId }),
      ...(options.parentCallId !== undefined && { parentCallId: options.parentCallId }),
      task: options.task ?? `task for ${role}`,
      model: { ...DEFAULT_MODELS[role], ...options.model },
      system: `You are the ${role}.`,
    });
  }

  agentFinished(agentId: string, summary = 'done', verdict?: Verdict): this {
    return this.event({ type: 'agent.finished', agentId, summary, ...(verdict && { verdict }) });
  }

  /** A model turn by `agentId`; it begins the next step. */
  modelTurn(agentId: string | undefined, options: ModelTurnOptions = {}): this {
    this.step += 1;
    const role = agentId !== undefined ? this.roles.get(agentId) : undefined;
    const defaults = DEFAULT_MODELS[role ?? 'orchestrator'];
    const durationMs = options.durationMs ?? 1200;
    return this.event(
      {
        type: 'model.turn',
        ...(agentId !== undefined && { agentId }),
        turnId: options.turnId ?? `turn-${this.step}`,
        provider: options.provider ?? defaults.provider,
        model: options.model ?? defaults.model,
        text: options.text ?? '',
        toolCalls: (options.toolCalls ?? []).map((c) => ({ id: c.id, name: c.name, argsText: JSON.stringify(c.args ?? {}) })),
        stopReason: options.stopReason ?? ((options.toolCalls?.length ?? 0) > 0 ? 'tool_use' : 'end_turn'),
        usage: { inputTokens: 1000, outputTokens: 100, ...options.usage },
        costUsd: options.costUsd ?? 0.01,
        durationMs,
        ...(options.ttftMs !== undefined && { ttftMs: options.ttftMs }),
        attempts: options.attempts ?? 1,
      },
      durationMs,
    );
  }

  modelRetry(agentId: string, attempt: number, errorKind: ErrorKind = 'rate_limit', delayMs = 500): this {
    return this.event({ type: 'model.retry', agentId, attempt, errorKind, delayMs });
  }

  toolStarted(agentId: string, callId: string, name: string, args: unknown = {}, readOnly = false): this {
    return this.event({ type: 'tool.started', agentId, callId, name, args, readOnly });
  }

  toolCompleted(agentId: string, callId: string, name: string, result: ToolResultOptions = {}): this {
    const durationMs = result.durationMs ?? 300;
    return this.event(
      {
        type: 'tool.completed',
        agentId,
        callId,
        name,
        isError: result.isError ?? false,
        output: result.output ?? 'ok',
        durationMs,
        ...(result.meta && { meta: result.meta }),
      },
      durationMs,
    );
  }

  /** tool.started immediately followed by its tool.completed. */
  tool(agentId: string, callId: string, name: string, options: ToolOptions = {}): this {
    return this.toolStarted(agentId, callId, name, options.args ?? {}, options.readOnly ?? false).toolCompleted(agentId, callId, name, options);
  }

  /**
   * A whole delegation as the orchestrator records it: the delegate call
   * starts, the child agent starts, `body` records the child's work, the
   * child finishes and the delegate call completes with its summary.
   */
  delegate(parentAgentId: string, callId: string, child: DelegateOptions, body: (b: this) => void = () => {}): this {
    const task = child.task ?? `task for ${child.role}`;
    const summary = child.summary ?? `${child.role} done`;
    this.toolStarted(parentAgentId, callId, 'delegate', { agent: child.role, task });
    this.agentStarted(child.agentId, child.role, { parentAgentId, parentCallId: callId, task });
    body(this);
    this.agentFinished(child.agentId, summary, child.verdict);
    return this.toolCompleted(parentAgentId, callId, 'delegate', {
      output: summary,
      meta: { agent: child.role, ...(child.verdict && { verdict: child.verdict }) },
    });
  }

  userMessage(text: string, agentId?: string): this {
    return this.event({ type: 'user.message', text, ...(agentId !== undefined && { agentId }) });
  }

  error(agentId: string | undefined, kind: ErrorKind, message: string, retryable = false): this {
    return this.event({ type: 'error', kind, message, retryable, ...(agentId !== undefined && { agentId }) });
  }

  compacted(agentId: string, options: { usage?: Partial<Usage>; costUsd?: number } = {}): this {
    return this.event({
      type: 'context.compacted',
      agentId,
      replacedMessages: 4,
      summary: 'earlier work, summarised',
      tokensBefore: 90_000,
      ...(options.usage && { usage: { inputTokens: 0, outputTokens: 0, ...options.usage } }),
      ...(options.costUsd !== undefined && { costUsd: options.costUsd }),
    });
  }

  interrupted(reason = 'user'): this {
    return this.event({ type: 'run.interrupted', reason });
  }

  resumed(message?: string): this {
    return this.event({ type: 'run.resumed', ...(message !== undefined && { message }) });
  }

  runFinished(
    status: 'completed' | 'failed' | 'halted' = 'completed',
    summary = 'all done',
    extra: { verdict?: Verdict; haltReason?: HaltReason } = {},
  ): this {
    return this.event({ type: 'run.finished', status, summary, ...extra });
  }

  build(): RunEvent[] {
    return this.events.slice();
  }
}
