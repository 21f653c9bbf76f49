'use strict';
/**
 * Kills everything a command started. The Engine API cannot kill an exec, so
 * this is the only thing standing between a timed-out command and a process
 * left running in the container.
 *
 * A command runs as the leader of its own session and process group, and
 * every process it starts inherits CREWBOX_CALL_TOKEN=<token> in its
 * environment. `killCommand` SIGKILLs (no SIGTERM grace: an interrupt must
 * land within 200 ms) every process that is in that group or session, or
 * carries the token, so children that called setsid() or daemonized are
 * found too. Only a process that both leaves the session and clears its
 * environment escapes. It scans /proc again until a pass finds nothing alive,
 * which also catches a process forked while the previous pass ran.
 */
const fs = require('fs');

const TOKEN_VAR = 'CREWBOX_CALL_TOKEN';
const MAX_PASSES = 8;

/** Parsed /proc/<pid>/stat: the fields after the command name. */
function readStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]), startTime: Number(fields[19]) };
}

function readEnviron(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`);
  } catch {
    return null;
  }
}

/** SIGKILLs the process group led by `leader` (cheap: one syscall, no scan). */
function killGroup(leader) {
  if (leader <= 0) return;
  try {
    process.kill(-leader, 'SIGKILL');
  } catch {
    // ESRCH: the group is already empty.
  }
}

/**
 * SIGKILLs the group/session led by `leader` (may be 0 when unknown) and every
 * process carrying `token`. Returns how many were signalled.
 *
 * Reading a process's environ waits on its memory-map lock, which a forking
 * process holds for milliseconds, so `scope` keeps those reads to processes
 * that could be the command's: `since` (clock ticks since boot, see
 * `ticksNow`) excludes processes started before the command, `skip` excludes
 * known pids (the runners), `otherGroups` excludes the process groups of
 * other running commands; `groupDone` says the group was already killed.
 */
function killCommand(leader, token, scope = {}) {
  if (!scope.groupDone) killGroup(leader);
  return killMatching([{ leader, token, since: scope.since }], scope);
}

/** One /proc scan (repeated until a pass finds nothing) for several commands at once. */
function killMatching(jobs, { skip, otherGroups } = {}) {
  const needles = jobs.map((j) => Buffer.from(`${TOKEN_VAR}=${j.token}\0`));
  const earliest = Math.min(...jobs.map((j) => (j.since === undefined ? 0 : j.since)));
  const leaders = new Set(jobs.map((j) => j.leader).filter((l) => l > 0));
  let signalled = 0;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let found = 0;
    for (const name of safeReaddir('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid || (skip && skip.has(pid))) continue;
      const stat = readStat(pid);
      if (stat === null || stat.state === 'Z' || stat.state === 'X') continue;
      const member = leaders.has(stat.pgrp) || leaders.has(stat.session);
      if (!member) {
        if (stat.startTime < earliest || (otherGroups && otherGroups.has(stat.pgrp))) continue;
        const environ = readEnviron(pid);
        if (environ === null || !needles.some((n) => environ.includes(n))) continue;
      }
      try {
        process.kill(pid, 'SIGKILL');
        found++;
      } catch {
        // Gone meanwhile, or not ours.
      }
    }
    signalled += found;
    if (found === 0) break;
  }
  return signalled;
}

/**
 * Sweeps for what finished commands left outside their process group
 * (setsid, daemons), batched: one /proc scan every `delayMs` for all the
 * commands that ended meanwhile, instead of one per command.
 */
class Sweeper {
  constructor(delayMs, scope) {
    this.delayMs = delayMs;
    this.scope = scope;
    this.jobs = [];
    this.timer = null;
  }

  add(job) {
    this.jobs.push(job);
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    const jobs = this.jobs.splice(0);
    if (jobs.length > 0) killMatching(jobs, this.scope());
  }
}

/**
 * Clock ticks since boot (USER_HZ, 100 on Linux), the unit of a process's
 * start time in /proc: /proc/uptime read once, then the monotonic clock. The
 * monotonic clock stops during suspend while boot time does not, so the
 * estimate can only fall behind, which makes `since` filters more inclusive.
 */
let tickBase;
function ticksNow() {
  if (tickBase === undefined) {
    try {
      tickBase = { ticks: parseFloat(fs.readFileSync('/proc/uptime', 'latin1')) * 100, at: process.hrtime.bigint() };
    } catch {
      return undefined;
    }
  }
  return Math.floor(tickBase.ticks + Number(process.hrtime.bigint() - tickBase.at) / 1e7);
}

function safeReaddir(dir) {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Identity of a live process that survives pid reuse: pid plus its start time. */
function processIdentity(pid) {
  const stat = readStat(pid);
  return stat === null ? null : { pid, startTime: stat.startTime };
}

function isAlive(identity) {
  const stat = readStat(identity.pid);
  return stat !== null && stat.state !== 'Z' && stat.startTime === identity.startTime;
}

module.exports = { TOKEN_VAR, killCommand, killGroup, Sweeper, ticksNow, processIdentity, isAlive };
