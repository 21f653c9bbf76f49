/**
 * The CLI's structured log: JSON lines in `.crewbox/logs/cli-YYYY-MM-DD.jsonl`,
 * redacted (keys from the environment never reach it). Logging must never
 * break a run, so a failing write is dropped.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createJsonLogger, type Logger } from '../core/log/logger.ts';
import { createRedactor, secretsFromEnv } from '../core/redact.ts';
import { crewboxPaths } from '../core/store/layout.ts';

export function createFileLogger(workspace: string, env: Readonly<Record<string, string | undefined>>, now = new Date()): Logger {
  const dir = path.join(crewboxPaths(workspace).root, 'logs');
  const file = path.join(dir, `cli-${now.toISOString().slice(0, 10)}.jsonl`);
  let ready = false;
  return createJsonLogger({
    level: env['CREWBOX_LOG_LEVEL'] === 'debug' ? 'debug' : 'info',
    redactor: createRedactor({ secrets: secretsFromEnv(env) }),
    sink: (line) => {
      try {
        if (!ready) {
          mkdirSync(dir, { recursive: true });
          ready = true;
        }
        appendFileSync(file, `${line}\n`);
      } catch {
        // Contract: never let logging break the command.
      }
    },
  });
}
