'use strict';
/**
 * The call journal: results of side-effecting calls keyed by tool-call id, on
 * disk in the container, so a host that crashed and resends a call gets the
 * recorded result instead of running it twice.
 *
 * Layout (file names are a hash of the call id):
 * - `<dir>/<key>.json`: the result, published with link(2) so the first
 *   writer wins and readers never see a partial file. On the container's
 *   disk: it survives supervisor and container restarts.
 * - `<claimDir>/<key>.running`: created with O_EXCL before a call starts (the
 *   claim, so two supervisors can never both start it); holds the owner's
 *   identity (pid + start time) and the command's kill token.
 * - `<claimDir>/<key>.abort`: a kill requested by a supervisor that joined the
 *   call but does not own it.
 * Claims describe running processes, so they only need to live as long as
 * the container runs: `claimDir` is on tmpfs when the container has one
 * (supervisor.js), which keeps every file-system write on the disk off the
 * path of a call (a create on the overlay disk waits for the file system's
 * journal: measured 3-4 ms per create while other containers sync, 0.05 ms on
 * tmpfs). A container restart kills every command and clears the claims; the
 * host then recovers a cut-off call with `replayOnly`, which finds no record
 * and starts nothing.
 * Results are written after the answer (`recordAsync`, off the event loop);
 * until a result is published its claim stays, so another supervisor waits
 * for it. Old entries are pruned at start (by age, then by total size).
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { isAlive } = require('./reaper.js');

const POLL_MS = 50;
/** A claim marker still unparsable after this long was left by a writer that died mid-write. */
const PARTIAL_MARKER_MS = 5000;

class Journal {
  /** `claimDir` defaults to `dir` (claims on disk too). */
  constructor(dir, self, { claimDir = dir } = {}) {
    this.dir = dir;
    this.claimDir = claimDir;
    this.self = self;
    this.seq = 0;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(claimDir, { recursive: true, mode: 0o700 });
  }

  file(callId, ext) {
    const key = crypto.createHash('sha256').update(String(callId)).digest('hex').slice(0, 40);
    return path.join(ext === 'json' ? this.dir : this.claimDir, `${key}.${ext}`);
  }

  /** The recorded entry `{callId, op, result, recordedAt}`, if any. */
  read(callId) {
    const file = this.file(callId, 'json');
    // existsSync first: a miss (the common case) then costs no exception.
    if (!fs.existsSync(file)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
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

  /** Publishes a result unless one is already there; returns the result that stands. */
  record(callId, op, result) {
    const final = this.file(callId, 'json');
    const tmp = `${final}.${process.pid}.${++this.seq}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ callId, op, result, recordedAt: Date.now() }));
    let won = false;
    try {
      fs.linkSync(tmp, final);
      won = true;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    } finally {
      unlinkQuietly(tmp);
    }
    this.release(callId);
    if (won) return result;
    const stored = this.read(callId);
    return stored ? stored.result : result;
  }

  /**
   * `record` through the thread pool, so the event loop keeps serving other
   * calls while the disk is slow. Same order: the result is published before
   * the claim goes.
   */
  async recordAsync(callId, op, result) {
    const final = this.file(callId, 'json');
    const tmp = `${final}.${process.pid}.${++this.seq}.tmp`;
    // Callback APIs: the promise ones cost ~0.1 ms of CPU per call in FileHandle bookkeeping, on every exec.
    await new Promise((resolve, reject) => fs.writeFile(tmp, JSON.stringify({ callId, op, result, recordedAt: Date.now() }), (e) => (e ? reject(e) : resolve())));
    const linked = await new Promise((resolve) => fs.link(tmp, final, resolve));
    await new Promise((resolve) => fs.unlink(tmp, resolve));
    if (linked && linked.code !== 'EEXIST') throw linked;
    this.release(callId);
  }

  /** Drops the claim and any abort request (tmpfs: cheap, kept synchronous). */
  release(callId) {
    unlinkQuietly(this.file(callId, 'running'));
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
      const stored = this.read(callId);
      if (stored) return stored.result;
      const marker = this.marker(callId);
      if (marker === undefined || (marker !== 'partial' && !isAlive(marker.owner))) {
        // Re-read: the owner may have published between the two reads.
        const late = this.read(callId);
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
        if (!isAlive(marker.owner) && !this.read(marker.callId)) found.push(marker);
      } catch {
        // Mid-write or gone: its owner is alive, or prune will get it.
      }
    }
    return found;
  }

  /**
   * Removes entries older than maxAgeMs (keeping claims whose owner still
   * runs), then the oldest results until the rest fit in maxBytes.
   */
  prune(maxAgeMs, maxBytes) {
    const cutoff = Date.now() - maxAgeMs;
    const results = [];
    const names = fs.readdirSync(this.dir).map((name) => path.join(this.dir, name));
    if (this.claimDir !== this.dir) names.push(...fs.readdirSync(this.claimDir).map((name) => path.join(this.claimDir, name)));
    for (const full of names) {
      const name = path.basename(full);
      try {
        const st = fs.statSync(full);
        if (st.mtimeMs >= cutoff) {
          if (name.endsWith('.json')) results.push({ full, mtimeMs: st.mtimeMs, size: st.size });
          continue;
        }
        if (name.endsWith('.running') && isAlive(JSON.parse(fs.readFileSync(full, 'utf8')).owner)) continue;
        fs.unlinkSync(full);
      } catch {
        // Raced with another supervisor, or unreadable: leave it.
      }
    }
    let kept = 0;
    for (const r of results.sort((a, b) => b.mtimeMs - a.mtimeMs)) {
      kept += r.size;
      if (kept > maxBytes) unlinkQuietly(r.full);
    }
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
