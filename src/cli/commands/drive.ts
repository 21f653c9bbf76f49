/**
 * Drives a run handle to its end for `run` and `resume`: live output (human or
 * JSON lines), SIGINT → interrupt (the running command is killed, the run is
 * saved as interrupted), questions answered interactively on a terminal.
 */
import type { RunEvent } from '../../core/events/schema.ts';
import type { CrewRuntime, RunHandle } from '../../core/runtime/runtime.ts';
import type { RunOutcome } from '../../core/runtime/run-driver.ts';
import { createProgressRenderer } from '../render.ts';
import { EXIT } from '../exit-codes.ts';
import type { CliIo } from '../io.ts';

export function eventPrinter(io: CliIo, json: boolean): (e: RunEvent) => void {
  if (json) return (e) => io.out(JSON.stringify(e));
  const render = createProgressRenderer(io.out);
  return (e) => {
    if (e.type === 'sandbox.progress') io.err(`  … ${e.message}`);
    else render(e);
  };
}

export async function driveToEnd(io: CliIo, runtime: CrewRuntime, first: RunHandle, onEvent: (e: RunEvent) => void): Promise<number> {
  let handle = first;
  let interrupted = false;
  const off = io.onInterrupt(() => {
    if (interrupted) return;
    interrupted = true;
    io.err('Stopping: the running command is being killed and the run saved…');
    handle.interrupt('interrupted (SIGINT)');
  });
  try {
    for (;;) {
      const outcome: RunOutcome = await handle.done;
      if (outcome.status === 'waiting_user' && io.ask && !interrupted) {
        const answer = await io.ask(`${outcome.question}\n> `);
        handle = await runtime.answer(outcome.runId, answer, onEvent);
        continue;
      }
      return report(io, outcome, interrupted);
    }
  } finally {
    off();
  }
}

function report(io: CliIo, o: RunOutcome, interrupted: boolean): number {
  switch (o.status) {
    case 'completed':
      io.err(`Run ${o.runId} completed. Review with "crewbox diff ${o.runId}", apply with "crewbox apply ${o.runId}".`);
      return EXIT.ok;
    case 'interrupted':
      io.err(`Run ${o.runId} interrupted. Continue with "crewbox resume ${o.runId} --message '...'".`);
      return interrupted ? EXIT.interrupted : EXIT.failed;
    case 'waiting_user':
      io.err(`Run ${o.runId} is waiting for your answer: ${o.question}\nAnswer with "crewbox resume ${o.runId} --message '...'".`);
      return EXIT.failed;
    default:
      io.err(`Run ${o.runId} ${o.status}: ${o.summary}${o.status !== 'failed' || !o.error ? '' : ` (${o.error.kind})`}`);
      return EXIT.failed;
  }
}
