/**
 * Control tools: the model calls them like any tool, but the runtime acts on
 * them (ending an agent, starting a sub-agent, pausing for the user), so they
 * carry a schema and a description only.
 */
import { z } from 'zod';
import { defineTool } from './define.ts';

export const finishTool = defineTool({
  name: 'finish',
  description:
    'Call once when your task is done (or cannot be done), instead of replying in plain text. ' +
    'The summary is what whoever gave you the task reads: say what you did, what you found and anything left open. ' +
    'A tester sets verdict to "pass" or "fail"; "fail" needs the reason in the summary.',
  readOnly: true,
  schema: z.strictObject({
    summary: z.string().regex(/\S/, 'must not be empty').describe('What was done and what remains, for the one who assigned the task.'),
    verdict: z.enum(['pass', 'fail']).optional().describe('Test verdict: "pass" or "fail". Testers set it; others usually leave it out.'),
  }),
});

export const delegateTool = defineTool({
  name: 'delegate',
  description:
    'Hand a task to a team member and wait for its summary: "developer" changes code and runs commands, ' +
    '"tester" checks the work and returns a pass/fail verdict. They do not see this conversation, so the task ' +
    'must be self-contained: goal, relevant files, constraints and how to tell it is done.',
  readOnly: false,
  schema: z.strictObject({
    agent: z.enum(['developer', 'tester']).describe('Who gets the task.'),
    task: z.string().regex(/\S/, 'must not be empty').describe('The complete, self-contained task description.'),
  }),
});

export const askUserTool = defineTool({
  name: 'ask_user',
  description:
    'Ask the user a question and wait for the answer. Use it only when the goal is ambiguous or a decision is theirs to make; ' +
    'ask one clear question.',
  readOnly: true,
  schema: z.strictObject({
    question: z.string().regex(/\S/, 'must not be empty').describe('The question, with the options if there are any.'),
  }),
});
