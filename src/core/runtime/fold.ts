/**
 * Run state as a pure fold over the event log. Resume, rollback and the
 * live run all use this: the runtime never keeps conversation state that is
 * not derivable from the durable events, so a crash loses nothing.
 */
import type { ModelSettings, RunConfig, RunEvent, RunStatus, ToolCallRecord, Usage, Verdict } from '../events/schema.ts';
import type { Message } from '../model/types.ts';
import { modelViewOfToolResult, summaryMessage } from './model-view.ts';
import { loopSignature } from './loop-detector.ts';

export interface StartedCall {
  name: string;
  args: unknown;
  readOnly: boolean;
  /** Log position of the tool.started event. */
  seq: number;
}

export interface AgentState {
  id: string;
  role: 'orchestrator' | 'developer' | 'tester';
  parentAgentId: string | undefined;
  parentCallId: string | undefined;
  task: string;
  model: ModelSettings;
  system: string;
  messages: Message[];
  /** Model turns taken by this agent. */
  steps: number;
  /** Tool calls of the agent's last model turn that have no result yet, in order. */
  pending: ToolCallRecord[];
  /** Calls with a durable tool.started but no tool.completed. */
  started: Map<string, StartedCall>;
  /** Steering messages that arrived while tool results were outstanding. */
  queuedUserMessages: string[];
  finished: { summary: string; verdict: Verdict | undefined } | undefined;
  /** Log position of the agent.started event. */
  startedSeq: number;
  /** Input tokens of the last model turn (prompt size estimate for compaction). */
  lastPromptTokens: number;
}

export interface RunState {
  runId: string;
  goal: string;
  workspace: string;
  createdAt: string;
  config: RunConfig;
  forkOf: { runId: string; step: number } | undefined;
  status: RunStatus;
  finish: Extract<RunEvent, { type: 'run.finished' }> | undefined;
  /** The run-wide step counter (number of model turns so far). */
  step: number;
  lastSeq: number;
  agents: Map<string, AgentState>;
  rootAgentId: string | undefined;
  usage: Usage;
  costUsd: number;
  /** Active time of earlier segments (start/resume → last event before the next resume). */
  activeMsBefore: number;
  segmentStartMs: number;
  lastEventMs: number;
  /** Seq of the last event that changed workspace files. */
  lastChangeSeq: number;
  /** Seq of the last tester delegation that returned verdict "pass". */
  lastTesterPassSeq: number;
  /** Verdict of the last tester delegation that returned one. */
  lastTesterVerdict: Verdict | undefined;
  /** Identical (tool, args, result) counts across all agents, for loop detection. */
  loopCounts: Map<string, number>;
  openQuestion: { callId: string; question: string; agentId: string } | undefined;
  budgetWarnings: Set<string>;
  /** The user discarded the run's proposed changes (`run.discarded`): it is not continued. */
  discarded: boolean;
}

const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

export function totalTokens(u: Usage): number {
  return u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  };
}

/** Tools whose successful completion changes workspace files. */
function changedFiles(agent: AgentState, name: string, isError: boolean, meta: Record<string, unknown> | undefined): boolean {
  if (name === 'write_file' || name === 'edit_file') return !isError;
  if (name === 'run_command') {
    // The sandbox reports what a command changed when it can; without that
    // report, a developer's command is assumed to have changed files (the
    // tester's own test runs do not invalidate its verdict).
    if (meta && typeof meta['filesChanged'] === 'number') return meta['filesChanged'] > 0;
    return agent.role === 'developer';
  }
  return false;
}

export function emptyRunState(): RunState {
  return {
    runId: '',
    goal: '',
    workspace: '',
    createdAt: '',
    config: undefined as unknown as RunConfig,
    forkOf: undefined,
    status: 'running',
    finish: undefined,
    step: 0,
    lastSeq: 0,
    agents: new Map(),
    rootAgentId: undefined,
    usage: { ...ZERO_USAGE },
    costUsd: 0,
    activeMsBefore: 0,
    segmentStartMs: 0,
    lastEventMs: 0,
    lastChangeSeq: 0,
    lastTesterPassSeq: 0,
    lastTesterVerdict: undefined,
    loopCounts: new Map(),
    openQuestion: undefined,
    budgetWarnings: new Set(),
    discarded: false,
  };
}

/** Applies one durable event. Mutates and returns `s` (the runtime folds incrementally). */
export function applyEvent(s: RunState, e: RunEvent): RunState {
  s.lastSeq = e.seq;
  const tMs = Date.parse(e.ts);
  const agent = e.agentId ? s.agents.get(e.agentId) : undefined;
  switch (e.type) {
    case 'run.started':
      s.runId = e.runId;
      s.goal = e.goal;
      s.workspace = e.workspace;
      s.createdAt = e.ts;
      s.config = e.config;
      s.forkOf = e.forkOf;
      s.status = 'running';
      s.segmentStartMs = tMs;
      break;
    case 'run.resumed':
      s.activeMsBefore += Math.max(0, s.lastEventMs - s.segmentStartMs);
      s.segmentStartMs = tMs;
      s.status = s.openQuestion ? 'waiting_user' : 'running';
      s.finish = undefined;
      break;
    case 'run.interrupted':
      s.status = 'interrupted';
      break;
    case 'run.finished':
      s.status = e.status;
      s.finish = e;
      break;
    case 'agent.started': {
      const a: AgentState = {
        id: e.agentId!,
        role: e.role,
        parentAgentId: e.parentAgentId,
        parentCallId: e.parentCallId,
        task: e.task,
        model: e.model,
        system: e.system,
        messages: [{ role: 'user', content: e.task }],
        steps: 0,
        pending: [],
        started: new Map(),
        queuedUserMessages: [],
        finished: undefined,
        startedSeq: e.seq,
        lastPromptTokens: 0,
      };
      s.agents.set(a.id, a);
      if (!e.parentAgentId && !s.rootAgentId) s.rootAgentId = a.id;
      break;
    }
    case 'agent.finished':
      if (agent) agent.finished = { summary: e.summary, verdict: e.verdict };
      break;
    case 'model.turn':
      s.step = e.step;
      s.usage = addUsage(s.usage, e.usage);
      s.costUsd += e.costUsd;
      if (agent) {
        agent.steps += 1;
        agent.messages.push({ role: 'assistant', text: e.text, toolCalls: e.toolCalls });
        agent.pending = [...e.toolCalls];
        agent.lastPromptTokens = e.usage.inputTokens + e.usage.cacheReadTokens + e.usage.cacheWriteTokens;
      }
      break;
    case 'tool.started':
      agent?.started.set(e.callId, { name: e.name, args: e.args, readOnly: e.readOnly, seq: e.seq });
      break;
    case 'tool.completed': {
      if (!agent) break;
      const started = agent.started.get(e.callId);
      agent.started.delete(e.callId);
      if (e.name === 'finish' && !e.isError && started) {
        // The completed finish call is the agent's commit point.
        const args = started.args as { summary?: string; verdict?: Verdict };
        agent.finished = { summary: String(args.summary ?? ''), verdict: args.verdict };
      }
      agent.pending = agent.pending.filter((c) => c.id !== e.callId);
      agent.messages.push({
        role: 'tool',
        callId: e.callId,
        name: e.name,
        content: modelViewOfToolResult(e.name, e.output, e.isError, e.modelNote),
        isError: e.isError,
      });
      if (changedFiles(agent, e.name, e.isError, e.meta)) s.lastChangeSeq = e.seq;
      if (e.name === 'delegate' && !e.isError && e.meta?.['agent'] === 'tester') {
        const verdict = e.meta['verdict'];
        if (verdict === 'pass' || verdict === 'fail') s.lastTesterVerdict = verdict;
        if (verdict === 'pass') s.lastTesterPassSeq = e.seq;
      }
      if (started && e.name !== 'delegate' && e.name !== 'finish' && e.name !== 'ask_user') {
        const sig = loopSignature(e.name, started.args, e.output);
        s.loopCounts.set(sig, (s.loopCounts.get(sig) ?? 0) + 1);
      }
      if (agent.pending.length === 0) flushQueuedMessages(agent);
      break;
    }
    case 'user.message':
      if (agent) {
        agent.queuedUserMessages.push(e.text);
        if (agent.pending.length === 0) flushQueuedMessages(agent);
      }
      break;
    case 'ask_user.asked':
      s.openQuestion = { callId: e.callId, question: e.question, agentId: e.agentId! };
      s.status = 'waiting_user';
      break;
    case 'ask_user.answered':
      if (s.openQuestion?.callId === e.callId) s.openQuestion = undefined;
      if (s.status === 'waiting_user') s.status = 'running';
      break;
    case 'budget.warning':
      s.budgetWarnings.add(e.reason);
      break;
    case 'context.compacted':
      if (agent) {
        const [first, ...rest] = agent.messages;
        const kept = rest.slice(e.replacedMessages);
        const task = first && first.role === 'user' ? first.content : agent.task;
        agent.messages = [{ role: 'user', content: summaryMessage(task, e.summary) }, ...kept];
        agent.lastPromptTokens = 0;
      }
      if (e.usage) s.usage = addUsage(s.usage, e.usage);
      if (e.costUsd) s.costUsd += e.costUsd;
      break;
    case 'model.retry':
    case 'loop.warning':
    case 'error':
      break;
    // The conversation is unchanged; the run is closed to further work (run-summary.ts folds it too).
    case 'run.discarded':
      s.discarded = true;
      break;
    case 'model.delta':
    case 'model.tool_delta':
    case 'tool.output':
    case 'sandbox.progress':
      // Ephemeral: never in the log; ignored if a caller passes them.
      break;
  }
  if (!Number.isNaN(tMs)) s.lastEventMs = Math.max(s.lastEventMs, tMs);
  return s;
}

function flushQueuedMessages(agent: AgentState): void {
  if (agent.queuedUserMessages.length === 0) return;
  const text = agent.queuedUserMessages.join('\n\n');
  agent.queuedUserMessages = [];
  const last = agent.messages[agent.messages.length - 1];
  // Keep user/assistant alternation: merge into a trailing user message.
  if (last && last.role === 'user') last.content = `${last.content}\n\n${text}`;
  else agent.messages.push({ role: 'user', content: text });
}

export function foldRun(events: Iterable<RunEvent>): RunState {
  const s = emptyRunState();
  for (const e of events) applyEvent(s, e);
  return s;
}

/** Active wall time of the run so far (downtime between segments excluded). */
export function activeMs(s: RunState, nowMs: number): number {
  const live = s.status === 'running' ? nowMs : s.lastEventMs;
  return s.activeMsBefore + Math.max(0, live - s.segmentStartMs);
}

/** The unfinished agent that is doing the work: follow pending delegations down from the root. */
export function activeAgent(s: RunState): AgentState | undefined {
  let current = s.rootAgentId ? s.agents.get(s.rootAgentId) : undefined;
  while (current) {
    const child = childForPendingDelegate(s, current);
    if (!child || child.finished) return current;
    current = child;
  }
  return current;
}

/**
 * The child started by the agent's pending delegate call. Matched by ids and
 * by log position (started after that call), because a model may reuse a call
 * id in a later turn.
 */
export function childForPendingDelegate(s: RunState, agent: AgentState): AgentState | undefined {
  const call = agent.pending.find((c) => c.name === 'delegate');
  if (!call) return undefined;
  const after = agent.started.get(call.id)?.seq ?? Number.POSITIVE_INFINITY;
  for (const a of s.agents.values()) {
    if (a.parentCallId === call.id && a.parentAgentId === agent.id && a.startedSeq > after) return a;
  }
  return undefined;
}

/** The prefix of a log that is "the state after step N" (see schema.ts). */
export function prefixThroughStep(events: RunEvent[], step: number): RunEvent[] {
  const cut = events.findIndex((e) => e.step > step);
  return cut === -1 ? events.slice() : events.slice(0, cut);
}
