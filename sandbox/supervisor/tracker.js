'use strict';
/**
 * Change tracking for /workspace with inotify (fs.watch, one watch per
 * directory: Node 18 has no recursive watch on Linux). Cost is proportional to
 * the change: no hashing, no walking the tree per drain.
 *
 * Contract:
 * - Tracking starts at `start()`; changes made before it are not seen (the
 *   host compares with `listAll` when it starts a new supervisor).
 * - `drain()` returns the root-relative paths created, modified, deleted or
 *   renamed (either name) since the previous drain, including directories; a
 *   path may be reported that no longer exists (the caller reads it as
 *   missing). A directory that appears (mkdir, mv in, tar) is walked once and
 *   all its entries are reported, which also covers files created in it before
 *   its watch was in place. A directory that disappears is reported itself
 *   (its contents went with it).
 * - `overflow: true` means events may have been lost: a watch could not be
 *   added (inotify limits) or failed, too many paths piled up, or a read batch
 *   was as large as half the kernel's event queue (libuv drops IN_Q_OVERFLOW
 *   silently, so a full queue is the only sign of loss it leaves). The caller
 *   must then compare with `listAll`. Missing watches are retried at each drain.
 */
const fs = require('fs');
const path = require('path');

const MAX_PENDING_PATHS = 200_000;

class ChangeTracker {
  constructor(root, { ignoreName = () => false, batchLimit } = {}) {
    this.root = root;
    this.ignoreName = ignoreName;
    this.batchLimit = batchLimit || Math.floor(readQueueLimit() / 2);
    /** rel dir ('' for the root) -> FSWatcher */
    this.watchers = new Map();
    this.changed = new Set();
    this.unwatched = new Set();
    this.lost = false;
    this.batch = 0;
    this.reconcileQueue = new Set();
    this.flushScheduled = false;
  }

  start() {
    this.watchTree('', false);
  }

  close() {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** `discard`: forget the paths instead of returning them (the host's own copy-in; it can name the whole tree). */
  async drain({ discard = false } = {}) {
    // Let one more poll phase run so events already queued in the kernel are read.
    await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    this.flush();
    const overflow = this.lost || this.unwatched.size > 0;
    for (const rel of [...this.unwatched]) {
      this.unwatched.delete(rel);
      if (isDir(this.abs(rel))) this.watchTree(rel, false);
    }
    const paths = discard ? [] : [...this.changed].sort();
    this.changed.clear();
    this.lost = false;
    return { paths, overflow, watches: this.watchers.size };
  }

  abs(rel) {
    return rel === '' ? this.root : path.posix.join(this.root, rel);
  }

  record(rel) {
    if (this.changed.size >= MAX_PENDING_PATHS) {
      this.lost = true;
      this.changed.clear();
    }
    this.changed.add(rel);
  }

  /** Watches `rel` and every directory below it; `report` records what it finds. */
  watchTree(rel, report) {
    const stack = [rel];
    while (stack.length > 0) {
      const dir = stack.pop();
      if (!this.watch(dir)) continue;
      let dirents;
      try {
        dirents = fs.readdirSync(this.abs(dir), { withFileTypes: true });
      } catch {
        continue;
      }
      for (const d of dirents) {
        if (this.ignoreName(d.name)) continue;
        const child = dir === '' ? d.name : `${dir}/${d.name}`;
        if (report) this.record(child);
        if (d.isDirectory()) stack.push(child);
      }
    }
  }

  watch(rel) {
    if (this.watchers.has(rel)) return true;
    try {
      const watcher = fs.watch(this.abs(rel), { persistent: false }, (event, name) => this.onEvent(rel, event, name));
      watcher.on('error', () => {
        this.lost = true;
        this.unwatchTree(rel);
        this.unwatched.add(rel);
      });
      this.watchers.set(rel, watcher);
      return true;
    } catch (e) {
      // ENOENT: gone meanwhile (its parent reports it). Anything else (ENOSPC: watch limit) loses events.
      if (e.code !== 'ENOENT') this.unwatched.add(rel);
      return false;
    }
  }

  unwatchTree(rel) {
    const prefix = rel === '' ? '' : `${rel}/`;
    for (const [dir, watcher] of this.watchers) {
      if (dir === rel || dir.startsWith(prefix)) {
        watcher.close();
        this.watchers.delete(dir);
      }
    }
  }

  onEvent(dir, event, name) {
    if (++this.batch === 1) setImmediate(() => this.endBatch());
    if (!name) {
      this.lost = true;
      return;
    }
    if (this.ignoreName(name)) return;
    const rel = dir === '' ? name : `${dir}/${name}`;
    if (dir !== '' && name === path.posix.basename(dir) && !exists(this.abs(rel))) {
      // Ambiguous (see selfEventPaths): report every path it may stand for.
      for (const p of this.selfEventPaths(dir, event, rel)) this.record(p);
      if (event === 'rename') this.reconcileQueue.add(dir);
    } else {
      this.record(rel);
      if (event === 'rename') this.reconcileQueue.add(rel);
    }
    this.scheduleFlush();
  }

  /**
   * libuv names events on the watched directory itself (its attributes changed,
   * it was moved or deleted) by the directory's own base name, like a child of
   * that name; `rel` is that child, which does not exist. The kernel flags
   * events on a directory with IN_ISDIR, which libuv reports as 'rename', so
   * a chmod or utime of the directory (tar sets both after extracting) looks
   * like a child renamed away. Hence:
   * - 'change': the directory's own attributes or contents: the directory.
   * - 'rename' with the directory gone: the directory (its contents went with it).
   * - 'rename' with the directory there: the directory's attributes, or a child
   *   of that name moved or deleted. Both are reported; the contract allows a
   *   path that no longer exists, and the caller reads it as missing.
   */
  selfEventPaths(dir, event, rel) {
    if (event === 'change' || !isDir(this.abs(dir))) return [dir];
    return [dir, rel];
  }

  endBatch() {
    if (this.batch >= this.batchLimit) this.lost = true;
    this.batch = 0;
  }

  scheduleFlush() {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Adds watches for directories that appeared, drops those that went away. */
  flush() {
    this.flushScheduled = false;
    const queue = [...this.reconcileQueue].sort();
    this.reconcileQueue.clear();
    for (const rel of queue) {
      if (isDir(this.abs(rel))) {
        if (!this.watchers.has(rel)) this.watchTree(rel, true);
      } else {
        this.unwatchTree(rel);
      }
    }
  }
}

function isDir(p) {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p) {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function readQueueLimit() {
  try {
    const n = Number(fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
    return n > 0 ? n : 16384;
  } catch {
    return 16384;
  }
}

module.exports = { ChangeTracker };
