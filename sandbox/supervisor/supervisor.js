'use strict';
/**
 * Crewbox sandbox supervisor: one long-lived process per host connection,
 * started with `docker exec -i` (the Engine API), speaking JSON lines on
 * stdin/stdout (see PROTOCOL.md). Runs on Node >= 18 with no dependencies.
 *
 * Nothing but protocol lines may reach stdout; diagnostics go to stderr.
 * On stdin EOF (the host went away or closed the channel) it stops reading,
 * lets running commands finish (each within its own timeout) so their results
 * reach the journal for a host that resends them, then exits.
 *
 * Environment: CREWBOX_WORKSPACE (default /workspace), CREWBOX_STATE_DIR
 * (default $TMPDIR/crewbox-<uid>: journal, working directories),
 * CREWBOX_SUPERVISOR_VERSION (reported by `version`), CREWBOX_SEARCH=js
 * (never use ripgrep), CREWBOX_RUNNERS=off (spawn a shell per command, see
 * runner.js), CREWBOX_WATCH_BATCH_LIMIT (overflow threshold),
 * CREWBOX_SCRATCH_DIR (short-lived files; default /dev/shm/crewbox-<uid>).
 * These are removed from the environment commands see.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { OpError, createConfinement } = require('./confine.js');
const { ExecService } = require('./commands.js');
const { createFileOps, TEMP_PREFIX } = require('./files.js');
const { createSearch } = require('./search.js');
const { createBulkOps } = require('./bulk.js');
const { ChangeTracker } = require('./tracker.js');
const { Journal } = require('./journal.js');
const { processIdentity } = require('./reaper.js');

const PROTOCOL = 1;
const JOURNAL_MAX_AGE_MS = 7 * 24 * 3600_000;
const JOURNAL_MAX_BYTES = 256 * 1024 * 1024;
const OUTPUT_LIMITS = { headBytes: 1024 * 1024, tailBytes: 1024 * 1024, streamBudget: 1024 * 1024 };

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function findExecutable(name) {
  for (const dir of (process.env.PATH || '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const full = path.join(dir, name);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      return full;
    } catch {
      // Not here.
    }
  }
  return null;
}

/**
 * Where commands leave their final cwd: tmpfs when the container has a
 * writable /dev/shm (a file create there is ~0.7 ms cheaper than on the
 * overlay file system), else the state directory.
 */
function makeScratchDir(stateDir) {
  const shm = path.join('/dev/shm', `crewbox-${process.getuid()}`);
  try {
    fs.mkdirSync(shm, { recursive: true, mode: 0o700 });
    fs.accessSync(shm, fs.constants.W_OK);
    return shm;
  } catch {
    return stateDir;
  }
}

function main() {
  const env = { ...process.env };
  const root = env.CREWBOX_WORKSPACE || '/workspace';
  const stateDir = env.CREWBOX_STATE_DIR || path.join(os.tmpdir(), `crewbox-${process.getuid()}`);
  const version = env.CREWBOX_SUPERVISOR_VERSION || 'dev';
  const searchMode = env.CREWBOX_SEARCH;
  const batchLimit = Number(env.CREWBOX_WATCH_BATCH_LIMIT) || undefined;
  const runners = env.CREWBOX_RUNNERS !== 'off';
  const scratchSetting = env.CREWBOX_SCRATCH_DIR;
  for (const key of Object.keys(env)) if (key.startsWith('CREWBOX_')) delete env[key];

  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const scratchDir = scratchSetting || makeScratchDir(stateDir);
  const confine = createConfinement(root);
  const journal = new Journal(path.join(stateDir, 'journal'), processIdentity(process.pid), { claimDir: path.join(scratchDir, 'claims') });
  journal.prune(JOURNAL_MAX_AGE_MS, JOURNAL_MAX_BYTES);
  const shell = findExecutable('bash') || '/bin/sh';
  const rgPath = searchMode === 'js' ? null : findExecutable('rg');
  const execs = new ExecService({ journal, root: confine.root, stateDir, scratchDir, shell, env, limits: OUTPUT_LIMITS, runners });
  execs.recoverOrphans();
  const files = createFileOps(confine, journal);
  const bulk = createBulkOps(confine);
  const search = createSearch(confine, { rgPath });
  const tracker = new ChangeTracker(confine.root, { ignoreName: (name) => name.startsWith(TEMP_PREFIX), batchLimit });
  tracker.start();

  const info = { protocol: PROTOCOL, version, pid: process.pid, uid: process.getuid(), gid: process.getgid(), node: process.version, root: confine.root, shell, search: rgPath ? 'rg' : 'js' };
  const ops = {
    ping: async () => ({ pong: true, active: execs.active }),
    version: async () => info,
    exec: (params, notify) => execs.exec(params, notify),
    kill: async (params) => execs.kill(params),
    read: files.read,
    write: files.write,
    list: files.list,
    search,
    changes: async (params) => {
      const drained = await tracker.drain({ discard: params.discard === true });
      // `read`: the changed paths' snapshots in the same answer when there are few (one round trip per checkpoint).
      const read = params.read;
      if (!read || typeof read !== 'object' || drained.overflow || drained.paths.length === 0) return drained;
      const maxPaths = Math.min(Math.max(0, Number(read.maxPaths) || 0), 1000);
      if (drained.paths.length > maxPaths) return drained;
      // The paths are drained already: a read that fails must not lose them (the host reads them itself).
      try {
        const { files: snapshots } = await bulk.readFiles({ paths: drained.paths, inlineMax: read.inlineMax, budget: read.budget });
        return { ...drained, files: snapshots };
      } catch {
        return drained;
      }
    },
    readFiles: bulk.readFiles,
    readChunk: bulk.readChunk,
    listAll: bulk.listAll,
    deletePaths: bulk.deletePaths,
    clear: bulk.clear,
  };

  async function handle(line) {
    let req;
    try {
      req = JSON.parse(line);
    } catch {
      process.stderr.write(`crewbox-supervisor: unparsable request line (${line.length} bytes)\n`);
      return;
    }
    const id = req && req.id;
    const op = req && Object.prototype.hasOwnProperty.call(ops, req.op) ? ops[req.op] : null;
    if (op === null) return send({ id, ok: false, error: { code: 'unknown_op', message: `Unknown op ${JSON.stringify(req && req.op)}.` } });
    inflight++;
    try {
      const result = await op(req, (event) => send({ id, ...event }));
      send({ id, ok: true, result });
    } catch (e) {
      const typed = e instanceof OpError;
      if (!typed) process.stderr.write(`crewbox-supervisor: ${req.op} failed: ${e && e.stack ? e.stack : e}\n`);
      send({ id, ok: false, error: { code: typed ? e.code : 'internal', message: e && e.message ? e.message : String(e) } });
    } finally {
      if (--inflight === 0 && stdinEnded) shutdown();
    }
  }

  let inflight = 0;
  let stdinEnded = false;
  async function shutdown() {
    await execs.idle();
    if (inflight > 0) return;
    await execs.close();
    tracker.close();
    process.exit(0);
  }

  // A large request (a write of a few MB) arrives in many chunks: keep them apart until its newline.
  let pending = [];
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    if (!chunk.includes('\n')) {
      pending.push(chunk);
      return;
    }
    const lines = chunk.split('\n');
    lines[0] = pending.join('') + lines[0];
    pending = [lines.pop()];
    for (const line of lines) if (line.trim() !== '') handle(line);
  });
  const onInputEnd = () => {
    if (stdinEnded) return;
    stdinEnded = true;
    if (inflight === 0) shutdown();
  };
  process.stdin.on('end', onInputEnd);
  process.stdin.on('error', onInputEnd);
  // The host may be gone: a failed write to stdout must not kill running commands.
  process.stdout.on('error', () => {});
  send({ event: 'ready', ...info });
}

main();
