'use strict';
/**
 * A command in a shell spawned for it alone (`<shell> -c`), as leader of a new
 * session and process group. Used when the image has no bash (runner.js needs
 * it) or a runner cannot take the command. Forking from Node costs 5-10 ms,
 * which is why runner.js exists.
 *
 * Job interface shared with runner.js: `start(spec, handlers)` calls
 * `handlers.data(stream, buf)` for output, `handlers.exit(code, signal)` when
 * the shell ended, `handlers.end()` once all output is in (or
 * `handlers.error(e)` if it never started); the returned job's `leader()` is
 * the process-group leader (0 while unknown) and `abandon()` drops the pipes.
 */
const { spawn } = require('child_process');
const { TOKEN_VAR } = require('./reaper.js');

function quote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function startCold({ shell, env }, spec, handlers) {
  const { cwd, command, token, cwdFile } = spec;
  const child = spawn(shell, ['-c', `trap 'pwd > ${quote(cwdFile)}' EXIT\n${command}`], {
    cwd,
    env: { ...env, PWD: cwd, [TOKEN_VAR]: token },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (buf) => handlers.data('stdout', buf));
  child.stderr.on('data', (buf) => handlers.data('stderr', buf));
  child.on('error', (e) => handlers.error(e));
  child.on('exit', (code, signal) => handlers.exit(code, signal));
  child.on('close', () => handlers.end());
  return {
    leader: () => child.pid || 0,
    groupKilledOnExit: false,
    abandon() {
      child.stdout.destroy();
      child.stderr.destroy();
    },
  };
}

module.exports = { startCold };
