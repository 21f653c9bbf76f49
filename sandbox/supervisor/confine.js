'use strict';
/**
 * Confinement of request paths to the workspace root.
 *
 * Contract:
 * - Request paths are POSIX, relative to the root ('' and '.' mean the root);
 *   an absolute path is accepted only when it lies under the root.
 * - `existing` follows symlinks and refuses a target that resolves outside the
 *   root (outside_workspace), so a symlink to /etc is never read through.
 * - `forWrite` resolves the final symlink chain and the deepest existing
 *   ancestor, so a write lands on a real path inside the root or is refused.
 * - `entry` names a tree entry without following its last component (for the
 *   bulk ops that snapshot links as links): it is `null` when a parent
 *   directory is missing or is itself a symlink, because then the path does not
 *   name an entry of the tree.
 * This is tool semantics, not a security boundary: the container is the
 * boundary, and a command in it can swap a symlink between check and use.
 */
const fs = require('fs');
const path = require('path');

/** A failure the host maps to a typed error (codes match SandboxToolErrorCode). */
class OpError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const MAX_SYMLINK_HOPS = 40;

function createConfinement(root) {
  const realRoot = fs.realpathSync(root);
  const inside = (abs) => abs === realRoot || abs.startsWith(`${realRoot}/`);
  const relative = (abs) => (abs === realRoot ? '.' : abs.slice(realRoot.length + 1));

  function lexical(p) {
    if (typeof p !== 'string' || p.includes('\0')) throw new OpError('invalid', `Invalid path: ${JSON.stringify(p)}`);
    const abs = path.posix.resolve(realRoot, p === '' ? '.' : p);
    if (!inside(abs)) throw new OpError('outside_workspace', `${p} is outside the workspace.`);
    return abs;
  }

  async function existing(p) {
    const abs = lexical(p);
    let real;
    try {
      real = await fs.promises.realpath(abs);
    } catch (e) {
      throw fsError(e, p);
    }
    if (!inside(real)) throw new OpError('outside_workspace', `${p} resolves outside the workspace (through a symlink).`);
    return { abs, real, rel: relative(abs) };
  }

  async function forWrite(p) {
    let target = lexical(p);
    for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop++) {
      const st = await lstatOrNull(target);
      if (st === null || !st.isSymbolicLink()) break;
      target = path.posix.resolve(path.posix.dirname(target), await fs.promises.readlink(target));
      if (hop === MAX_SYMLINK_HOPS - 1) throw new OpError('invalid', `${p}: too many levels of symbolic links.`);
    }
    // Deepest existing ancestor, resolved; the rest is created by the write.
    const missing = [];
    let dir = path.posix.dirname(target);
    for (;;) {
      try {
        const real = await fs.promises.realpath(dir);
        const st = await fs.promises.stat(real);
        if (!st.isDirectory()) throw new OpError('not_directory', `${relative(dir)} is a file, so ${p} cannot be created.`);
        const full = path.posix.join(real, ...missing, path.posix.basename(target));
        if (!inside(full) || full === realRoot) throw new OpError('outside_workspace', `${p} resolves outside the workspace (through a symlink).`);
        return { real: full, rel: relative(full) };
      } catch (e) {
        if (e instanceof OpError) throw e;
        if (e.code === 'ENOTDIR') throw new OpError('not_directory', `A parent of ${p} is a file.`);
        if (e.code !== 'ENOENT' || dir === '/') throw fsError(e, p);
        missing.unshift(path.posix.basename(dir));
        dir = path.posix.dirname(dir);
      }
    }
  }

  /** Absolute path of the entry `p` names, or null (see the contract above). */
  function entry(p) {
    const abs = lexical(p);
    if (abs === realRoot) return null;
    const parent = path.posix.dirname(abs);
    try {
      return fs.realpathSync(parent) === parent ? abs : null;
    } catch {
      return null;
    }
  }

  return { root: realRoot, inside, relative, lexical, existing, forWrite, entry };
}

async function lstatOrNull(p) {
  try {
    return await fs.promises.lstat(p);
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    if (e.code === 'ENOTDIR') throw new OpError('not_directory', `A parent of ${p} is a file.`);
    throw e;
  }
}

/** Maps a file-system errno to an OpError; unknown ones stay infrastructure errors. */
function fsError(e, p) {
  switch (e && e.code) {
    case 'ENOENT':
      return new OpError('not_found', `Not found: ${p}`);
    case 'ENOTDIR':
      return new OpError('not_directory', `A parent of ${p} is not a directory.`);
    case 'EISDIR':
      return new OpError('is_directory', `${p} is a directory.`);
    case 'ELOOP':
      return new OpError('invalid', `${p}: too many levels of symbolic links.`);
    case 'ENAMETOOLONG':
      return new OpError('invalid', `${p}: name too long.`);
    case 'EACCES':
    case 'EPERM':
      return new OpError('permission', `Permission denied: ${p}`);
    default:
      return e;
  }
}

module.exports = { OpError, createConfinement, fsError };
