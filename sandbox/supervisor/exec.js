'use strict';
/**
 * Runs one shell command.
 *
 * Contract:
 * - bash (or sh when the image has no bash) with `-c`-like semantics, as
 *   leader of a new session and process group, stdin at EOF (a command that
 *   reads stdin gets EOF at once), in `cwd`, with a fresh copy of the
 *   supervisor's environment (launchers.js).
 * - The shell's final working directory is written by an EXIT trap, so
 *   `exit N` records it and N stays the exit code. If the command replaces the
 *   shell (`exec prog`) or resets the trap, `cwd` comes back undefined and the
 *   caller keeps the previous one.
 * - When the shell exits, whatever it left behind is killed: its process group
 *   at once, processes that left the group (setsid, daemons) by a batched
 *   sweep shortly after the result is out (reaper.js Sweeper). Nothing a command starts outlives its call. A timeout or
 *   `kill()` kills the whole tree with SIGKILL before the result (reaper.js).
 * - Output is streamed to `onOutput` as decoded text until `streamBudget`
 *   bytes have been sent (then `onPaused` is called once), and captured
 *   head+tail (capture.js) for the result.
 */
const fs = require('fs');
const { StringDecoder } = require('string_decoder');
const { Capture } = require('./capture.js');
const { killCommand, killGroup, ticksNow } = require('./reaper.js');

/** After the shell exits and its leftovers are killed, how long to wait for the rest of the output. */
const PIPE_GRACE_MS = 500;
/** After a kill, how long before the call is answered even if its shell never reports its end. */
const KILL_DEADLINE_MS = 5000;

/**
 * `start(spec, handlers)` starts the shell (runner.js or cold.js); `token`
 * marks every process of the command and `cwdFile` receives its final cwd.
 * @returns {{ done: Promise<object>, leader: () => number, kill: () => void }}
 */
function runProcess(opts) {
  const { start, token, cwdFile, command, cwd, timeoutMs, limits, onOutput, onPaused, scope, sweep } = opts;
  const startedAt = Date.now();
  // Processes started before this moment cannot be the command's (a tick of margin for rounding).
  const since = ticksNow();
  const killScope = () => ({ ...scope(), ...(since !== undefined ? { since: since - 2 } : {}) });
  const captures = { stdout: new Capture(limits.headBytes, limits.tailBytes), stderr: new Capture(limits.headBytes, limits.tailBytes) };
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  let streamed = 0;
  let paused = false;
  let timedOut = false;
  let aborted = false;
  let exit = null;
  let startError = null;
  let finished = false;
  let graceTimer = null;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));

  let timer = null;
  // Until the shell reports its pid, only the token finds it: keep trying until it exits.
  const killTree = () => {
    killCommand(job.leader(), token, killScope());
    if (job.leader() === 0 && exit === null && !finished) setTimeout(killTree, 20);
  };
  // A process stuck in the kernel (uninterruptible sleep) may outlive SIGKILL for a while; the call does not wait for it.
  const killAndDeadline = () => {
    killTree();
    setTimeout(() => {
      if (finished) return;
      killTree();
      finish();
    }, KILL_DEADLINE_MS);
  };

  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    clearTimeout(graceTimer);
    job.abandon();
    resolveDone(result());
    // After a normal exit only the group was killed so far; processes that left it
    // (setsid, daemons) are swept shortly after the answer, off the critical path.
    sweep({ leader: job.leader(), token, since: killScope().since });
  };

  const job = start(
    { cwd, command, token, cwdFile },
    {
      data(stream, buf) {
        captures[stream].push(buf);
        if (paused) return;
        streamed += buf.length;
        if (streamed > limits.streamBudget) {
          paused = true;
          onPaused();
          return;
        }
        const text = decoders[stream].write(buf);
        if (text !== '') onOutput(stream, text);
      },
      exit(code, signal) {
        if (exit !== null) return;
        exit = { code, signal };
        clearTimeout(timer);
        // Background jobs die with the command (a runner has done it already); then the rest of the output drains.
        if (!job.groupKilledOnExit) killGroup(job.leader());
        graceTimer = setTimeout(() => {
          killTree();
          finish();
        }, PIPE_GRACE_MS);
      },
      end: () => setImmediate(finish),
      error(e) {
        startError = e;
        setImmediate(finish);
      },
    },
  );

  timer = setTimeout(() => {
    timedOut = true;
    killAndDeadline();
  }, timeoutMs);

  function result() {
    const killed = timedOut || aborted;
    const out = {
      exitCode: killed || !exit || exit.signal ? null : exit.code,
      signal: exit && exit.signal ? exit.signal : null,
      stdout: captures.stdout.text('stdout'),
      stderr: captures.stderr.text('stderr'),
      timedOut,
      aborted,
      durationMs: Date.now() - startedAt,
      dropped: { stdout: captures.stdout.dropped, stderr: captures.stderr.dropped },
      cwd: readCwd(cwdFile),
    };
    if (startError) {
      out.exitCode = 127;
      out.stderr += `[crewbox: could not start the shell: ${startError.message}]\n`;
    }
    return out;
  }

  return {
    done,
    /** The command's process-group leader, 0 until known. */
    leader: () => job.leader(),
    /** Kills the tree; a command whose shell already exited keeps its own result. */
    kill() {
      if (finished) return;
      if (exit === null && startError === null) aborted = true;
      killAndDeadline();
    },
  };
}

function readCwd(file) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    fs.unlinkSync(file);
    const dir = text.replace(/\n$/, '');
    return dir.startsWith('/') ? dir : undefined;
  } catch {
    return undefined;
  }
}

module.exports = { runProcess };
