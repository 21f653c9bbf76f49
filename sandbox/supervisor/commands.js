'use strict';
/**
 * The `exec` and `kill` ops: one command per tool call, journaled by call id.
 *
 * - A call id already in the journal returns the recorded result
 *   (`replayed: true`) without running anything.
 * - A call id running here is joined: the second request gets the same result
 *   (`joined: true`) and the output from then on.
 * - A call id claimed by another supervisor process (the one a crashed host
 *   left behind, still finishing its command) is joined through the journal;
 *   if that process died without a result, the call is recorded as
 *   interrupted (`aborted: true, interrupted: true`) and never rerun.
 * - The working directory persists per `session` (default "default") across
 *   calls and supervisor restarts (a small JSON file in the state directory).
 *   If it no longer exists, the command runs in the workspace root and says so.
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { OpError } = require('./confine.js');
const { runProcess } = require('./exec.js');
const { startCold } = require('./cold.js');
const { RunnerPool } = require('./runner.js');
const { killCommand, Sweeper } = require('./reaper.js');

const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_TIMEOUT_MS = 24 * 3600_000;
const DEFAULT_SESSION = 'default';
/** Runners started with the supervisor, and kept idle at most (runner.js): a few agents call at once. */
const RUNNERS_PRESTART = 2;
const RUNNERS_IDLE_MAX = 4;
/** Leftovers outside a finished command's group are swept in batches, this long after it ends. */
const SWEEP_DELAY_MS = 50;

class ExecService {
  constructor({ journal, root, stateDir, scratchDir = stateDir, shell, env, limits, runners = true }) {
    this.journal = journal;
    this.root = root;
    this.stateDir = stateDir;
    this.scratchDir = scratchDir;
    this.shell = shell;
    this.env = env;
    this.limits = limits;
    this.cwdFile = path.join(stateDir, 'cwd.json');
    this.cwds = loadJson(this.cwdFile);
    /** callId -> { promise, kill, listeners } */
    this.running = new Map();
    this.idleWaiters = [];
    this.pendingRecords = new Map();
    /** Journal and cwd writes in flight (awaited by close). */
    this.writes = new Set();
    this.cwdWriting = false;
    this.cwdDirty = false;
    this.sweeper = new Sweeper(SWEEP_DELAY_MS, () => ({ skip: this.pool.pids(), otherGroups: this.leadersExcept(null) }));
    this.pool = new RunnerPool({ shell: runners ? shell : '', env, root, scratchDir, idleMax: RUNNERS_IDLE_MAX, prestart: RUNNERS_PRESTART });
  }

  /**
   * Commands whose supervisor was killed keep running with nobody to enforce
   * their timeout: kill them and record them as interrupted (called at start).
   */
  recoverOrphans() {
    for (const marker of this.journal.orphans()) {
      killCommand(0, marker.token, { skip: this.pool.pids() });
      this.journal.record(marker.callId, 'exec', this.interrupted(DEFAULT_SESSION));
    }
  }

  /** Waits for pending journal writes, then stops the idle runners (running commands are not touched). */
  async close() {
    await Promise.all([...this.writes]);
    this.sweeper.flush();
    this.pool.close();
  }

  /**
   * Journals a result once its answer is written, through the thread pool
   * (Journal.recordAsync), so a slow disk delays neither this answer nor other
   * calls. A resend arriving meanwhile gets the pending result; a resend
   * through another supervisor waits on the claim, which goes only after the
   * result is published. `close()` waits for these writes.
   */
  recordSoon(callId, result, abortRequested) {
    this.pendingRecords.set(callId, result);
    // If the write fails, the result stays pending here: resends to this supervisor still get it.
    this.background(
      this.journal.recordAsync(callId, 'exec', result, abortRequested).then(() => {
        if (this.pendingRecords.get(callId) === result) this.pendingRecords.delete(callId);
      }),
      `journal ${callId}`,
    );
  }

  /** Tracks a file write that runs alongside the calls; a failure is reported on stderr. */
  background(promise, what) {
    const write = promise.catch((e) => process.stderr.write(`crewbox-supervisor: could not ${what}: ${e.message}\n`));
    this.writes.add(write);
    write.finally(() => this.writes.delete(write));
  }

  async exec(params, notify) {
    const { callId, command } = params;
    if (typeof callId !== 'string' || callId === '') throw new OpError('invalid', 'exec needs a callId.');
    if (typeof command !== 'string') throw new OpError('invalid', 'exec needs a command string.');
    const timeoutMs = params.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : Number(params.timeoutMs);
    if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) throw new OpError('invalid', `timeoutMs must be in (0, ${MAX_TIMEOUT_MS}].`);
    const session = typeof params.session === 'string' && params.session !== '' ? params.session : DEFAULT_SESSION;

    const live = this.running.get(callId);
    if (live) return { ...(await this.listen(live, notify)), joined: true };
    const pending = this.pendingRecords.get(callId);
    if (pending) return { ...pending, replayed: true };
    const stored = this.journal.read(callId);
    if (stored) return { ...stored.result, replayed: true };
    // replayOnly: a host recovering from its own crash asks what became of a
    // call; if no supervisor ever claimed it, it must not be started now.
    if (params.replayOnly === true && this.journal.marker(callId) === undefined) {
      const late = this.journal.read(callId, { thorough: true });
      if (late) return { ...late.result, replayed: true };
      throw new OpError('not_found', `No record of call ${callId} in the journal.`);
    }

    let cwd = this.cwdOf(session);
    let note = '';
    if (!isDirectory(cwd)) {
      note = `[crewbox: the working directory ${cwd} no longer exists; the command ran in ${this.root}]\n`;
      cwd = this.root;
    }
    if (command.includes('\0')) throw new OpError('invalid', 'The command contains a NUL character.');
    const token = crypto.randomBytes(12).toString('hex');
    if (!this.journal.claim(callId, token)) {
      // If the owner dies before finishing, what it left running is killed before the call is recorded as interrupted.
      const orphaned = () => {
        this.killRemote(callId);
        return this.interrupted(session);
      };
      const entry = this.track(callId, this.journal.waitFor(callId, orphaned), () => this.killRemote(callId));
      return { ...(await this.listen(entry, notify)), joined: true };
    }
    // A supervisor that recorded the call after the lookup above released its claim only after recording it.
    const late = this.journal.read(callId, { thorough: true });
    if (late) {
      this.journal.release(callId);
      return { ...late.result, replayed: true };
    }

    const runner = this.pool.take();
    const start = runner ? (spec, handlers) => runner.start(spec, handlers) : (spec, handlers) => startCold({ shell: this.shell, env: this.env }, spec, handlers);
    const listeners = new Set();
    const proc = runProcess({
      start,
      token,
      cwdFile: path.join(this.scratchDir, `cwd-${token}`),
      command,
      cwd,
      timeoutMs,
      limits: this.limits,
      scope: () => ({ skip: this.pool.pids(), otherGroups: this.leadersExcept(callId) }),
      sweep: (job) => this.sweeper.add(job),
      onOutput: (stream, chunk) => listeners.forEach((l) => l({ event: 'output', stream, chunk })),
      onPaused: () => listeners.forEach((l) => l({ event: 'paused', bytes: this.limits.streamBudget })),
    });
    const finished = proc.done.then((raw) => {
      if (runner) this.pool.release(runner);
      const result = { ...raw, stderr: note + raw.stderr, cwd: raw.cwd ?? cwd };
      if (raw.cwd !== undefined) this.setCwd(session, raw.cwd);
      // A kill sent through another supervisor (killRemote) leaves a mark in the journal.
      const abortRequested = this.journal.abortRequested(callId);
      if (!result.aborted && !result.timedOut && abortRequested) Object.assign(result, { aborted: true, exitCode: null });
      this.recordSoon(callId, result, abortRequested);
      return result;
    });
    const entry = this.track(callId, finished, () => proc.kill(), listeners);
    entry.leader = proc.leader;
    return this.listen(entry, notify);
  }

  /** Process groups of the commands running here, except `callId`'s. */
  leadersExcept(callId) {
    const groups = new Set();
    for (const [id, entry] of this.running) {
      const leader = id !== callId && entry.leader ? entry.leader() : 0;
      if (leader > 0) groups.add(leader);
    }
    return groups;
  }

  /**
   * Kills a running call at once; true when there was one. A call owned by
   * another supervisor (left running by a host that lost its channel) is
   * killed too, through its journal claim.
   */
  kill(params) {
    const entry = this.running.get(params.callId);
    if (entry) {
      entry.kill();
      return { killed: true };
    }
    if (this.pendingRecords.has(params.callId)) return { killed: false };
    const marker = this.journal.marker(params.callId);
    if (marker === undefined || marker === 'partial' || this.journal.read(params.callId)) return { killed: false };
    this.killRemote(params.callId);
    return { killed: true };
  }

  get active() {
    return this.running.size;
  }

  /** Resolves when no command runs here (used before exiting on stdin EOF). */
  idle() {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  track(callId, promise, kill, listeners = new Set()) {
    const entry = { promise, kill, listeners };
    this.running.set(callId, entry);
    const done = () => {
      this.running.delete(callId);
      if (this.running.size === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    };
    promise.then(done, done);
    return entry;
  }

  async listen(entry, notify) {
    entry.listeners.add(notify);
    try {
      return await entry.promise;
    } finally {
      entry.listeners.delete(notify);
    }
  }

  killRemote(callId) {
    this.journal.requestAbort(callId);
    const marker = this.journal.marker(callId);
    if (marker && marker !== 'partial') killCommand(0, marker.token, { skip: this.pool.pids() });
  }

  interrupted(session) {
    return {
      exitCode: null,
      signal: null,
      stdout: '',
      stderr: '[crewbox: this call was started by an earlier supervisor that stopped before the command finished; it may have partly run, and it was not run again]\n',
      timedOut: false,
      aborted: true,
      interrupted: true,
      durationMs: 0,
      dropped: { stdout: 0, stderr: 0 },
      cwd: this.cwdOf(session),
    };
  }

  cwdOf(session) {
    const cwd = this.cwds[session];
    return typeof cwd === 'string' ? cwd : this.root;
  }

  setCwd(session, cwd) {
    if (this.cwds[session] === cwd || (this.cwds[session] === undefined && cwd === this.root)) return;
    this.cwds[session] = cwd;
    this.cwdDirty = true;
    if (!this.cwdWriting) this.background(this.saveCwds(), 'save the working directories');
  }

  /** Writes the cwd map until it is saved as it stands (one write at a time, the latest map wins). */
  async saveCwds() {
    this.cwdWriting = true;
    try {
      while (this.cwdDirty) {
        this.cwdDirty = false;
        const tmp = `${this.cwdFile}.${process.pid}.tmp`;
        await fs.promises.writeFile(tmp, JSON.stringify(this.cwds));
        await fs.promises.rename(tmp, this.cwdFile);
      }
    } finally {
      this.cwdWriting = false;
    }
  }
}

function loadJson(file) {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8'));
    return value && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

function isDirectory(p) {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

module.exports = { ExecService };
