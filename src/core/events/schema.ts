/**
 * The run event union: the single source of truth for the durable log, the
 * live UI stream and the traces. Resume, rollback, the chat view and the
 * trace viewer are all folds over a sequence of these.
 *
 * Contract:
 * - Every event carries `runId`, `seq` (dense, 1-based, per run log), `ts`
 *   (ISO time) and `step`: the run-wide step counter at the time of the event.
 *   Step N begins with the N-th model turn of the run (any agent). Step 0 is
 *   everything before the first model turn. Because steps increase along the
 *   log, "the state after step N" is always a prefix of the log: every event
 *   before the first event with `step > N`.
 * - `agentId` names the agent the event belongs to (absent for run-level events).
 * - Events in EPHEMERAL_EVENT_TYPES go to live listeners only and are never
 *   written to the log (token deltas would dominate it otherwise).
 */
import { z } from 'zod';

export const EVENT_SCHEMA_VERSION = 1;

export const Role = z.enum(['orchestrator', 'developer', 'tester']);
export type Role = z.infer<typeof Role>;

export const Verdict = z.enum(['pass', 'fail']);
export type Verdict = z.infer<typeof Verdict>;

export const ProviderName = z.enum(['openai', 'anthropic']);
export type ProviderName = z.infer<typeof ProviderName>;

/**
 * Token usage of one model call. The three input counts do not overlap:
 * `inputTokens` is uncached input only, so cost = each count × its own price.
 */
export const Usage = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative().default(0),
  cacheWriteTokens: z.number().int().nonnegative().default(0),
});
export type Usage = z.infer<typeof Usage>;

/** A tool call as the model produced it; `argsText` is the raw JSON text. */
export const ToolCallRecord = z.object({
  id: z.string(),
  name: z.string(),
  argsText: z.string(),
});
export type ToolCallRecord = z.infer<typeof ToolCallRecord>;

export const ModelSettings = z.object({
  provider: ProviderName,
  model: z.string().min(1),
  baseURL: z.string().optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  /** Context window budget (tokens) used to decide compaction. */
  contextTokens: z.number().int().positive().optional(),
});
export type ModelSettings = z.infer<typeof ModelSettings>;

export const Budgets = z.object({
  maxStepsTotal: z.number().int().positive(),
  maxStepsPerAgent: z.number().int().positive(),
  maxTokens: z.number().int().positive(),
  maxCostUsd: z.number().positive(),
  maxWallTimeMs: z.number().int().positive(),
});
export type Budgets = z.infer<typeof Budgets>;

/** Configuration frozen at run start, so resume behaves as the run began. */
export const RunConfig = z.object({
  roles: z.object({ orchestrator: ModelSettings, developer: ModelSettings, tester: ModelSettings }),
  budgets: Budgets,
  requireTesterPass: z.boolean(),
  /** Network inside the sandbox for this run (recorded for the audit trail). */
  network: z.boolean().default(false),
});
export type RunConfig = z.infer<typeof RunConfig>;

export const RunStatus = z.enum([
  'running',
  'waiting_user',
  'interrupted',
  'completed',
  'failed',
  'halted',
]);
export type RunStatus = z.infer<typeof RunStatus>;

export const ErrorKind = z.enum([
  'auth',
  'rate_limit',
  'overloaded',
  'context_too_long',
  'bad_request',
  'network',
  'timeout',
  'server',
  'circuit_open',
  'aborted',
  'sandbox',
  'internal',
]);
export type ErrorKind = z.infer<typeof ErrorKind>;

export const HaltReason = z.enum([
  'max_steps_total',
  'max_steps_agent',
  'max_tokens',
  'max_cost',
  'max_wall_time',
  'loop',
]);
export type HaltReason = z.infer<typeof HaltReason>;

const base = {
  v: z.literal(EVENT_SCHEMA_VERSION).default(EVENT_SCHEMA_VERSION),
  runId: z.string(),
  seq: z.number().int().positive(),
  ts: z.string(),
  step: z.number().int().nonnegative(),
  agentId: z.string().optional(),
};

const ev = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ ...base, type: z.literal(type), ...shape });

export const RunEvent = z.discriminatedUnion('type', [
  ev('run.started', {
    goal: z.string(),
    config: RunConfig,
    workspace: z.string(),
    /** Set when this run is a rollback fork of another run. */
    forkOf: z.object({ runId: z.string(), step: z.number().int().nonnegative() }).optional(),
  }),
  ev('run.resumed', { message: z.string().optional() }),
  ev('run.interrupted', { reason: z.string() }),
  ev('run.finished', {
    status: z.enum(['completed', 'failed', 'halted']),
    summary: z.string(),
    verdict: Verdict.optional(),
    haltReason: HaltReason.optional(),
  }),
  /**
   * The user discarded the run's proposed changes (Discard Run): they are no
   * longer offered for review or applying. Final for this log; appended under
   * the run lock like any event. The run stays in the history.
   */
  ev('run.discarded', {}),

  ev('agent.started', {
    role: Role,
    parentAgentId: z.string().optional(),
    /** The orchestrator's `delegate` tool call that started this agent. */
    parentCallId: z.string().optional(),
    task: z.string(),
    model: ModelSettings,
    /** The rendered system prompt (kept once, so traces can show prompts). */
    system: z.string(),
  }),
  ev('agent.finished', { summary: z.string(), verdict: Verdict.optional() }),

  /** Durable before any of its tool calls runs. */
  ev('model.turn', {
    turnId: z.string(),
    provider: ProviderName,
    model: z.string(),
    text: z.string(),
    toolCalls: z.array(ToolCallRecord),
    stopReason: z.string(),
    usage: Usage,
    costUsd: z.number().nonnegative(),
    durationMs: z.number().nonnegative(),
    ttftMs: z.number().nonnegative().optional(),
    attempts: z.number().int().positive(),
  }),
  /** An attempt failed and will be retried: any partial output streamed by that attempt is void. */
  ev('model.retry', {
    attempt: z.number().int().positive(),
    errorKind: ErrorKind,
    delayMs: z.number().nonnegative(),
    status: z.number().int().optional(),
  }),

  /** Durable before the tool runs. */
  ev('tool.started', {
    callId: z.string(),
    name: z.string(),
    args: z.unknown(),
    readOnly: z.boolean(),
  }),
  /** Durable before the next model call. `output` is full; the model sees a capped copy. */
  ev('tool.completed', {
    callId: z.string(),
    name: z.string(),
    isError: z.boolean(),
    output: z.string(),
    durationMs: z.number().nonnegative(),
    /** Structured extras (exit code, files changed, verdict...). */
    meta: z.record(z.string(), z.unknown()).optional(),
    /** Runtime note appended to what the model sees (e.g. a loop warning). */
    modelNote: z.string().optional(),
  }),

  /** A message into an agent's conversation: the user's steering, or a runtime nudge. */
  ev('user.message', { text: z.string(), origin: z.enum(['user', 'runtime']).default('user') }),
  ev('ask_user.asked', { callId: z.string(), question: z.string() }),
  ev('ask_user.answered', { callId: z.string(), answer: z.string() }),

  ev('budget.warning', { reason: HaltReason, used: z.number(), limit: z.number() }),
  ev('loop.warning', { signature: z.string(), count: z.number().int() }),
  ev('context.compacted', {
    /** Number of leading conversation messages replaced by `summary`. */
    replacedMessages: z.number().int().nonnegative(),
    summary: z.string(),
    tokensBefore: z.number().int().nonnegative(),
    /** The summarising model call's own usage and cost (counted in budgets). */
    usage: Usage.optional(),
    costUsd: z.number().nonnegative().optional(),
  }),
  ev('error', {
    kind: ErrorKind,
    message: z.string(),
    retryable: z.boolean(),
  }),

  // Ephemeral (live only, never persisted).
  ev('model.delta', { text: z.string() }),
  ev('model.tool_delta', { index: z.number().int(), callId: z.string().optional(), name: z.string().optional(), argsDelta: z.string() }),
  ev('tool.output', { callId: z.string(), stream: z.enum(['stdout', 'stderr']), chunk: z.string() }),
  ev('sandbox.progress', {
    phase: z.enum(['container', 'image', 'snapshot', 'copy-in', 'restore']),
    message: z.string(),
    done: z.number().optional(),
    total: z.number().optional(),
  }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
export type EventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

export { EPHEMERAL_EVENT_TYPES } from './ephemeral.ts';

/** What a producer supplies; the log assigns `v`, `runId`, `seq` and `ts`. */
export type EventInput = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, 'v' | 'runId' | 'seq' | 'ts'>
    : never
  : never;
