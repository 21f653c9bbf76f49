/** Workspace trust as the views see it: runs are disabled in Restricted Mode, with the reason. */
import * as vscode from 'vscode';

export const UNTRUSTED_REASON =
  'Runs are disabled in Restricted Mode: Crewbox builds a sandbox from this workspace and lets AI agents run commands in it. Trust the workspace to enable runs.';

export function currentTrust(): { trusted: boolean; reason?: string } {
  return vscode.workspace.isTrusted ? { trusted: true } : { trusted: false, reason: UNTRUSTED_REASON };
}
