/**
 * The question asked when applying would touch what the user changed since
 * the run's base: a modal naming the file. Nothing is overwritten unless the
 * user picks "Use Run's Version"; closing the dialog keeps their file.
 */
import * as vscode from 'vscode';
import type { ReviewFile } from './model.ts';
import { shortRunId } from './uris.ts';

export type ConflictChoice = 'openDiff' | 'useRun' | 'keepMine';

const OPEN_DIFF = 'Open Diff';
const USE_RUN = "Use Run's Version";
const KEEP_MINE = 'Keep Mine';

export async function askAboutConflict(runId: string, file: ReviewFile, what: 'file' | 'hunk'): Promise<ConflictChoice> {
  const subject = what === 'hunk' ? `This hunk of ${file.path}` : file.path;
  const overwrite =
    file.change.kind === 'deleted'
      ? `"${USE_RUN}" deletes the file.`
      : `"${USE_RUN}" replaces the whole file with run ${shortRunId(runId)}'s version${what === 'hunk' ? ' (all its hunks)' : ''}; your edits in it are lost, but Undo brings them back.`;
  const choice = await vscode.window.showWarningMessage(
    `${subject} changed in your workspace since run ${shortRunId(runId)} started, where the run changed it too. Crewbox does not overwrite your edit unless you say so.`,
    { modal: true, detail: [file.reason, overwrite].filter(Boolean).join('\n\n') },
    OPEN_DIFF,
    USE_RUN,
    KEEP_MINE,
  );
  return choice === OPEN_DIFF ? 'openDiff' : choice === USE_RUN ? 'useRun' : 'keepMine';
}
