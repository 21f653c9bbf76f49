'use strict';
/**
 * Runners: long-lived bash processes that run one command at a time, so a
 * command costs a fork of a small shell instead of a fork of Node (measured
 * in the sandbox: ~5.5 ms and ~6 ms of CPU per trivial command, against
 * 10-20 ms per command for a shell spawned from Node).
 *
 * For each command the supervisor writes the job (token, cwd, cwd file,
 * command, as shell assignments) to the runner's job file on tmpfs and one
 * newline to its stdin: bash reads a pipe or socket one byte per read(2), but
 * sources a file in one go. The runner runs the command in a subshell that is
 * a job of its own (`set -m`: own process group, pgid = its pid, reported as
 * `S <pid>` on fd 3), with stdin from /dev/null, CREWBOX_CALL_TOKEN exported,
 * `cd` to cwd and an EXIT trap writing the final cwd, then `eval`. The runner
 * waits for it, SIGKILLs what is left in its process group (background jobs),
 * reports `E <status>` on fd 3 and writes `\0<token>\0` to stdout and stderr:
 * everything before that marker is the command's output. The supervisor then
 * sweeps the token (reaper.js) for processes that left the group; output such
 * an escapee writes after the marker is dropped. Job-control notices go to
 * the runner's own /dev/null.
 * (Forking the next subshell ahead of its command was measured too: it cost
 * more CPU and latency here, as the copy-on-write faults land on the next
 * command anyway.)
 *
 * Differences from a fresh `bash -c`: `$$` is the runner's pid (use
 * $BASHPID), and shell options are the runner's defaults.
 */
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { killGroup } = require('./reaper.js');

// One line, so `eval` reports the user's line numbers unchanged ("eval: line 1"). $1 is the job file.
const LOOP =
  'exec 4>&2 2>/dev/null; set -m; __cb_jobfile=$1; shift; ' +
  'while IFS= read -r __cb_go; do . "$__cb_jobfile"; ' +
  '( set +m; exec 2>&4 3>&- 4>&- </dev/null; export CREWBOX_CALL_TOKEN="$__cb_token"; cd -- "$__cb_cwd" || exit 1; ' +
  'trap \'pwd > "$__cb_cwdfile"\' EXIT; unset __cb_token __cb_cwd __cb_rc __cb_go __cb_jobfile; eval "$__cb_cmd" ) & ' +
  'printf \'S %s\\n\' "$!" >&3; wait "$!"; __cb_rc=$?; kill -9 -- -"$!"; printf \'E %s\\n\' "$__cb_rc" >&3; ' +
  'printf \'\\0%s\\0\' "$__cb_token"; printf \'\\0%s\\0\' "$__cb_token" >&4; ' +
  'done';

function quote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Splits a stream at an end marker; holds back bytes that could be its start. */
class MarkerSplitter {
  constructor(marker) {
    this.marker = marker;
    this.held = Buffer.alloc(0);
    this.found = false;
  }

  /** The bytes before the marker seen so far (empty once found). */
  feed(buf) {
    if (this.found) return Buffer.alloc(0);
    const all = this.held.length > 0 ? Buffer.concat([this.held, buf]) : buf;
    const at = all.indexOf(this.marker);
    if (at >= 0) {
      this.found = true;
      this.held = Buffer.alloc(0);
      return all.subarray(0, at);
    }
    let keep = Math.min(all.length, this.marker.length - 1);
    while (keep > 0 && !this.marker.subarray(0, keep).equals(all.subarray(all.length - keep))) keep--;
    this.held = Buffer.from(all.subarray(all.length - keep));
    return all.subarray(0, all.length - keep);
  }
}

class Runner {
  constructor({ shell, env, root, scratchDir, onDead }) {
    this.jobFile = path.join(scratchDir, `job-${crypto.randomBytes(8).toString('hex')}.sh`);
    // --norc: bash sources ~/.bashrc when its stdin is a socket (it guesses rshd), and ours is a socketpair.
    this.child = spawn(shell, ['--norc', '-c', LOOP, shell, this.jobFile], { cwd: root, env: { ...env, PWD: root }, detached: true, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    this.job = null;
    this.dead = false;
    this.child.stdin.on('error', () => {});
    this.child.on('error', () => this.die());
    this.child.on('exit', () => this.die());
    let status = '';
    this.child.stdio[3].setEncoding('utf8');
    this.child.stdio[3].on('data', (text) => {
      status += text;
      for (let i = status.indexOf('\n'); i >= 0; i = status.indexOf('\n')) {
        const line = status.slice(0, i);
        status = status.slice(i + 1);
        this.onStatus(line);
      }
    });
    for (const stream of ['stdout', 'stderr']) this.child[stream].on('data', (buf) => this.onData(stream, buf));
    this.onDead = onDead;
  }

  get busy() {
    return this.job !== null;
  }

  start(spec, handlers) {
    const marker = Buffer.from(`\0${spec.token}\0`);
    const job = { spec, handlers, leader: 0, exited: false, splitters: { stdout: new MarkerSplitter(marker), stderr: new MarkerSplitter(marker) }, ended: false };
    this.job = job;
    const assignments = [`__cb_token=${spec.token}`, `__cb_cwd=${quote(spec.cwd)}`, `__cb_cwdfile=${quote(spec.cwdFile)}`, `__cb_cmd=${quote(spec.command)}`];
    fs.writeFileSync(this.jobFile, `${assignments.join('\n')}\n`, { mode: 0o600 });
    this.child.stdin.write('\n');
    return {
      leader: () => job.leader,
      // The runner SIGKILLs the command's group itself before reporting its end.
      groupKilledOnExit: true,
      // The runner's pipes are shared by later commands: a runner whose output did not end cleanly is retired.
      abandon: () => {
        if (!job.ended) this.retire();
      },
    };
  }

  onStatus(line) {
    const job = this.job;
    if (job === null) return;
    if (line.startsWith('S ')) job.leader = Number(line.slice(2)) || 0;
    else if (line.startsWith('E ')) {
      job.exited = true;
      const status = Number(line.slice(2));
      // The subshell's status: 128+n means it was killed by signal n.
      job.handlers.exit(status, null);
      this.endIfDone(job);
    }
  }

  onData(stream, buf) {
    const job = this.job;
    if (job === null) return;
    const splitter = job.splitters[stream];
    const data = splitter.feed(buf);
    if (data.length > 0) job.handlers.data(stream, data);
    this.endIfDone(job);
  }

  /** The job is over once its status and both end markers are in (they come on different pipes, in any order). */
  endIfDone(job) {
    if (job.ended || !job.exited || !job.splitters.stdout.found || !job.splitters.stderr.found) return;
    job.ended = true;
    this.job = null;
    job.handlers.end();
  }

  retire() {
    if (this.dead) return;
    this.die();
    killGroup(this.child.pid);
  }

  die() {
    if (this.dead) return;
    this.dead = true;
    this.child.stdin.destroy();
    fs.rmSync(this.jobFile, { force: true });
    const job = this.job;
    this.job = null;
    if (job && !job.ended) {
      job.ended = true;
      if (!job.exited) job.handlers.exit(null, 'runner-died');
      job.handlers.end();
    }
    this.onDead(this);
  }
}

/** Idle runners; `take` returns one (spawning if none is idle), `release` puts it back. */
class RunnerPool {
  constructor({ shell, env, root, scratchDir, idleMax, prestart }) {
    this.opts = { shell, env, root, scratchDir };
    this.enabled = /(^|\/)bash$/.test(shell);
    this.idle = [];
    /** Every live runner, idle or busy. */
    this.all = new Set();
    this.idleMax = idleMax;
    this.closed = false;
    if (this.enabled) for (let i = 0; i < prestart; i++) this.idle.push(this.spawn());
  }

  spawn() {
    const runner = new Runner({ ...this.opts, onDead: (r) => this.forget(r) });
    this.all.add(runner);
    return runner;
  }

  /** Pids of the runners' own shells (they never carry a command's token). */
  pids() {
    const pids = new Set();
    for (const r of this.all) if (r.child.pid) pids.add(r.child.pid);
    return pids;
  }

  /** A runner for one command, or null when runners are not available (no bash). */
  take() {
    if (!this.enabled || this.closed) return null;
    return this.idle.pop() ?? this.spawn();
  }

  release(runner) {
    if (runner.dead) return;
    if (this.closed || runner.busy || this.idle.length >= this.idleMax) runner.retire();
    else this.idle.push(runner);
  }

  forget(runner) {
    this.all.delete(runner);
    const i = this.idle.indexOf(runner);
    if (i >= 0) this.idle.splice(i, 1);
  }

  close() {
    this.closed = true;
    for (const r of this.idle.splice(0)) r.retire();
  }
}

module.exports = { RunnerPool, MarkerSplitter, LOOP };
