/**
 * Carries out a text plan (model.ts) as one WorkspaceEdit, so the editor's
 * Undo reverts it and files the plan does not name are never touched.
 *
 * Contract:
 * - Modifications replace the document's whole text with the planned text
 *   (computed from that same document's text); additions create the file
 *   with its contents; deletions delete it; a pending rename creates the
 *   new path with its text and deletes the old one, in the same edit.
 * - Documents are saved afterwards so the file on disk changes, except those
 *   that had unsaved edits of the user before: those stay unsaved (their
 *   paths are returned) rather than saving the user's edits for them.
 * - A planned executable bit is set on disk after the edit (a WorkspaceEdit
 *   cannot change modes).
 * - An edit the editor refuses is a RequestFailed (one sentence, Show Logs).
 */
import * as vscode from 'vscode';
import { RequestFailed } from '../../protocol/host-channel.ts';
import { loadHeavy } from '../load-heavy.ts';
import type { TextPlan } from './model.ts';
import { workspaceUri } from './uris.ts';

export type EditPlan = Extract<TextPlan, { op: 'write' | 'delete' }>;

/** Applies the plan; returns the paths left unsaved because the user had unsaved edits in them. */
export async function applyPlan(workspace: string, plan: EditPlan, label: string): Promise<string[]> {
  const edit = new vscode.WorkspaceEdit();
  const meta: vscode.WorkspaceEditEntryMetadata = { label, needsConfirmation: false };
  const uri = workspaceUri(workspace, plan.path);
  const toSave: vscode.TextDocument[] = [];
  const leftUnsaved: string[] = [];
  if (plan.op === 'delete') {
    edit.deleteFile(uri, { ignoreIfNotExists: true }, meta);
  } else if (plan.renameFrom !== undefined) {
    edit.createFile(uri, { contents: new TextEncoder().encode(plan.text) }, meta);
    edit.deleteFile(workspaceUri(workspace, plan.renameFrom), { ignoreIfNotExists: true }, meta);
  } else if (!(await exists(uri))) {
    edit.createFile(uri, { contents: new TextEncoder().encode(plan.text) }, meta);
  } else {
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.isDirty) leftUnsaved.push(plan.path);
    else toSave.push(doc);
    const all = new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
    edit.replace(uri, all, plan.text, meta);
  }
  if (!(await vscode.workspace.applyEdit(edit))) throw new RequestFailed('failed', `The editor could not apply the change to ${plan.path} (is a parent folder a file, or the file read-only?).`, ['showLogs']);
  for (const doc of toSave) {
    if (!(await doc.save())) leftUnsaved.push(plan.path);
  }
  if (plan.op === 'write' && plan.executable !== undefined) {
    const { setExecutable } = await loadHeavy();
    await setExecutable(workspace, plan.path, plan.executable);
  }
  return leftUnsaved;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}
