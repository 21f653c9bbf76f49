/**
 * Addresses of the review: `crewbox-proposed:/<path>?run=<id>` is the run's
 * proposed content of a workspace file (read-only, served by
 * ProposedContentProvider); `&empty=1` is an empty document (the left side
 * of an added file's diff). The path keeps the file's name, so the editor
 * picks the language and icon from it.
 */
import * as vscode from 'vscode';

export const PROPOSED_SCHEME = 'crewbox-proposed';

export interface ProposedAddress {
  runId: string;
  path: string;
  empty: boolean;
}

export function proposedUri(runId: string, rel: string, empty = false): vscode.Uri {
  const query = new URLSearchParams({ run: runId });
  if (empty) query.set('empty', '1');
  return vscode.Uri.from({ scheme: PROPOSED_SCHEME, path: `/${rel}`, query: query.toString() });
}

export function parseProposedUri(uri: vscode.Uri): ProposedAddress | undefined {
  if (uri.scheme !== PROPOSED_SCHEME) return undefined;
  const query = new URLSearchParams(uri.query);
  const runId = query.get('run');
  if (!runId) return undefined;
  return { runId, path: uri.path.replace(/^\/+/, ''), empty: query.get('empty') === '1' };
}

/** The host file of a workspace-relative path. */
export function workspaceUri(workspace: string, rel: string): vscode.Uri {
  return vscode.Uri.joinPath(vscode.Uri.file(workspace), ...rel.split('/'));
}

/** How a run is named in titles: the random tail of its id ("run-20250101-120000-a1b2c3" → "a1b2c3"). */
export function shortRunId(runId: string): string {
  const tail = /-([0-9a-f]{6})$/.exec(runId)?.[1];
  return tail ?? runId.slice(0, 12);
}
