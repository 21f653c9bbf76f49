/**
 * The runtime's public face, shared by the CLI, the extension and the tests.
 *
 * Contract:
 * - A run is driven by at most one process at a time (the run lock); a second
 *   attempt fails with StoreError('run_locked').
 * - `start`/`resume` return a handle at once; `handle.done` settles with the
 *   outcome when the run stops (finished, halted, failed, interrupted, or
 *   waiting for the user). It never rejects for run-level failures: those are
 *   outcomes. It rejects only when the store cannot be opened.
 * - Listeners get every durable event and the live-only deltas.
 */
import { basename } from 'node:path';
import type { RunConfig, RunEvent } from '../events/schema.ts';
import { RunConfig as RunConfigSchema } from '../events/schema.ts';
import { newRunId } from '../ids.ts';
import { systemPromptFor } from '../agents/roles.ts';
import { readRunLog } from '../store/event-log.ts';
import { RunError } from './errors.ts';
import { crewboxPaths } from '../store/layout.ts';
import type { RuntimeDeps } from './deps.ts';
import { activeAgent, prefixThroughStep } from './fold.ts';
import type { RunListener } from './recorder.ts';
import type { RunOutcome } from './run-driver.ts';
import { driveRun, WALL_TIME_ABORT } from './run-driver.ts';
import { openRunSession, writeForkLog, type RunSession } from './run-session.ts';
import { activeMs, totalTokens } from './fold.ts';

export interface RunHandle {
  readonly runId: string;
  subscribe(listener: RunListener): () => void;
  /** Stops the run: the model stream is aborted and a running command killed. */
  interrupt(reason?: string): void;
  readonly done: Promise<RunOutcome>;
}

export interface StartOptions {
  config: RunConfig;
  onEvent?: RunListener;
  runId?: string;
}

export interface ResumeOptions {
  /** Steering text for the working agent (or the answer to an open question). */
  message?: string;
  /** The answer to the open ask_user question. */
  answer?: string;
  onEvent?: RunListener;
}

export class CrewRuntime {
  constructor(private readonly deps: RuntimeDeps) {}

  async start(goal: string, opts: StartOptions): Promise<RunHandle> {
    const config = RunConfigSchema.parse(opts.config);
    const runId = opts.runId ?? newRunId(new Date(this.deps.now()));
    const session = await openRunSession(this.deps, runId, opts.onEvent);
    try {
      if (session.state.lastSeq > 0) throw new RunError('run_exists', `Run ${runId} already exists.`);
      session.recorder.record({ type: 'run.started', goal, config, workspace: this.deps.workspace });
      session.recorder.record({
        type: 'agent.started',
        agentId: 'orchestrator-1',
        role: 'orchestrator',
        task: goal,
        model: config.roles.orchestrator,
        system: systemPromptFor('orchestrator', { workspaceName: basename(this.deps.workspace) || 'workspace', requireTesterPass: config.requireTesterPass }),
      });
    } catch (e) {
      await session.close();
      throw e;
    }
    return this.launch(session);
  }

  async resume(runId: string, opts: ResumeOptions = {}): Promise<RunHandle> {
    const session = await openRunSession(this.deps, runId, opts.onEvent);
    try {
      const s = session.state;
      if (s.discarded) throw new RunError('run_discarded', `Run ${runId} was discarded; roll back to one of its steps to work from it again.`);
      if (!s.rootAgentId) throw new RunError('not_found', `Run ${runId} has no recorded start; nothing to resume.`);
      if (s.status === 'completed') throw new RunError('run_finished', `Run ${runId} already completed; start a new run or roll back to a step.`);
      const text = opts.answer ?? opts.message;
      session.recorder.record({ type: 'run.resumed', ...(opts.message ? { message: opts.message } : {}) });
      const question = s.openQuestion;
      if (question && text !== undefined) {
        const asker = s.agents.get(question.agentId)!;
        session.recorder.record({ type: 'ask_user.answered', agentId: asker.id, callId: question.callId, answer: text });
        session.recorder.record({ type: 'tool.completed', agentId: asker.id, callId: question.callId, name: 'ask_user', isError: false, output: text, durationMs: 0 });
      } else if (opts.message) {
        const target = activeAgent(s);
        if (target) session.recorder.record({ type: 'user.message', agentId: target.id, origin: 'user', text: opts.message });
      }
    } catch (e) {
      await session.close();
      throw e;
    }
    return this.launch(session);
  }

  /** Answers the open ask_user question of a paused run and continues it. */
  answer(runId: string, answer: string, onEvent?: RunListener): Promise<RunHandle> {
    return this.resume(runId, { answer, ...(onEvent ? { onEvent } : {}) });
  }

  /**
   * Rollback: a new run whose log is the original's state after `step`, ready
   * to be resumed. The original run is left untouched.
   */
  async fork(runId: string, step: number): Promise<string> {
    const paths = crewboxPaths(this.deps.workspace);
    const { events } = await readRunLog(paths.runEvents(runId));
    const last = events.at(-1);
    if (!last) throw new RunError('not_found', `Run ${runId} has no events.`);
    if (step < 0 || step > last.step) throw new RunError('invalid_step', `Run ${runId} has steps 0 to ${last.step}; cannot roll back to step ${step}.`);
    const forkId = newRunId(new Date(this.deps.now()));
    // A discard closes the original run only; the fork starts open.
    const prefix = prefixThroughStep(events, step).filter((e) => e.type !== 'run.discarded');
    await writeForkLog(this.deps, forkId, prefix, { runId, step });
    return forkId;
  }

  async events(runId: string): Promise<RunEvent[]> {
    return (await readRunLog(crewboxPaths(this.deps.workspace).runEvents(runId))).events;
  }

  private launch(session: RunSession): RunHandle {
    const controller = session.controller;
    const s = session.state;
    const remaining = s.config.budgets.maxWallTimeMs - activeMs(s, this.deps.now());
    const timer = setTimeout(() => controller.abort(WALL_TIME_ABORT), Math.max(0, remaining));
    const log = this.deps.logger.child({ runId: s.runId });
    const done = (async () => {
      try {
        log.info('run drive started', { step: s.step, status: s.status });
        const outcome = (await openFiles(this.deps, session)) ?? (await driveRun(session.ctx));
        log.info('run drive stopped', { status: outcome.status, step: s.step, tokens: totalTokens(s.usage), costUsd: s.costUsd, ...(outcome.error ? { error: outcome.error } : {}), ...(outcome.haltReason ? { haltReason: outcome.haltReason } : {}) });
        return outcome;
      } catch (e) {
        log.error('run drive crashed', { error: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        clearTimeout(timer);
        await session.close();
      }
    })();
    return {
      runId: s.runId,
      subscribe: (l) => session.recorder.subscribe(l),
      interrupt: (reason = 'stopped by the user') => controller.abort(reason),
      done,
    };
  }
}

/**
 * Makes the sandbox hold the run's files before the agents act. A failure
 * (Docker down, disk full) ends this drive as a failed outcome with a typed
 * error; the run stays resumable and nothing in its log is lost.
 */
async function openFiles(deps: RuntimeDeps, session: RunSession): Promise<RunOutcome | undefined> {
  const s = session.state;
  if (!deps.runFiles) return undefined;
  try {
    await deps.runFiles.open(
      { runId: s.runId, step: s.step, network: s.config.network, ...(s.forkOf ? { forkOf: s.forkOf } : {}) },
      session.controller.signal,
      (p) => session.recorder.emit({ type: 'sandbox.progress', ...p }),
    );
    return undefined;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (session.controller.signal.aborted) {
      session.recorder.record({ type: 'run.interrupted', reason: String(session.controller.signal.reason ?? 'interrupted') });
      return { runId: s.runId, status: 'interrupted', summary: 'Interrupted while preparing the sandbox.' };
    }
    session.recorder.record({ type: 'error', kind: 'sandbox', message, retryable: true });
    session.recorder.record({ type: 'run.finished', status: 'failed', summary: message });
    return { runId: s.runId, status: 'failed', summary: message, error: { kind: 'sandbox', message } };
  }
}
