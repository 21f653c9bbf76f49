'use strict';
/**
 * The bulk ops behind ContainerFiles (src/sandbox/container-files.ts):
 * readFiles, readChunk, listAll, deletePaths, clear. They see the tree as
 * entries (a symlink is a link, never followed); a path whose parent is
 * missing or is a symlink names no entry (see confine.js `entry`).
 * File content travels as base64: inline up to `inlineMax` bytes per file and
 * `budget` bytes per response; larger files come back as `chunked: true` with
 * their size, for the host to fetch with readChunk.
 */
const fs = require('fs');
const path = require('path');
const { OpError, fsError } = require('./confine.js');

const DEFAULT_INLINE_MAX = 4 * 1024 * 1024;
const DEFAULT_BUDGET = 16 * 1024 * 1024;
const MAX_CHUNK = 8 * 1024 * 1024;

/** Files up to this size are read with synchronous calls (a thread-pool round trip costs more than the read). */
const SYNC_READ_MAX = 256 * 1024;
/** Synchronous file-system calls between yields to the event loop, so other calls are not held up. */
const SYNC_BATCH = 256;

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

/** lstat, or undefined when the entry cannot be seen (gone, a parent replaced, unreadable). */
function lstatQuiet(p) {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

function createBulkOps(confine) {
  /**
   * One path as an entry. Small files take synchronous calls: the host reads
   * the few files a command changed after every step, and each await on the
   * thread pool is a wake-up of its own on a busy machine.
   */
  async function snapshot(rel, state) {
    const abs = confine.entry(rel);
    const missing = { path: rel, kind: 'missing', mode: 0 };
    if (abs === null) return missing;
    const st = lstatQuiet(abs);
    if (st === undefined) return missing;
    const mode = st.mode & 0o7777;
    if (st.isSymbolicLink()) {
      let linkTarget;
      try {
        linkTarget = fs.readlinkSync(abs);
      } catch {
        return missing;
      }
      return { path: rel, kind: 'symlink', mode, linkTarget };
    }
    if (st.isDirectory()) return { path: rel, kind: 'dir', mode };
    if (!st.isFile()) return missing;
    if (st.size > state.inlineMax || st.size > state.budget) return { path: rel, kind: 'file', mode, size: st.size, chunked: true };
    let buf;
    try {
      buf = st.size <= SYNC_READ_MAX ? fs.readFileSync(abs) : await fs.promises.readFile(abs);
    } catch (e) {
      if (e.code === 'ENOENT') return missing;
      throw fsError(e, rel);
    }
    state.budget -= buf.length;
    return { path: rel, kind: 'file', mode, size: buf.length, content: buf.toString('base64') };
  }

  async function readFiles({ paths, inlineMax = DEFAULT_INLINE_MAX, budget = DEFAULT_BUDGET }) {
    if (!Array.isArray(paths)) throw new OpError('invalid', 'readFiles needs paths.');
    const state = { inlineMax, budget };
    const files = [];
    for (const rel of paths) {
      files.push(await snapshot(rel, state));
      if (files.length % SYNC_BATCH === 0) await yieldToLoop();
    }
    return { files };
  }

  async function readChunk({ path: rel, offset = 0, length = MAX_CHUNK }) {
    const abs = confine.entry(rel);
    if (abs === null) throw new OpError('not_found', `Not found: ${rel}`);
    const want = Math.min(Math.max(0, Number(length)), MAX_CHUNK);
    let handle;
    try {
      handle = await fs.promises.open(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      const st = await handle.stat();
      if (!st.isFile()) throw new OpError('invalid', `${rel} is not a regular file.`);
      const buf = Buffer.alloc(Math.max(0, Math.min(want, st.size - offset)));
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      return { content: buf.subarray(0, bytesRead).toString('base64'), size: st.size, eof: offset + bytesRead >= st.size };
    } catch (e) {
      if (e instanceof OpError) throw e;
      throw fsError(e, rel);
    } finally {
      await handle?.close();
    }
  }

  /** Every entry below the root, depth first, without following symlinks. */
  async function listAll() {
    const entries = [];
    const stack = [''];
    let statted = 0;
    while (stack.length > 0) {
      const dir = stack.pop();
      let dirents;
      try {
        dirents = await fs.promises.readdir(dir === '' ? confine.root : path.posix.join(confine.root, dir), { withFileTypes: true });
      } catch {
        continue;
      }
      for (const d of dirents) {
        const rel = dir === '' ? d.name : `${dir}/${d.name}`;
        // Synchronous lstat: one thread-pool round trip per entry made a 20,000-file listing slow.
        const st = lstatQuiet(path.posix.join(confine.root, rel));
        if (st === undefined) continue;
        if (++statted % SYNC_BATCH === 0) await yieldToLoop();
        const kind = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : null;
        if (kind === null) continue;
        entries.push({ path: rel, kind, mode: st.mode & 0o7777, size: st.size, mtimeMs: st.mtimeMs });
        if (kind === 'dir') stack.push(rel);
      }
    }
    return { entries };
  }

  async function deletePaths({ paths }) {
    if (!Array.isArray(paths)) throw new OpError('invalid', 'deletePaths needs paths.');
    let deleted = 0;
    for (const rel of paths) {
      const abs = confine.entry(rel);
      if (abs === null) continue;
      try {
        await fs.promises.rm(abs, { recursive: true, force: true });
        deleted++;
      } catch (e) {
        throw fsError(e, rel);
      }
    }
    return { deleted };
  }

  async function clear() {
    const names = await fs.promises.readdir(confine.root);
    for (const name of names) await fs.promises.rm(path.posix.join(confine.root, name), { recursive: true, force: true });
    return { removed: names.length };
  }

  return { readFiles, readChunk, listAll, deletePaths, clear };
}

module.exports = { createBulkOps };
