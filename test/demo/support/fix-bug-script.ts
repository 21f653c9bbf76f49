/**
 * The model the fake provider plays in the demos: the team fixes add() in
 * test/fixtures/buggy-repo (it subtracts), and the tester confirms with
 * `npm test`. Both demos (cli-demo.ts, vscode-demo.ts) play it. It is stateless (test/support/fake-provider/script.ts): a
 * second run with the same goal gets the same answers.
 */
import { scriptByRole, type FakeRequest, type FakeResponse, type Responder } from '../../support/fake-provider/index.ts';

/** What the user types. */
export const DEMO_GOAL = 'Fix the failing test';
/** The fix the developer makes in src/math.js. */
export const FIX = { path: 'src/math.js', old_string: 'return a - b;', new_string: 'return a + b;' } as const;

const call = (text: string, name: string, args: Record<string, unknown>, chunkDelayMs: number): FakeResponse => ({ text, toolCalls: [{ name, args }], chunkDelayMs });
const lastResult = (req: FakeRequest): string => {
  const last = req.messages.filter((m) => m.role === 'tool').at(-1);
  return last && last.role === 'tool' ? last.content : '';
};

/** `chunkDelayMs`: the pause before each streamed SSE event (a person watching the chat sees text arrive). */
export function fixBugScript(opts: { chunkDelayMs?: number } = {}): Responder {
  const d = opts.chunkDelayMs ?? 3;
  return scriptByRole({
    orchestrator: [
      call('Let me look at the repository first.', 'list_files', { path: '.' }, d),
      call('The tests fail in add(); I will have the developer fix it.', 'delegate', { agent: 'developer', task: 'Run `npm test`, find why add() in src/math.js fails, fix it, and make `npm test` pass.' }, d),
      call('Now an independent check by the tester.', 'delegate', { agent: 'tester', task: 'Run `npm test` and give a verdict.' }, d),
      call('Done.', 'finish', { summary: 'Fixed add() in src/math.js (it subtracted); npm test passes, verified by the tester.' }, d),
    ],
    developer: [
      call('Reproducing the failure.', 'run_command', { command: 'npm test' }, d),
      call('add() subtracts; fixing it.', 'edit_file', { path: FIX.path, old_string: FIX.old_string, new_string: FIX.new_string }, d),
      call('Re-running the tests.', 'run_command', { command: 'npm test' }, d),
      call('All green.', 'finish', { summary: 'src/math.js: add() returned a - b; now a + b. npm test passes.' }, d),
    ],
    tester: [
      call('Running the suite.', 'run_command', { command: 'npm test' }, d),
      (req) => {
        const ok = /all tests passed/.test(lastResult(req));
        return call('Reporting.', 'finish', { summary: ok ? 'npm test: all tests passed.' : 'npm test fails.', verdict: ok ? 'pass' : 'fail' }, d);
      },
    ],
  });
}
