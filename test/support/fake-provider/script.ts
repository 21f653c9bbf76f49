/**
 * Responders for scripted runs. `scriptByRole` is stateless: the answer
 * depends only on the request (which agent is asking, how many turns it has
 * had, what its task is), so a client killed mid-run and resumed against the
 * same server gets the same answers. `queueResponder` is the stateful
 * alternative for single-conversation tests.
 */
import type { Role } from '../../../src/core/events/schema.ts';
import type { FakeRequest, FakeResponse, Responder } from './types.ts';

const ROLE_MARKERS: ReadonlyArray<readonly [Role, string]> = [
  ['orchestrator', 'You are the Crewbox orchestrator'],
  ['developer', 'You are the Crewbox developer'],
  ['tester', 'You are the Crewbox tester'],
];

/** The agent role named by the system prompt's marker phrase, if any. */
export function roleOf(req: FakeRequest): Role | undefined {
  return ROLE_MARKERS.find(([, marker]) => req.system.includes(marker))?.[0];
}

/** How many assistant turns the conversation already holds (0 for the first call). */
export function turnIndex(req: FakeRequest): number {
  return req.messages.filter((m) => m.role === 'assistant').length;
}

/** The first user message: the task a delegated agent was given. */
export function taskOf(req: FakeRequest): string {
  const first = req.messages.find((m) => m.role === 'user');
  return first?.role === 'user' ? first.content : '';
}

export interface ScriptContext {
  role: Role;
  turnIndex: number;
  task: string;
}

/** A fixed answer, or one computed from the request (e.g. to vary by task on a second delegation). */
export type ScriptEntry = FakeResponse | ((req: FakeRequest, ctx: ScriptContext) => FakeResponse | Promise<FakeResponse>);

export type RoleScript = Partial<Record<Role, readonly ScriptEntry[]>>;

export interface ScriptOptions {
  /** For requests without a role marker (e.g. a compaction call). Without it they fail the test. */
  unmatched?: Responder;
}

/** Entry `turnIndex(req)` of the requesting role's list. */
export function scriptByRole(script: RoleScript, options: ScriptOptions = {}): Responder {
  return (req) => {
    const role = roleOf(req);
    if (role === undefined) {
      if (options.unmatched) return options.unmatched(req);
      throw new Error(`no role marker in the system prompt: ${JSON.stringify(req.system.slice(0, 80))}`);
    }
    const index = turnIndex(req);
    const entry = script[role]?.[index];
    if (entry === undefined) throw new Error(`no scripted response for ${role} turn ${index}`);
    return typeof entry === 'function' ? entry(req, { role, turnIndex: index, task: taskOf(req) }) : entry;
  };
}

export interface QueueResponder extends Responder {
  /** Answers not yet given. */
  readonly remaining: number;
}

/** Answers in order, one per request, whatever the request; throws when exhausted. */
export function queueResponder(responses: ReadonlyArray<FakeResponse | Responder>): QueueResponder {
  const queue = [...responses];
  const respond = (req: FakeRequest): FakeResponse | Promise<FakeResponse> => {
    const entry = queue.shift();
    if (entry === undefined) throw new Error(`queue exhausted after ${responses.length} responses`);
    return typeof entry === 'function' ? entry(req) : entry;
  };
  return Object.defineProperty(respond, 'remaining', { get: () => queue.length }) as QueueResponder;
}

/**
 * How many times a role's turn was sampled, counted from the server's records
 * (so it includes attempts that got an error or were cut). Omit `turn` to
 * count all of the role's requests.
 */
export function countSamples(requests: readonly FakeRequest[], role: Role, turn?: number): number {
  return requests.filter((r) => roleOf(r) === role && (turn === undefined || turnIndex(r) === turn)).length;
}
