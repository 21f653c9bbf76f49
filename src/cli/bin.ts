/** Process entry of the `crewbox` command (bundled to dist/cli.cjs). */
import path from 'node:path';
import { main, processIo } from './main.ts';
import { EXIT } from './exit-codes.ts';

// A reader that went away (`crewbox trace … | head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

// dist/cli.cjs → the installation root, which holds sandbox/.
const installDir = path.resolve(__dirname, '..');

main(process.argv.slice(2), processIo(installDir)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`crewbox: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = EXIT.failed;
  },
);
