'use strict';
/**
 * The file ops behind the agents' tools: read, write, list. Paths go through
 * confine.js; failures the model can act on are OpErrors with the codes of
 * SandboxToolErrorCode (plus `permission`).
 */
const fs = require('fs');
const path = require('path');
const { OpError, fsError } = require('./confine.js');

const BINARY_SNIFF_BYTES = 8192;
const DEFAULT_READ_MAX = 2 * 1024 * 1024;
const DEFAULT_LIST_MAX = 20_000;
/** Directories `list` shows but does not descend into below the listed path. */
const OPAQUE_DIRS = new Set(['.git', '.crewbox']);
/** Prefix of write temp files; the change tracker ignores these names. */
const TEMP_PREFIX = '.crewbox-tmp-';

function createFileOps(confine, journal) {
  let tempSeq = 0;

  async function read({ path: p, maxBytes = DEFAULT_READ_MAX }) {
    const { real, rel } = await confine.existing(p);
    const st = await fs.promises.stat(real);
    if (st.isDirectory()) throw new OpError('is_directory', `${rel} is a directory, not a file; use list_files to see its contents.`);
    if (!st.isFile()) throw new OpError('invalid', `${rel} is not a regular file.`);
    if (st.size > maxBytes) throw new OpError('too_large', `${rel} is ${st.size} bytes, over the ${maxBytes}-byte limit for reading.`);
    let buf;
    try {
      buf = await fs.promises.readFile(real);
    } catch (e) {
      throw fsError(e, rel);
    }
    if (buf.length > maxBytes) throw new OpError('too_large', `${rel} is over the ${maxBytes}-byte limit for reading.`);
    if (isBinary(buf)) throw new OpError('binary', `${rel} is a binary file and cannot be shown as text.`);
    return { content: buf.toString('utf8'), size: buf.length };
  }

  /** Atomic (temp file + rename in the same directory); keeps an existing file's mode. */
  async function write({ path: p, content, encoding = 'utf8', callId }) {
    if (typeof content !== 'string') throw new OpError('invalid', 'write needs content as a string.');
    if (encoding !== 'utf8' && encoding !== 'base64') throw new OpError('invalid', `Unknown encoding ${encoding}.`);
    if (callId !== undefined) {
      const stored = journal.read(callId, { thorough: true });
      if (stored) return { ...stored.result, replayed: true };
    }
    if (confine.lexical(p) === confine.root) throw new OpError('is_directory', 'The workspace root is a directory; choose a file path.');
    const { real, rel } = await confine.forWrite(p);
    let mode;
    try {
      const st = await fs.promises.stat(real);
      if (st.isDirectory()) throw new OpError('is_directory', `${rel} is a directory; choose a file path.`);
      mode = st.mode & 0o7777;
    } catch (e) {
      if (e instanceof OpError) throw e;
      if (e.code !== 'ENOENT') throw fsError(e, rel);
    }
    const data = Buffer.from(content, encoding);
    const dir = path.posix.dirname(real);
    const tmp = path.posix.join(dir, `${TEMP_PREFIX}${process.pid}-${++tempSeq}`);
    try {
      await fs.promises.mkdir(dir, { recursive: true });
      await fs.promises.writeFile(tmp, data, mode === undefined ? {} : { mode });
      if (mode !== undefined) await fs.promises.chmod(tmp, mode);
      await fs.promises.rename(tmp, real);
    } catch (e) {
      await fs.promises.rm(tmp, { force: true }).catch(() => {});
      if (e.code === 'ENOTDIR' || e.code === 'EEXIST') throw new OpError('not_directory', `A parent of ${rel} is a file, so ${rel} cannot be created.`);
      throw fsError(e, rel);
    }
    const result = { path: rel, bytes: data.length };
    return callId === undefined ? result : journal.record(callId, 'write', result);
  }

  /** Breadth first, so a capped listing keeps the shallow entries. Paths are root-relative. */
  async function list({ path: p, depth = 1, maxEntries = DEFAULT_LIST_MAX }) {
    const { real, rel } = await confine.existing(p);
    const st = await fs.promises.stat(real);
    if (!st.isDirectory()) throw new OpError('not_directory', `${rel} is a file, not a directory.`);
    const entries = [];
    let level = [{ abs: real, rel: rel === '.' ? '' : rel }];
    for (let d = 1; d <= depth && level.length > 0; d++) {
      const next = [];
      for (const dir of level) {
        let dirents;
        try {
          dirents = await fs.promises.readdir(dir.abs, { withFileTypes: true });
        } catch (e) {
          if (dir.abs === real) throw fsError(e, rel);
          continue;
        }
        dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const dirent of dirents) {
          const childRel = dir.rel === '' ? dirent.name : `${dir.rel}/${dirent.name}`;
          const childAbs = path.posix.join(dir.abs, dirent.name);
          if (dirent.isDirectory()) {
            entries.push({ path: childRel, type: 'dir' });
            if (!OPAQUE_DIRS.has(dirent.name.toLowerCase())) next.push({ abs: childAbs, rel: childRel });
          } else if (dirent.isSymbolicLink()) {
            entries.push({ path: childRel, type: 'symlink' });
          } else {
            const size = await fs.promises.lstat(childAbs).then((s) => s.size, () => undefined);
            entries.push(size === undefined ? { path: childRel, type: 'file' } : { path: childRel, type: 'file', size });
          }
          if (entries.length >= maxEntries) return { entries, truncated: true };
        }
      }
      level = next;
    }
    return { entries, truncated: false };
  }

  return { read, write, list };
}

function isBinary(buf) {
  return buf.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

module.exports = { createFileOps, isBinary, TEMP_PREFIX, BINARY_SNIFF_BYTES };
