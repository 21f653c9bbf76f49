/**
 * The crash tests' scenario, shared by the parent (the fake provider's script)
 * and the child (the sandbox's commands): fix a bug, test it, finish.
 */
import type { RoleScript } from './fake-provider/script.ts';
import type { FakeResponse } from './fake-provider/types.ts';
import type { ScriptedSandbox } from './sandbox-core.ts';

/** Long enough for a kill to land inside a running command. */
export const CRASH_COMMAND_MS = 150;

export const CRASH_FILES = { 'src/math.js': 'export function add(a, b) {\n  return a - b;\n}\n' };

const call = (name: string, args: Record<string, unknown>): FakeResponse => ({ text: `Calling ${name}.`, toolCalls: [{ name, args }], chunkDelayMs: 2 });

export const CRASH_SCRIPT: RoleScript = {
  orchestrator: [
    call('list_files', { path: '.' }),
    call('delegate', { agent: 'developer', task: 'Fix add() in src/math.js.' }),
    call('delegate', { agent: 'tester', task: 'Verify add().' }),
    call('finish', { summary: 'Fixed and verified.' }),
  ],
  developer: [
    call('read_file', { path: 'src/math.js' }),
    call('edit_file', { path: 'src/math.js', old_string: 'a - b', new_string: 'a + b' }),
    call('run_command', { command: 'npm run build' }),
    call('finish', { summary: 'Fixed add().' }),
  ],
  tester: [call('run_command', { command: 'npm test' }), call('finish', { summary: 'Tests pass.', verdict: 'pass' })],
};

export function crashScenarioCommands(sandbox: ScriptedSandbox, delayMs: number): void {
  const slow = (result: { exitCode: number; stdout: string }) => (_cmd: string, ctx: { signal: AbortSignal }) =>
    new Promise<{ exitCode: number; stdout: string }>((resolve) => {
      const timer = setTimeout(() => resolve(result), delayMs);
      ctx.signal.addEventListener('abort', () => clearTimeout(timer));
    });
  sandbox.onCommand(/^npm run build$/, slow({ exitCode: 0, stdout: 'built\n' }));
  sandbox.onCommand(/^npm test$/, slow({ exitCode: 0, stdout: '1 passing\n' }));
}
