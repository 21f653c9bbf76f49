'use strict';
/**
 * The call journal: results of side-effecting calls keyed by tool-call id, on
 * disk in the container, so a host that crashed and resends a call gets the
 * recorded result instead of running it twice.
 *
 * Layout (a call's key is a hash of its id):
 * - `<dir>/<pid>-<starttime>-<n>.log`: the results one supervisor process
 *   recorded, appended as lines `<key> <json>\n` (json: {callId, op, result,
 *   recordedAt}); a new file past ROTATE_BYTES. On the container's disk: they
 *   survive supervisor and container restarts. Appending to an open file
 *   costs a write; a file per result cost a create in a directory of
 *   thousands on the overlay file system, most of the supervisor's CPU per
 *   command.
 * - `<claimDir>/<key>.running`: created with O_EXCL before a call starts (the
 *   claim, so two supervisors can never both start it); holds the owner's
 *   identity (pid + start time) and the command's kill token.
 * - `<claimDir>/<key>.abort`: a kill requested by a supervisor that joined the
 *   call but does not own it.
 * - `<claimDir>/results.gen`: one byte appended per result recorded by any
 *   supervisor, so a lookup that misses knows in one fstat whether another
 *   supervisor recorded something since it last looked (then it reads the
 *   logs' new tails).
 * Claims describe running processes, so they only need to live as long as
 * the container runs: `claimDir` is on tmpfs when the container has one
 * (supervisor.js), which keeps every file create on the disk off the path of
 * a call (a create on the overlay disk waits for the file system's journal:
 * measured 3-4 ms per create while other containers sync, 0.05 ms on tmpfs).
 * A container restart kills every command and clears the claims; the host
 * then recovers a cut-off call with `replayOnly`, which finds no record and
 * starts nothing.
 *
 * Contract:
 * - A result is in a log (and counted in results.gen) before its claim goes,
 *   so whoever claims a call after that finds the result (check after the
 *   claim), and whoever finds the claim waits (`waitFor`).
 * - The first result recorded for a call stands; lookups index every log
 *   once at start and then only what the logs gained.
 * - A cut-off line (a supervisor killed mid-append) is skipped; its call's
 *   claim outlives its dead owner, so the call is recorded as interrupted.
 * - A line not written yet (several writes are in flight at once, each at
 *   its own offset) does not hide the complete lines after it.
 * - Logs of dead supervisors are pruned at start (by age, then by total
 *   size); per-call files of older supervisor versions (`<key>.json`) are
 *   still read: indexed at start, and looked up by name where a lookup
 *   decides whether a call runs (`thorough`), since an older supervisor
 *   still running does not count its results in results.gen.
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { isAlive } = require('./reaper.js');

const POLL_MS = 50;
/** A claim marker still unparsable after this long was left by a writer that died mid-write. */
const PARTIAL_MARKER_MS = 5000;
const KEY_CACHE_SIZE = 1024;
const KEY_LENGTH = 40;
const ROTATE_BYTES = 16 * 1024 * 1024;
const LOG_NAME = /^(\d+)-(\d+)-(\d+)\.log$/;
const KEY_LINE = /^[0-9a-f]{40} $/;

class Journal {
  /** `claimDir` defaults to `dir` (claims on disk too). `self`: this process's identity (processIdentity). */
  constructor(dir, self, { claimDir = dir, rotateBytes = ROTATE_BYTES } = {}) {
    this.dir = dir;
    this.claimDir = claimDir;
    this.self = self;
    this.rotateBytes = rotateBytes;
    this.keys = new Map();
    /** key -> where its result is: { file, offset, length } (a line's json), or { file } (a legacy file). */
    this.index = new Map();
    /** log file -> where the next scan reads from (the end of its last complete line, or its first unwritten one). */
    this.indexed = new Map();
    /** Logs of live writers with a line not written yet (read again at every miss until it is). */
    this.gaps = new Set();
    /** This process's log: { file, fd, size, n, writing, retired }, opened at the first record. */
    this.own = null;
    /** Bumps of results.gen this process has seen or made. */
    this.genSeen = 0;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(claimDir, { recursive: true, mode: 0o700 });
    this.genFd = fs.openSync(path.join(claimDir, 'results.gen'), 'a');
    this.genSeen = fs.fstatSync(this.genFd).size;
    /** The logs are indexed at the first lookup (after prune, which may remove some). */
    this.scanned = false;
  }

  key(callId) {
    const id = String(callId);
    let key = this.keys.get(id);
    if (key === undefined) {
      key = crypto.createHash('sha256').update(id).digest('hex').slice(0, KEY_LENGTH);
      // A call's files are named several times while it runs: hash its id once.
      if (this.keys.size >= KEY_CACHE_SIZE) this.keys.delete(this.keys.keys().next().value);
      this.keys.set(id, key);
    }
    return key;
  }

  /** A claim-directory file of the call ('running' or 'abort'). */
  file(callId, ext) {
    return path.join(this.claimDir, `${this.key(callId)}.${ext}`);
  }

  /**
   * The recorded entry `{callId, op, result, recordedAt}`, if any.
   * `thorough`: also look for a per-call result file an older supervisor
   * version may have written since the logs were indexed (it does not count
   * in results.gen) — for lookups that decide whether a call runs or how it
   * ended, not for the first, fast lookup of a new call.
   */
  read(callId, { thorough = false } = {}) {
    const key = this.key(callId);
    if (!this.scanned) {
      this.scanned = true;
      this.scan();
    }
    let at = this.index.get(key);
    // A live writer's log with a line not written yet is read again from there at every miss.
    if (at === undefined && (this.othersRecorded() || this.gaps.size > 0)) {
      this.scan();
      at = this.index.get(key);
    }
    if (at === undefined && thorough) {
      const legacy = path.join(this.dir, `${key}.json`);
      if (fs.existsSync(legacy)) {
        at = { file: legacy };
        this.index.set(key, at);
      }
    }
    return at === undefined ? undefined : readEntry(at);
  }

  /** True when this process now owns the call; false when someone else claimed it first. */
  claim(callId, token) {
    const marker = { callId, owner: this.self, token, startedAt: Date.now() };
    try {
      fs.writeFileSync(this.file(callId, 'running'), JSON.stringify(marker), { flag: 'wx' });
      return true;
    } catch (e) {
      if (e.code === 'EEXIST') return false;
      throw e;
    }
  }

  /**
   * The claim marker: an object, 'partial' while its writer is mid-write, or
   * undefined (none, or a partial one left by a writer that died mid-write).
   */
  marker(callId) {
    const file = this.file(callId, 'running');
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      try {
        return Date.now() - fs.statSync(file).mtimeMs < PARTIAL_MARKER_MS ? 'partial' : undefined;
      } catch {
        return undefined;
      }
    }
  }

  /** Records a result unless one is already there (synchronously); returns the result that stands. */
  record(callId, op, result) {
    const stored = this.read(callId, { thorough: true });
    if (stored) {
      this.release(callId);
      return stored.result;
    }
    const { log, offset, line } = this.reserve(callId, op, result);
    const written = fs.writeSync(log.fd, line, 0, line.length, offset);
    if (written !== line.length) throw new Error(`short write to ${log.file} (${written} of ${line.length} bytes)`);
    this.published(callId, log.file, offset, line.length);
    this.release(callId);
    return result;
  }

  /**
   * `record` for a call this process claimed, with the write through the
   * thread pool, so a slow disk delays neither this answer nor other calls;
   * the claim goes once the result is in the log.
   * `abortRequested`: what the caller found (saves a lookup in `release`).
   */
  async recordAsync(callId, op, result, abortRequested = true) {
    if (this.read(callId)) {
      this.release(callId, abortRequested);
      return;
    }
    const { log, offset, line } = this.reserve(callId, op, result);
    log.writing++;
    try {
      await new Promise((resolve, reject) =>
        fs.write(log.fd, line, 0, line.length, offset, (e, written) => {
          if (e) reject(e);
          else if (written !== line.length) reject(new Error(`short write to ${log.file} (${written} of ${line.length} bytes)`));
          else resolve();
        }),
      );
    } finally {
      log.writing--;
      closeIfDone(log);
    }
    this.published(callId, log.file, offset, line.length);
    this.release(callId, abortRequested);
  }

  /** Where this process's next line goes (positional writes: several may be in flight, each at its own offset). */
  reserve(callId, op, result) {
    const line = Buffer.from(`${this.key(callId)} ${JSON.stringify({ callId, op, result, recordedAt: Date.now() })}\n`);
    if (this.own === null || this.own.size >= this.rotateBytes) {
      const tag = this.self ? `${this.self.pid}-${this.self.startTime}` : `${process.pid}-0`;
      // Only this process writes a log named by its pid and start time (O_EXCL, in case a reboot reused both).
      const previous = this.own;
      for (let n = previous === null ? 0 : previous.n + 1; ; n++) {
        const file = path.join(this.dir, `${tag}-${n}.log`);
        try {
          this.own = { file, fd: fs.openSync(file, 'wx', 0o600), size: 0, n, writing: 0, retired: false };
          break;
        } catch (e) {
          if (e.code !== 'EEXIST') throw e;
        }
      }
      if (previous !== null) {
        previous.retired = true;
        closeIfDone(previous);
      }
    }
    const offset = this.own.size;
    this.own.size += line.length;
    return { log: this.own, offset, line };
  }

  /** A line is in the log: index it, then tell other supervisors (results.gen) before the claim goes. */
  published(callId, file, offset, length) {
    const key = this.key(callId);
    if (!this.index.has(key)) this.index.set(key, { file, offset: offset + KEY_LENGTH + 1, length: length - KEY_LENGTH - 2 });
    fs.writeSync(this.genFd, 'x');
    this.genSeen++;
  }

  /** Whether results.gen grew by bumps this process has not seen. */
  othersRecorded() {
    let size;
    try {
      size = fs.fstatSync(this.genFd).size;
    } catch {
      return true;
    }
    if (size === this.genSeen) return false;
    this.genSeen = size;
    return true;
  }

  /** Indexes what the logs gained since the last scan (and legacy result files not seen yet). */
  scan() {
    let names;
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(this.dir, name);
      if (LOG_NAME.test(name)) {
        if (this.own === null || file !== this.own.file) this.indexLog(file);
      } else if (name.endsWith('.json') && name.length === KEY_LENGTH + 5) {
        const key = name.slice(0, KEY_LENGTH);
        if (!this.index.has(key)) this.index.set(key, { file });
      }
    }
  }

  indexLog(file) {
    const from = this.indexed.get(file) || 0;
    let bytes;
    try {
      const fd = fs.openSync(file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        if (size <= from) return;
        bytes = Buffer.alloc(size - from);
        let done = 0;
        while (done < bytes.length) {
          const n = fs.readSync(fd, bytes, done, bytes.length - done, from + done);
          if (n === 0) break;
          done += n;
        }
        bytes = bytes.subarray(0, done);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return; // gone (pruned) or unreadable
    }
    // A writer appends several lines at once, each at its own offset, so a line not written yet (or whose
    // write failed, or was cut off by a crash) reads as NUL bytes, and lines after it may be complete. Those
    // are indexed all the same: a writer releases a call's claim once its line is written, whatever happened
    // to the lines before. While the writer lives, the next scan reads again from its first unwritten line.
    let start = 0;
    let gap;
    let nextNul = bytes.indexOf(0);
    for (let end = bytes.indexOf(0x0a); end >= 0; end = bytes.indexOf(0x0a, start)) {
      if (nextNul >= 0 && nextNul < start) nextNul = bytes.indexOf(0, start);
      // A complete line has no NUL (JSON escapes it).
      const clean = nextNul < 0 || nextNul > end;
      const lineStart = clean ? start : lastNulBefore(bytes, start, end) + 1;
      if (!clean && gap === undefined) gap = start;
      if (end - lineStart > KEY_LENGTH + 1 && KEY_LINE.test(bytes.toString('latin1', lineStart, lineStart + KEY_LENGTH + 1))) this.indexLine(file, bytes, from, lineStart, end);
      start = end + 1;
    }
    if (gap !== undefined && logWriterAlive(file)) {
      this.indexed.set(file, from + gap);
      this.gaps.add(file);
    } else {
      this.indexed.set(file, from + start);
      this.gaps.delete(file);
    }
  }

  indexLine(file, bytes, from, start, end) {
    const key = bytes.toString('latin1', start, start + KEY_LENGTH);
    if (!this.index.has(key)) this.index.set(key, { file, offset: from + start + KEY_LENGTH + 1, length: end - start - KEY_LENGTH - 1 });
  }

  /** Drops the claim and any abort request (tmpfs: cheap, kept synchronous). */
  release(callId, abortRequested = true) {
    unlinkQuietly(this.file(callId, 'running'));
    if (!abortRequested) return;
    const abort = this.file(callId, 'abort');
    if (fs.existsSync(abort)) unlinkQuietly(abort);
  }

  requestAbort(callId) {
    fs.writeFileSync(this.file(callId, 'abort'), '');
  }

  abortRequested(callId) {
    return fs.existsSync(this.file(callId, 'abort'));
  }

  /**
   * Waits for a call another process owns. If the owner dies without a result,
   * `interrupted()` is recorded (the call may have partly run; it never runs again).
   */
  async waitFor(callId, interrupted) {
    for (;;) {
      const stored = this.read(callId, { thorough: true });
      if (stored) return stored.result;
      const marker = this.marker(callId);
      if (marker === undefined || (marker !== 'partial' && !isAlive(marker.owner))) {
        // Re-read: the owner may have published between the two reads.
        const late = this.read(callId, { thorough: true });
        if (late) return late.result;
        return this.record(callId, 'exec', interrupted());
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Claims whose owner died without a result (a supervisor that was killed). */
  orphans() {
    const found = [];
    for (const name of fs.readdirSync(this.claimDir)) {
      if (!name.endsWith('.running')) continue;
      try {
        const marker = JSON.parse(fs.readFileSync(path.join(this.claimDir, name), 'utf8'));
        if (!isAlive(marker.owner) && !this.read(marker.callId, { thorough: true })) found.push(marker);
      } catch {
        // Mid-write or gone: its owner is alive, or prune will get it.
      }
    }
    return found;
  }

  /**
   * Removes logs (and legacy result files) older than maxAgeMs whose writer
   * is gone, and claims older than that whose owner is gone; then the oldest
   * logs of gone writers until the rest fit in maxBytes. Forgets what it
   * removed.
   */
  prune(maxAgeMs, maxBytes) {
    const cutoff = Date.now() - maxAgeMs;
    const logs = [];
    const names = fs.readdirSync(this.dir).map((name) => path.join(this.dir, name));
    if (this.claimDir !== this.dir) names.push(...fs.readdirSync(this.claimDir).map((name) => path.join(this.claimDir, name)));
    const removed = new Set();
    for (const full of names) {
      const name = path.basename(full);
      if (name === 'results.gen') continue;
      try {
        const st = fs.statSync(full);
        const log = LOG_NAME.exec(name);
        const writerGone = log ? !isAlive({ pid: Number(log[1]), startTime: Number(log[2]) }) : true;
        if (st.mtimeMs >= cutoff || !writerGone) {
          if (log || name.endsWith('.json')) logs.push({ full, mtimeMs: st.mtimeMs, size: st.size, writerGone });
          continue;
        }
        if (name.endsWith('.running') && isAlive(JSON.parse(fs.readFileSync(full, 'utf8')).owner)) continue;
        fs.unlinkSync(full);
        removed.add(full);
      } catch {
        // Raced with another supervisor, or unreadable: leave it.
      }
    }
    let kept = 0;
    for (const r of logs.sort((a, b) => b.mtimeMs - a.mtimeMs)) {
      kept += r.size;
      if (kept > maxBytes && r.writerGone) {
        unlinkQuietly(r.full);
        removed.add(r.full);
      }
    }
    if (removed.size === 0) return;
    for (const [key, at] of this.index) if (removed.has(at.file)) this.index.delete(key);
    for (const file of removed) {
      this.indexed.delete(file);
      this.gaps.delete(file);
    }
  }
}

/** Closes a log this process rotated away from once its last write is done. */
function closeIfDone(log) {
  if (log.retired && log.writing === 0) fs.close(log.fd, () => {});
}

/** Index of the last NUL in bytes[start, end), or start - 1. */
function lastNulBefore(bytes, start, end) {
  for (let i = end - 1; i >= start; i--) if (bytes[i] === 0) return i;
  return start - 1;
}

/** Whether the process that writes a log (named by pid and start time) is alive. */
function logWriterAlive(file) {
  const m = LOG_NAME.exec(path.basename(file));
  return m !== null && isAlive({ pid: Number(m[1]), startTime: Number(m[2]) });
}

/** The entry at an index position; undefined when it cannot be read or parsed. */
function readEntry(at) {
  try {
    if (at.offset === undefined) return JSON.parse(fs.readFileSync(at.file, 'utf8'));
    const buf = Buffer.alloc(at.length);
    const fd = fs.openSync(at.file, 'r');
    try {
      fs.readSync(fd, buf, 0, at.length, at.offset);
    } finally {
      fs.closeSync(fd);
    }
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

function unlinkQuietly(file) {
  try {
    fs.unlinkSync(file);
  } catch {
    // Already gone.
  }
}

module.exports = { Journal };
