/**
 * Drives this window's run: opens the workspace's Docker sandbox and a
 * CrewRuntime for each drive exactly as the CLI does (src/cli/runtime.ts),
 * and tells the views what happens. Knows nothing of `vscode`.
 *
 * Contract:
 * - At most one drive per window at a time (the run lock keeps other windows
 *   and the CLI out of the same run); a second start gets `conflict`.
 * - Heavy modules (core runtime, dockerode, lowdb) load on first use.
 * - The sandbox session lives as long as the drive and is closed when the
 *   run stops, whatever the outcome.
 * - Expected failures reach callers as RequestFailed (one sentence and
 *   actions); a run's own failures are outcomes in its event log.
 */
import { existsSync } from 'node:fs';
import type { ProviderName, RunConfig, RunEvent } from '../core/events/schema.ts';
import type { Logger } from '../core/log/logger.ts';
import type { RunHandle, CrewRuntime } from '../core/runtime/runtime.ts';
import type { RunSummary } from '../core/store/run-summary.ts';
import type { SandboxStatus } from '../protocol/schemas.ts';
import { RequestFailed } from '../protocol/host-channel.ts';
import { Emitter } from './emitter.ts';
import { loadHeavy } from './load-heavy.ts';
import { sandboxStatusAfter, toRequestFailed } from './failures.ts';
import { selectResumable } from './resumable.ts';
import { ENV_KEY_VARS, PROVIDER_LABELS, baseUrlsFrom, runConfigFrom, sandboxOptionsFrom, type CrewboxSettings } from './settings.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** What a drive needs from the sandbox session (the subset of SandboxSession used here). */
export interface DriveSession {
  sandbox: unknown;
  runFiles: unknown;
  close(): Promise<void>;
}

/** The heavy half, behind a loader so activation stays cheap and tests can fake it. */
export interface HeavyModules {
  openSession(opts: {
    workspace: string;
    installDir: string;
    network: boolean;
    image?: string;
    limits?: { memoryBytes: number; cpus: number; pids: number };
    env: Env;
    onProgress: (p: { phase: string; message: string }) => void;
    onCollected?: (gc: { collected: boolean }) => void;
  }): Promise<DriveSession>;
  createRuntime(opts: { workspace: string; session: DriveSession; env: Env; apiKeys: Partial<Record<ProviderName, string>>; baseURLs: Partial<Record<ProviderName, string>>; logger: Logger }): CrewRuntime;
  listRuns(workspace: string): Promise<RunSummary[]>;
  isRunLocked(workspace: string, runId: string): Promise<boolean>;
  readEvents(workspace: string, runId: string): Promise<RunEvent[]>;
}

export interface RunControllerDeps {
  workspace: string;
  /** The extension's folder: holds sandbox/Dockerfile and sandbox/supervisor/. */
  installDir: string;
  env: Env;
  settings(): CrewboxSettings;
  /** The key stored in SecretStorage, else the environment's; undefined when neither has one. */
  apiKey(provider: ProviderName): Promise<string | undefined>;
  logger: Logger;
  load(): Promise<HeavyModules>;
}

interface ActiveDrive {
  runId: string;
  handle: RunHandle;
}

export class RunController {
  #active: ActiveDrive | undefined;
  #opening = false;
  /** dispose() was called: no new drive starts. */
  #disposed = false;
  /** Settles when the drive being opened is active or has failed. */
  #pendingOpen: Promise<void> | undefined;
  /** The previous drive's sandbox session, while it closes. */
  #closing: Promise<void> | undefined;
  #sandbox: SandboxStatus = { state: 'unknown' };

  private readonly _onDidRunEvent = new Emitter<RunEvent>((e) => this.deps.logger.error('run event listener failed', { error: e }));
  /** Every event of the driven run, durable and live-only, in order. */
  readonly onDidRunEvent = this._onDidRunEvent.event;
  private readonly _onDidChangeStatus = new Emitter<void>();
  /** Driving or the sandbox's state changed. */
  readonly onDidChangeStatus = this._onDidChangeStatus.event;
  private readonly _onDidStartDrive = new Emitter<string>();
  /** A drive of this run began (the chat switches to it). */
  readonly onDidStartDrive = this._onDidStartDrive.event;

  constructor(private readonly deps: RunControllerDeps) {}

  get activeRunId(): string | undefined {
    return this.#active?.runId;
  }

  get sandbox(): SandboxStatus {
    return this.#sandbox;
  }

  isDriving(runId: string | null | undefined): boolean {
    return runId !== null && runId !== undefined && this.#active?.runId === runId;
  }

  async start(goal: string): Promise<string> {
    const settings = this.deps.settings();
    const config = runConfigFrom(settings);
    return this.drive(config, baseUrlsFrom(settings), (runtime, onEvent) => runtime.start(goal, { config, onEvent }));
  }

  async resume(runId: string, message?: string): Promise<string> {
    const config = await this.configOf(runId);
    return this.drive(config, baseUrlsFrom(this.deps.settings()), (runtime, onEvent) => runtime.resume(runId, { ...(message ? { message } : {}), onEvent }));
  }

  async answer(runId: string, callId: string, answer: string): Promise<string> {
    const events = await this.events(runId);
    const asked = events.filter((e) => e.type === 'ask_user.asked').map((e) => (e.type === 'ask_user.asked' ? e.callId : ''));
    const answered = new Set(events.map((e) => (e.type === 'ask_user.answered' ? e.callId : undefined)));
    if (!asked.includes(callId) || answered.has(callId)) throw new RequestFailed('not_found', 'That question is no longer open.');
    const config = await this.configOf(runId, events);
    return this.drive(config, baseUrlsFrom(this.deps.settings()), (runtime, onEvent) => runtime.answer(runId, answer, onEvent));
  }

  interrupt(runId: string, reason?: string): void {
    if (!this.isDriving(runId)) throw new RequestFailed('not_found', `Run ${runId} is not running in this window.`);
    this.#active!.handle.interrupt(reason);
  }

  async events(runId: string): Promise<RunEvent[]> {
    const heavy = await this.deps.load();
    try {
      return await heavy.readEvents(this.deps.workspace, runId);
    } catch (e) {
      throw toRequestFailed(e) ?? e;
    }
  }

  async listRuns(): Promise<RunSummary[]> {
    return (await this.deps.load()).listRuns(this.deps.workspace);
  }

  async resumableRuns(): Promise<RunSummary[]> {
    const heavy = await this.deps.load();
    return selectResumable(await heavy.listRuns(this.deps.workspace), (id) => heavy.isRunLocked(this.deps.workspace, id), this.#active?.runId);
  }

  /** Stops the active run (window closing) and waits for it to record that it stopped. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    // A drive still opening (sandbox start, copy-in) becomes active first; then it is stopped like any other.
    await this.#pendingOpen;
    const active = this.#active;
    if (active) {
      active.handle.interrupt('the window closed');
      await active.handle.done.catch(() => undefined);
    }
    this._onDidRunEvent.dispose();
    this._onDidChangeStatus.dispose();
    this._onDidStartDrive.dispose();
  }

  private setSandbox(status: SandboxStatus): void {
    this.#sandbox = status;
    this._onDidChangeStatus.fire();
  }

  /** The run's frozen configuration, from its first event. */
  private async configOf(runId: string, events?: RunEvent[]): Promise<RunConfig> {
    const started = (events ?? (await this.events(runId))).find((e) => e.type === 'run.started');
    if (started?.type !== 'run.started') throw new RequestFailed('not_found', `Run ${runId} has no recorded start; nothing to resume.`);
    return started.config;
  }

  private async keysFor(config: RunConfig): Promise<Partial<Record<ProviderName, string>>> {
    const providers = new Set(Object.values(config.roles).map((r) => r.provider));
    const keys: Partial<Record<ProviderName, string>> = {};
    for (const provider of providers) {
      const key = await this.deps.apiKey(provider);
      if (!key) {
        throw new RequestFailed('failed', `No ${PROVIDER_LABELS[provider]} API key: use Set API Key, or set ${ENV_KEY_VARS[provider]} before starting VS Code.`, ['setApiKey']);
      }
      keys[provider] = key;
    }
    return keys;
  }

  private drive(
    config: RunConfig,
    baseURLs: Partial<Record<ProviderName, string>>,
    launch: (runtime: CrewRuntime, onEvent: (e: RunEvent) => void) => Promise<RunHandle>,
  ): Promise<string> {
    if (this.#disposed) return Promise.reject(new RequestFailed('failed', 'Crewbox is shutting down with this window.'));
    const opening = this.open(config, baseURLs, launch);
    const settled = opening.then(() => undefined, () => undefined);
    this.#pendingOpen = settled;
    void settled.then(() => {
      if (this.#pendingOpen === settled) this.#pendingOpen = undefined;
    });
    return opening;
  }

  private async open(
    config: RunConfig,
    baseURLs: Partial<Record<ProviderName, string>>,
    launch: (runtime: CrewRuntime, onEvent: (e: RunEvent) => void) => Promise<RunHandle>,
  ): Promise<string> {
    if (this.#active || this.#opening) throw new RequestFailed('conflict', 'A run is already active in this window; stop it first.');
    this.#opening = true;
    let session: DriveSession | undefined;
    try {
      await this.#closing;
      const apiKeys = await this.keysFor(config);
      const heavy = await this.deps.load();
      this.setSandbox({ state: 'starting', detail: 'Starting the sandbox.' });
      session = await heavy.openSession({
        workspace: this.deps.workspace,
        installDir: this.deps.installDir,
        network: config.network,
        // The sandbox's image and limits follow the settings at each drive (a change recreates the container).
        ...sandboxOptionsFrom(this.deps.settings()),
        env: this.deps.env,
        onProgress: (p) => this.setSandbox({ state: p.phase === 'image' ? 'building' : 'starting', detail: p.message.slice(0, 500) }),
        onCollected: (gc) => this.deps.logger.info('blob store collection when the sandbox session closed', { gc }),
      });
      this.setSandbox({ state: 'ready' });
      const runtime = heavy.createRuntime({ workspace: this.deps.workspace, session, env: this.deps.env, apiKeys, baseURLs, logger: this.deps.logger });
      const handle = await launch(runtime, (e) => this._onDidRunEvent.fire(e));
      this.#active = { runId: handle.runId, handle };
      this.watch(handle, session);
      this._onDidStartDrive.fire(handle.runId);
      this._onDidChangeStatus.fire();
      return handle.runId;
    } catch (e) {
      if (session) await session.close().catch(() => undefined);
      const failed = toRequestFailed(e);
      if (session === undefined && !(e instanceof RequestFailed)) this.setSandbox(sandboxStatusAfter(e));
      this.deps.logger.warn('run could not start', { error: e });
      throw failed ?? e;
    } finally {
      this.#opening = false;
    }
  }

  private watch(handle: RunHandle, session: DriveSession): void {
    const log = this.deps.logger.child({ runId: handle.runId });
    void handle.done
      .then(
        (outcome) => log.info('run stopped', { status: outcome.status }),
        (e: unknown) => log.error('run could not be driven', { error: e }),
      )
      .finally(async () => {
        // The run has stopped: the views say so now, not after the sandbox link
        // closes (which can take a moment); the next drive waits for that close.
        if (this.#active?.handle === handle) this.#active = undefined;
        const closing = session.close().catch((e: unknown) => log.warn('sandbox session did not close cleanly', { error: e }));
        this.#closing = closing;
        this._onDidChangeStatus.fire();
        await closing;
        if (this.#closing === closing) this.#closing = undefined;
      });
  }
}

/** The real heavy modules, imported on first use. */
export async function loadHeavyModules(): Promise<HeavyModules> {
  const { openSandboxSession, createRuntime, RunIndex, isRunLocked, readRunLog, crewboxPaths } = await loadHeavy();
  type Session = Awaited<ReturnType<typeof openSandboxSession>>;
  return {
    openSession: (opts) => openSandboxSession(opts),
    createRuntime: ({ session, ...opts }) => {
      const s = session as Session;
      return createRuntime({ ...opts, sandbox: s.sandbox, runFiles: s.runFiles });
    },
    // Opening the index creates .crewbox/; merely showing the chat in a folder without runs must not.
    listRuns: async (workspace) => (existsSync(crewboxPaths(workspace).runsDir) ? (await RunIndex.open(workspace)).list() : []),
    isRunLocked: (workspace, runId) => isRunLocked(workspace, runId),
    readEvents: async (workspace, runId) => (await readRunLog(crewboxPaths(workspace).runEvents(runId))).events,
  };
}
