/**
 * Event streams for the webview tests and the bench: what the host would
 * forward from a live run, durable events and live-only deltas interleaved.
 *
 * Durable events come from EventBuilder (schema-checked, dense seq). Live
 * events are stamped as the runtime's recorder stamps them: with the seq of
 * the last durable event before them (src/core/runtime/recorder.ts `emit`).
 */
import { RunEvent } from '../../src/core/events/schema.ts';
import type { EventBuilder } from './event-builder.ts';
import { EventBuilder as Builder } from './event-builder.ts';

type LiveDraft =
  | { type: 'model.delta'; agentId: string; text: string }
  | { type: 'model.tool_delta'; agentId: string; index: number; callId?: string; name?: string; argsDelta: string }
  | { type: 'tool.output'; agentId: string; callId: string; stream: 'stdout' | 'stderr'; chunk: string }
  | { type: 'sandbox.progress'; phase: 'container' | 'image' | 'snapshot' | 'copy-in' | 'restore'; message: string; done?: number; total?: number };

export class LiveRun {
  readonly builder: EventBuilder;
  /** Everything in the order the host would send it. */
  readonly stream: RunEvent[] = [];
  #seen = 0;

  constructor(runId = 'run-live') {
    this.builder = new Builder({ runId });
  }

  get runId(): string {
    return this.builder.runId;
  }

  /** The durable log so far (what `transcript/reset` carries). */
  get log(): RunEvent[] {
    return this.builder.build();
  }

  /** Records durable events with the builder; returns the new ones. */
  durable(record: (b: EventBuilder) => void): RunEvent[] {
    record(this.builder);
    const fresh = this.builder.events.slice(this.#seen);
    this.#seen = this.builder.events.length;
    this.stream.push(...fresh);
    return fresh;
  }

  /** A live-only event; returns it. */
  live(draft: LiveDraft): RunEvent {
    const last = this.builder.events.at(-1);
    const event = RunEvent.parse({
      v: 1,
      runId: this.runId,
      seq: Math.max(1, last?.seq ?? 1),
      ts: new Date(this.builder.now).toISOString(),
      step: this.builder.currentStep,
      ...draft,
    });
    this.stream.push(event);
    return event;
  }

  /** Streams `text` as token deltas of `size` characters. */
  deltas(agentId: string, text: string, size = 6): RunEvent[] {
    const out: RunEvent[] = [];
    for (let i = 0; i < text.length; i += size) out.push(this.live({ type: 'model.delta', agentId, text: text.slice(i, i + size) }));
    return out;
  }
}

export const ORCHESTRATOR_TEXT = "I'll have the **developer** fix `add()` and the tester verify it.";
export const DEVELOPER_TEXT = 'The bug is in `src/math.js`: `add` subtracts. Running the tests first.';
export const TEST_OUTPUT = 'not ok 1 - add(2, 3) === 5\n  expected: 5\n  actual: -1\n';

/**
 * A team run up to the developer's failing test command, in host-sized
 * batches: [start, orchestrator streaming, delegation, developer streaming,
 * command running with output, command failed].
 */
export function teamRunBatches(run = new LiveRun()): RunEvent[][] {
  const batches: RunEvent[][] = [];
  batches.push(run.durable((b) => b.runStarted('Fix the failing add() test').agentStarted('orch-1', 'orchestrator', { task: 'Fix the failing add() test' })));
  batches.push(run.deltas('orch-1', ORCHESTRATOR_TEXT));
  batches.push([
    ...run.durable((b) =>
      b
        .modelTurn('orch-1', { text: ORCHESTRATOR_TEXT, toolCalls: [{ id: 'call-dev', name: 'delegate', args: { agent: 'developer', task: 'Fix add() in src/math.js' } }] })
        .toolStarted('orch-1', 'call-dev', 'delegate', { agent: 'developer', task: 'Fix add() in src/math.js' })
        .agentStarted('dev-1', 'developer', { parentAgentId: 'orch-1', parentCallId: 'call-dev', task: 'Fix add() in src/math.js' }),
    ),
  ]);
  batches.push(run.deltas('dev-1', DEVELOPER_TEXT));
  batches.push([
    ...run.durable((b) =>
      b
        .modelTurn('dev-1', { text: DEVELOPER_TEXT, toolCalls: [{ id: 'call-test', name: 'run_command', args: { command: 'npm test' } }] })
        .toolStarted('dev-1', 'call-test', 'run_command', { command: 'npm test' }),
    ),
    run.live({ type: 'tool.output', agentId: 'dev-1', callId: 'call-test', stream: 'stdout', chunk: TEST_OUTPUT }),
  ]);
  batches.push(run.durable((b) => b.toolCompleted('dev-1', 'call-test', 'run_command', { isError: true, output: TEST_OUTPUT, durationMs: 1800, meta: { exitCode: 1 } })));
  return batches;
}

/**
 * A long run for virtualisation tests and the bench: `messages` transcript
 * rows after the goal and the agent's header, alternating model text (with
 * some markdown) and tool cards with a few lines of output.
 */
export function longRun(messages: number, runId = 'run-long'): RunEvent[] {
  const b = new Builder({ runId, tickMs: 10 });
  b.runStarted('Refactor the parser and keep every test green').agentStarted('dev-1', 'developer', { task: 'Refactor the parser' });
  for (let i = 0; i < messages; i += 2) {
    b.modelTurn('dev-1', {
      text: `Step ${i / 2 + 1}: checking **module ${i % 97}**.\n\n- reads \`src/mod${i % 97}.ts\`\n- then runs its tests`,
      toolCalls: [{ id: `c${i}`, name: 'run_command', args: { command: `npm test -- mod${i % 97}` } }],
      durationMs: 40,
    });
    if (i + 1 < messages) {
      b.tool('dev-1', `c${i}`, 'run_command', { args: { command: `npm test -- mod${i % 97}` }, output: `ok 1 - parses\nok 2 - prints\n# pass 2`, meta: { exitCode: 0 }, durationMs: 20 });
    }
  }
  return b.build();
}
