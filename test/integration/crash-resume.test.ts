/**
 * Crash tests: a child process drives a scripted team run and is killed with
 * SIGKILL at many points (after each kind of durable event, inside a running
 * command, inside a model stream); a second process resumes it. Asserted:
 * the run completes, no completed step is lost, no side-effecting command
 * ran twice (the sandbox double's durable exec log), no completed model turn
 * was sampled again (the fake server's request log), the store still parses.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import type { ProviderName, RunEvent } from '../../src/core/events/schema.ts';
import { readRunLog } from '../../src/core/store/event-log.ts';
import { crewboxPaths } from '../../src/core/store/layout.ts';
import { RunIndex } from '../../src/core/store/run-index.ts';
import { startFakeProvider, scriptByRole, roleOf, taskOf, turnIndex, type FakeProvider } from '../support/fake-provider/index.ts';
import { DirSandbox, readExecLog } from '../support/dir-sandbox.ts';
import { CRASH_FILES, CRASH_SCRIPT } from '../support/crash-scenario.ts';

/** The child is bundled once (as the CLI is), so each spawn starts in milliseconds, not seconds. */
let childBundle = '';
async function bundleChild(dir: string): Promise<string> {
  const out = path.join(dir, 'crash-child.mjs');
  await build({
    entryPoints: [path.resolve('test/support/crash-child.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    loader: { '.njk': 'text' },
    // CommonJS dependencies inside an ESM bundle need a require().
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
  return out;
}

type KillPoint =
  | { kind: 'after-event'; n: number }
  | { kind: 'in-command'; n: number }
  | { kind: 'in-stream'; n: number };

interface ChildResult {
  killed: boolean;
  outcome?: { status: string; verdict?: string; summary: string };
  stderr: string;
}

function runChild(env: Record<string, string>, kill?: KillPoint): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childBundle], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let events = 0;
    let commands = 0;
    let deltas = 0;
    let killed = false;
    let outcome: ChildResult['outcome'];
    const killNow = () => {
      if (!killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('OUTCOME ')) outcome = JSON.parse(line.slice(8));
      if (!kill || killed) return;
      if (line.startsWith('E ')) {
        events += 1;
        if (kill.kind === 'after-event' && events === kill.n) killNow();
        if (kill.kind === 'in-command' && / tool\.started run_command$/.test(line) && ++commands === kill.n) killNow();
      } else if (line.startsWith('D ') && kill.kind === 'in-stream' && ++deltas === kill.n) killNow();
    });
    child.on('error', reject);
    child.on('close', () => resolve({ killed, ...(outcome ? { outcome } : {}), stderr }));
  });
}

/** (role, task, turn index): what identifies one model turn across processes. */
function turnKeyOfRequest(req: Parameters<typeof roleOf>[0]): string {
  return `${roleOf(req)}|${taskOf(req)}|${turnIndex(req)}`;
}

function durableTurnKeys(events: RunEvent[]): string[] {
  const agents = new Map<string, { role: string; task: string }>();
  const turns = new Map<string, number>();
  const keys: string[] = [];
  for (const e of events) {
    if (e.type === 'agent.started') agents.set(e.agentId!, { role: e.role, task: e.task });
    if (e.type === 'model.turn') {
      const a = agents.get(e.agentId!)!;
      const n = turns.get(e.agentId!) ?? 0;
      turns.set(e.agentId!, n + 1);
      keys.push(`${a.role}|${a.task}|${n}`);
    }
  }
  return keys;
}

describe('crash and resume (kill -9 of a child process)', function () {
  this.timeout(120_000);
  let fake: FakeProvider;
  let fullRunEvents = 0;

  let bundleDir = '';
  before(async () => {
    bundleDir = await mkdtemp(path.join(tmpdir(), 'crewbox-crash-bundle-'));
    childBundle = await bundleChild(bundleDir);
    fake = await startFakeProvider({ respond: scriptByRole(CRASH_SCRIPT) });
  });
  after(async () => {
    await fake.close();
    await rm(bundleDir, { recursive: true, force: true });
  });

  async function scenario(provider: ProviderName, kill: KillPoint | undefined) {
    const base = await mkdtemp(path.join(tmpdir(), 'crewbox-crash-'));
    const workspace = path.join(base, 'ws');
    const sandboxDir = path.join(base, 'sandbox');
    await mkdir(workspace);
    await mkdir(sandboxDir);
    new DirSandbox({ root: sandboxDir, execLogPath: path.join(base, 'execs.jsonl') }).seed(CRASH_FILES);
    const runId = `run-crash-${provider}-${kill ? `${kill.kind}-${kill.n}` : 'full'}`;
    const env = {
      CB_WORKSPACE: workspace,
      CB_SANDBOX: sandboxDir,
      CB_EXECLOG: path.join(base, 'execs.jsonl'),
      CB_PROVIDER: provider,
      CB_FAKE_URL: fake.url,
      CB_RUN_ID: runId,
    };
    const requestsBefore = fake.requests.length;
    const first = await runChild({ ...env, CB_MODE: 'start' }, kill);
    const logPath = crewboxPaths(workspace).runEvents(runId);
    return { base, workspace, runId, env, first, logPath, requestsBefore };
  }

  for (const provider of ['openai', 'anthropic'] as const) {
    it(`runs the scenario to completion without a kill (${provider})`, async () => {
      const s = await scenario(provider, undefined);
      assert.equal(s.first.outcome?.status, 'completed', s.first.stderr);
      const { events } = await readRunLog(s.logPath);
      fullRunEvents = events.length;
      assert.ok(fullRunEvents > 30);
      await rm(s.base, { recursive: true, force: true });
    });
  }

  const points: KillPoint[] = [
    { kind: 'after-event', n: 2 },
    { kind: 'after-event', n: 4 },
    { kind: 'after-event', n: 7 },
    { kind: 'after-event', n: 11 },
    { kind: 'after-event', n: 15 },
    { kind: 'after-event', n: 19 },
    { kind: 'after-event', n: 23 },
    { kind: 'after-event', n: 28 },
    { kind: 'after-event', n: 33 },
    { kind: 'in-command', n: 1 },
    { kind: 'in-command', n: 2 },
    { kind: 'in-stream', n: 3 },
    { kind: 'in-stream', n: 25 },
  ];

  points.forEach((point, i) => {
    const provider: ProviderName = i % 2 === 0 ? 'openai' : 'anthropic';
    it(`resumes after a kill ${point.kind} #${point.n} (${provider}) without losing or repeating work`, async () => {
      const s = await scenario(provider, point);
      assert.ok(s.first.killed, `the child was killed (it ended with ${JSON.stringify(s.first.outcome)})`);

      // What was durable at the moment of the kill.
      const atKill = await readRunLog(s.logPath).catch(() => ({ events: [] as RunEvent[], problems: [] }));
      assert.ok(atKill.problems.every((p) => p.kind === 'torn_tail'), `only a torn tail is possible: ${JSON.stringify(atKill.problems)}`);
      const durableKeys = durableTurnKeys(atKill.events);
      const execsAtKill = readExecLog(s.env.CB_EXECLOG).length;

      const second = await runChild({ ...s.env, CB_MODE: 'resume' });
      assert.equal(second.outcome?.status, 'completed', second.stderr || JSON.stringify(second.outcome));

      const final = await readRunLog(s.logPath);
      assert.deepEqual(final.problems, [], 'the recovered log parses cleanly');
      // No completed step lost: the durable prefix is still the log's prefix.
      assert.deepEqual(final.events.slice(0, atKill.events.length), atKill.events);
      // No model turn re-sampled: every turn durable before the kill was requested exactly once.
      const requests = fake.requests.slice(s.requestsBefore);
      for (const key of durableKeys) {
        assert.equal(requests.filter((r) => turnKeyOfRequest(r) === key).length, 1, `turn ${key} was sampled once`);
      }
      // Each turn appears once in the final log.
      const finalKeys = durableTurnKeys(final.events);
      assert.equal(new Set(finalKeys).size, finalKeys.length, 'no duplicated model turn in the log');
      // No side-effecting command ran twice.
      const execs = readExecLog(s.env.CB_EXECLOG);
      const perCall = new Map<string, number>();
      for (const e of execs) perCall.set(e.callId, (perCall.get(e.callId) ?? 0) + 1);
      for (const [callId, n] of perCall) assert.equal(n, 1, `command ${callId} ran once`);
      assert.ok(execs.length >= execsAtKill);
      // A command cut off by the kill is reported to the model as of unknown outcome, never re-run.
      const unknown = final.events.filter((e) => e.type === 'tool.completed' && e.meta?.['outcome'] === 'unknown');
      if (point.kind === 'in-command') assert.equal(unknown.length, 1);
      // The index still parses and knows the run.
      const entry = await (await RunIndex.open(s.workspace)).get(s.runId);
      assert.equal(entry?.status, 'completed');
      await rm(s.base, { recursive: true, force: true });
    });
  });

  it('covered kill points spread over the whole run', () => {
    assert.ok(fullRunEvents > 0);
    const maxPoint = Math.max(...points.filter((p) => p.kind === 'after-event').map((p) => p.n));
    assert.ok(maxPoint < fullRunEvents, 'every after-event kill point lies inside the run');
    assert.ok(maxPoint > fullRunEvents * 0.7, 'kill points reach late into the run');
  });
});
