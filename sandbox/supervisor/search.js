'use strict';
/**
 * The `search` op: regular-expression search of file contents.
 *
 * ripgrep (`rg --json`, sorted by path) when the image has it, else a walk in
 * JavaScript with RegExp; both skip .git and .crewbox, binary files (a NUL in
 * the first 8 KB) and files over `maxFileBytes`, and neither follows symlinks.
 * rg is also abandoned for the walk when it rejects a pattern JavaScript
 * accepts (the dialects differ in corners, e.g. `\/`).
 * `glob` follows ripgrep: without a slash it matches the base name anywhere;
 * with one, the path relative to the searched directory.
 * Returned paths are relative to the workspace root, at most `maxResults`.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { OpError } = require('./confine.js');
const { isBinary, BINARY_SNIFF_BYTES } = require('./files.js');

const SKIP_DIRS = new Set(['.git', '.crewbox']);
const DEFAULT_MAX_FILE = 1024 * 1024;
const MAX_TEXT_CHARS = 2000;

function createSearch(confine, { rgPath }) {
  return async function search(params) {
    const { pattern, glob } = params;
    const maxResults = Math.max(1, Number(params.maxResults) || 200);
    const maxFileBytes = Number(params.maxFileBytes) || DEFAULT_MAX_FILE;
    if (typeof pattern !== 'string' || pattern === '') throw new OpError('invalid', 'search needs a pattern.');
    let regex;
    try {
      regex = new RegExp(pattern);
    } catch (e) {
      throw new OpError('invalid', `Invalid regular expression: ${e.message}`);
    }
    const { real, rel } = await confine.existing(params.path === undefined ? '.' : params.path);
    const st = await fs.promises.stat(real);
    // Search from the directory so relative globs and output paths line up.
    const base = st.isDirectory() ? { dir: real, rel: rel === '.' ? '' : rel, target: '.' } : { dir: path.posix.dirname(real), rel: parentRel(rel), target: path.posix.basename(real) };
    const req = { pattern, regex, glob, maxResults, maxFileBytes, base };
    if (rgPath) {
      const viaRg = await searchWithRg(rgPath, req);
      if (viaRg !== null) return { matches: viaRg, engine: 'rg' };
    }
    return { matches: await searchWithJs(req), engine: 'js' };
  };
}

function parentRel(rel) {
  const dir = path.posix.dirname(rel);
  return dir === '.' ? '' : dir;
}

function join(baseRel, p) {
  const clean = p.replace(/^\.\//, '');
  return baseRel === '' ? clean : `${baseRel}/${clean}`;
}

function shorten(text) {
  const line = text.replace(/\r?\n$/, '').replace(/\r$/, '');
  return line.length > MAX_TEXT_CHARS ? line.slice(0, MAX_TEXT_CHARS) : line;
}

/** Matches, or null when rg could not run the pattern (fall back to JavaScript). */
function searchWithRg(rgPath, req) {
  const args = ['--json', '--no-config', '--no-ignore', '--hidden', '--sort', 'path', '--max-filesize', String(req.maxFileBytes), '--glob', '!.git', '--glob', '!.crewbox'];
  if (req.glob) args.push('--glob', req.glob);
  args.push('-e', req.pattern, '--', req.base.target);
  return new Promise((resolve) => {
    const child = spawn(rgPath, args, { cwd: req.base.dir, stdio: ['ignore', 'pipe', 'ignore'] });
    const matches = [];
    let pending = '';
    let sawOutput = false;
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      resolve(value);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop();
      for (const line of lines) {
        if (done || line === '') continue;
        sawOutput = true;
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (msg.type !== 'match') continue;
        const p = textOf(msg.data.path);
        const text = textOf(msg.data.lines);
        if (p === null || text === null) continue;
        matches.push({ path: join(req.base.rel, p), line: msg.data.line_number, text: shorten(text) });
        if (matches.length >= req.maxResults) return finish(matches);
      }
    });
    child.on('error', () => finish(null));
    child.on('close', (code) => finish(code === 2 && !sawOutput ? null : matches));
  });
}

function textOf(field) {
  if (!field) return null;
  if (typeof field.text === 'string') return field.text;
  return typeof field.bytes === 'string' ? Buffer.from(field.bytes, 'base64').toString('utf8') : null;
}

async function searchWithJs(req) {
  const matches = [];
  const globRe = req.glob ? globToRegExp(req.glob.replace(/^\.\//, '')) : null;
  const globOnPath = req.glob ? req.glob.includes('/') : false;

  async function visitFile(abs, relToBase) {
    if (globRe && !globRe.test(globOnPath ? relToBase : path.posix.basename(relToBase))) return;
    let st;
    try {
      st = await fs.promises.lstat(abs);
    } catch {
      return;
    }
    if (!st.isFile() || st.size > req.maxFileBytes) return;
    let buf;
    try {
      buf = await fs.promises.readFile(abs);
    } catch {
      return;
    }
    if (isBinary(buf.subarray(0, BINARY_SNIFF_BYTES))) return;
    const lines = buf.toString('utf8').split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      if (!req.regex.test(lines[i])) continue;
      matches.push({ path: join(req.base.rel, relToBase), line: i + 1, text: shorten(lines[i]) });
      if (matches.length >= req.maxResults) return;
    }
  }

  async function visitDir(abs, relToBase) {
    let dirents;
    try {
      dirents = await fs.promises.readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      if (matches.length >= req.maxResults) return;
      const childRel = relToBase === '' ? d.name : `${relToBase}/${d.name}`;
      if (d.isDirectory()) {
        if (!SKIP_DIRS.has(d.name)) await visitDir(path.posix.join(abs, d.name), childRel);
      } else if (d.isFile()) {
        await visitFile(path.posix.join(abs, d.name), childRel);
      }
    }
  }

  if (req.base.target === '.') await visitDir(req.base.dir, '');
  else await visitFile(path.posix.join(req.base.dir, req.base.target), req.base.target);
  return matches;
}

/** ripgrep-like glob: `*`/`?` within a segment, `**` across, `[...]`, `{a,b}`. */
function globToRegExp(glob) {
  let src = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slashAfter = glob[i + 2] === '/';
      src += slashAfter ? '(?:.*/)?' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') src += '[^/]*';
    else if (c === '?') src += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) src += '\\[';
      else {
        const body = glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        src += `[${body}]`;
        i = close;
      }
    } else if (c === '{') {
      braces++;
      src += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      src += ')';
    } else if (c === ',' && braces > 0) src += '|';
    else src += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

module.exports = { createSearch, globToRegExp };
