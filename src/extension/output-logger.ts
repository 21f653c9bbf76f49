/** The core's Logger port over the "Crewbox" LogOutputChannel: redacted JSON lines at the matching level. */
import type * as vscode from 'vscode';
import { createJsonLogger, type LogLevel, type Logger } from '../core/log/logger.ts';

export function createOutputLogger(channel: vscode.LogOutputChannel): Logger {
  return createJsonLogger({
    level: 'debug',
    sink: (line) => {
      const level = (JSON.parse(line) as { level: LogLevel }).level;
      const message = line;
      if (level === 'error') channel.error(message);
      else if (level === 'warn') channel.warn(message);
      else if (level === 'debug') channel.debug(message);
      else channel.info(message);
    },
  });
}
