/**
 * The model the fake provider plays in the e2e tier, one script for the
 * whole session. Each run is told apart by its goal (the orchestrator's
 * task) and each delegated agent by the task the orchestrator gave it, so
 * answers depend only on the request (stateless: a resumed run, or a run
 * after a window reload, gets the same answers).
 */
import { scriptByRole, type FakeRequest, type FakeResponse, type Responder, type ScriptEntry } from '../../support/fake-provider/index.ts';

export const GOALS = {
  /** Stages a-g: a long command to stop, steering, a two-hunk fix, review, history. */
  fix: 'Fix the failing tests in src/math.js',
  /** Stage h: a run that is running when the window reloads. */
  slow: 'Time the slow suite of this project',
} as const;

/** writeTestsGoal('src/math.js') starts like this (src/extension/task-goals.ts). */
export const WRITE_TESTS_GOAL_START = 'Write tests for src/math.js';

/** The developer's long command (stages c and h): it never ends on its own within the tier. */
export const LONG_COMMAND = 'sleep 600';
export const STEER_MESSAGE = 'Skip the slow command and just fix add() and multiply().';
export const RESUMED_MARKER = 'resumed-after-reload';
/** The file the developer writes in the command-palette task (stage i). */
export const TESTS_FILE = 'test/square.test.js';

export const MATH_FIRST_HUNK = { old_string: 'function add(a, b) {\n  return a - b;', new_string: 'function add(a, b) {\n  return a + b;' };
export const MATH_SECOND_HUNK = { old_string: 'function multiply(a, b) {\n  return a + b;', new_string: 'function multiply(a, b) {\n  return a * b;' };

const call = (name: string, args: Record<string, unknown>): FakeResponse => ({ toolCalls: [{ name, args }] });
const lastToolResult = (req: FakeRequest): string => {
  const last = req.messages.filter((m) => m.role === 'tool').at(-1);
  return last?.role === 'tool' ? last.content : '';
};
const lastUserText = (req: FakeRequest): string => {
  const last = req.messages.filter((m) => m.role === 'user').at(-1);
  return last?.role === 'user' ? last.content : '';
};

type Kind = 'fix' | 'slow' | 'tests';
const DEV_TASKS: Record<Kind, string> = {
  fix: 'DEV-FIX: add() and multiply() in src/math.js are wrong; fix both so that `npm test` passes.',
  slow: 'DEV-SLOW: run the slow suite and report how long it takes.',
  tests: 'DEV-TESTS: write tests for square() in test/square.test.js and run them.',
};
const TESTER_TASKS: Record<Kind, string> = {
  fix: 'TEST-FIX: run `npm test` and report a verdict.',
  slow: 'TEST-SLOW: check the workspace still loads and report a verdict.',
  tests: 'TEST-TESTS: run `node test/square.test.js` and report a verdict.',
};
const TESTER_COMMANDS: Record<Kind, string> = {
  fix: 'npm test',
  slow: 'node -e "require(\'./src/math.js\')" && echo all tests passed',
  tests: 'node test/square.test.js',
};

function kindOfGoal(goal: string): Kind {
  if (goal.startsWith(GOALS.fix)) return 'fix';
  if (goal.startsWith(GOALS.slow)) return 'slow';
  if (goal.startsWith(WRITE_TESTS_GOAL_START)) return 'tests';
  throw new Error(`the e2e script has no run for the goal ${JSON.stringify(goal.slice(0, 80))}`);
}
function kindOfTask(task: string, tasks: Record<Kind, string>): Kind {
  const kind = (Object.keys(tasks) as Kind[]).find((k) => task.startsWith(tasks[k].slice(0, tasks[k].indexOf(':'))));
  if (!kind) throw new Error(`the e2e script has no agent for the task ${JSON.stringify(task.slice(0, 80))}`);
  return kind;
}

const DEVELOPER: Record<Kind, ScriptEntry[]> = {
  fix: [
    call('run_command', { command: LONG_COMMAND, timeout_s: 600 }),
    (req) => {
      // Resumed with the user's steering message after Stop.
      if (!lastUserText(req).includes(STEER_MESSAGE)) throw new Error(`the developer expected the steering message, got ${JSON.stringify(lastUserText(req).slice(0, 200))}`);
      return call('edit_file', { path: 'src/math.js', ...MATH_FIRST_HUNK });
    },
    call('edit_file', { path: 'src/math.js', ...MATH_SECOND_HUNK }),
    call('run_command', { command: 'npm test' }),
    call('finish', { summary: 'Fixed add() (a - b → a + b) and multiply() (a + b → a * b) in src/math.js; `npm test` passes.' }),
  ],
  slow: [
    call('run_command', { command: LONG_COMMAND, timeout_s: 600 }),
    call('run_command', { command: `echo ${RESUMED_MARKER}` }),
    call('finish', { summary: 'The slow suite was skipped after the reload.' }),
  ],
  tests: [
    call('write_file', {
      path: TESTS_FILE,
      content: "const assert = require('node:assert/strict');\nconst { square } = require('../src/math.js');\n\nassert.equal(square(3), 9);\nassert.equal(square(-2), 4);\nconsole.log('all tests passed');\n",
    }),
    call('run_command', { command: `node ${TESTS_FILE}` }),
    call('finish', { summary: `Added ${TESTS_FILE} for square(); it passes.` }),
  ],
};

export function teamScript(): Responder {
  const orchestrator: ScriptEntry[] = [
    (_req, ctx) => call('delegate', { agent: 'developer', task: DEV_TASKS[kindOfGoal(ctx.task)] }),
    (_req, ctx) => call('delegate', { agent: 'tester', task: TESTER_TASKS[kindOfGoal(ctx.task)] }),
    (_req, ctx) => call('finish', { summary: `Done (${kindOfGoal(ctx.task)}); the tester verified it.` }),
  ];
  const developer: ScriptEntry[] = Array.from({ length: 8 }, (_, turn) => (req: FakeRequest, ctx: { task: string }) => {
    const entry = DEVELOPER[kindOfTask(ctx.task, DEV_TASKS)][turn];
    if (entry === undefined) throw new Error(`no developer turn ${turn} for ${ctx.task.slice(0, 40)}`);
    return typeof entry === 'function' ? entry(req, { role: 'developer', turnIndex: turn, task: ctx.task }) : entry;
  });
  const tester: ScriptEntry[] = [
    (_req, ctx) => call('run_command', { command: TESTER_COMMANDS[kindOfTask(ctx.task, TESTER_TASKS)] }),
    (req) => {
      const passed = /all tests passed/.test(lastToolResult(req));
      return call('finish', { summary: passed ? 'The checks pass.' : 'The checks fail.', verdict: passed ? 'pass' : 'fail' });
    },
  ];
  return scriptByRole({ orchestrator, developer, tester });
}
