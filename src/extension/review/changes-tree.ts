/**
 * The "Changes" tree (view `crewbox.changes`): the reviewed run's files, each
 * with its hunks. Items carry the context values the menus in package.json
 * match on: `file` / `file-conflict`, `hunk` / `hunk-applied` / `hunk-conflict`.
 * Clicking a file opens its diff (yours ↔ the run's); clicking a hunk opens
 * the diff at that hunk.
 */
import * as vscode from 'vscode';
import { firstChangedLine, hunkCodeBlock, hunkHeader, type LocatedHunk } from './hunks.ts';
import type { ReviewFile } from './model.ts';
import type { ReviewService } from './review-service.ts';
import { shortRunId, workspaceUri } from './uris.ts';

export const CHANGES_VIEW = 'crewbox.changes';
export const OPEN_CHANGE = 'crewbox.openChange';

export type ChangeNode = { kind: 'file'; runId: string; file: ReviewFile } | { kind: 'hunk'; runId: string; file: ReviewFile; hunk: LocatedHunk };

const KIND_LABEL: Record<ReviewFile['kind'], string> = { added: 'added', modified: 'modified', deleted: 'deleted', renamed: 'renamed' };

export class ChangesTreeProvider implements vscode.TreeDataProvider<ChangeNode>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<ChangeNode | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  readonly #subscription: vscode.Disposable;

  constructor(private readonly service: ReviewService) {
    this.#subscription = service.onDidChange(() => this._onDidChangeTreeData.fire(undefined));
  }

  getChildren(node?: ChangeNode): ChangeNode[] {
    const model = this.service.model;
    if (!model || model.discarded) return [];
    if (!node) return model.files.map((file) => ({ kind: 'file', runId: model.runId, file }));
    if (node.kind === 'file' && node.file.via === 'text') return node.file.hunks.map((hunk) => ({ kind: 'hunk', runId: node.runId, file: node.file, hunk }));
    return [];
  }

  getTreeItem(node: ChangeNode): vscode.TreeItem {
    return node.kind === 'file' ? this.fileItem(node.runId, node.file) : hunkItem(node.runId, node.file, node.hunk);
  }

  getParent(node: ChangeNode): ChangeNode | undefined {
    return node.kind === 'hunk' ? { kind: 'file', runId: node.runId, file: node.file } : undefined;
  }

  /** What the view shows instead of items (no run, no change, discarded, a load error). */
  message(): string | undefined {
    const { runId, model, error } = this.service;
    if (runId === null) return 'No run to review. Start a task in the chat, or use "Crewbox: Review Proposed Changes".';
    if (error) return error;
    if (!model) return `Reading the changes of run ${shortRunId(runId)}…`;
    if (model.discarded) return `Run ${shortRunId(runId)} was discarded: its changes are no longer offered.`;
    if (model.files.length === 0) return `Run ${shortRunId(runId)} proposes no change.`;
    return undefined;
  }

  dispose(): void {
    this.#subscription.dispose();
    this._onDidChangeTreeData.dispose();
  }

  private fileItem(runId: string, file: ReviewFile): vscode.TreeItem {
    const slash = file.path.lastIndexOf('/');
    const name = slash === -1 ? file.path : file.path.slice(slash + 1);
    const folder = slash === -1 ? '' : file.path.slice(0, slash);
    const item = new vscode.TreeItem(name, file.via === 'text' && file.hunks.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = `${runId}:${file.path}`;
    item.resourceUri = workspaceUri(this.service.workspace, file.path);
    item.description = [folder, statusOf(file)].filter(Boolean).join(' · ');
    item.tooltip = tooltipOf(file);
    item.contextValue = file.state === 'conflict' ? 'file-conflict' : 'file';
    item.command = { command: OPEN_CHANGE, title: 'Open Change', arguments: [{ kind: 'file', runId, file } satisfies ChangeNode] };
    return item;
  }
}

function hunkItem(runId: string, file: ReviewFile, hunk: LocatedHunk): vscode.TreeItem {
  const item = new vscode.TreeItem(hunkHeader(hunk.hunk), vscode.TreeItemCollapsibleState.None);
  item.id = `${runId}:${file.path}:${hunk.index}:${hunkHeader(hunk.hunk)}`;
  item.description = hunk.state === 'pending' ? firstChangedLine(hunk.hunk) : `${hunk.state} · ${firstChangedLine(hunk.hunk)}`;
  item.contextValue = hunk.state === 'pending' ? 'hunk' : `hunk-${hunk.state}`;
  item.iconPath = new vscode.ThemeIcon(hunk.state === 'applied' ? 'pass' : hunk.state === 'conflict' ? 'warning' : 'diff');
  const md = new vscode.MarkdownString();
  md.appendMarkdown(hunkCodeBlock(hunk.hunk));
  item.tooltip = md;
  item.command = { command: OPEN_CHANGE, title: 'Open Change', arguments: [{ kind: 'hunk', runId, file, hunk } satisfies ChangeNode] };
  return item;
}

function statusOf(file: ReviewFile): string {
  const kind = file.kind === 'renamed' && file.oldPath ? `renamed from ${file.oldPath}` : KIND_LABEL[file.kind];
  const extra = [file.binary ? 'binary' : '', file.symlink ? 'symlink' : '', file.modeChange ? (file.modeChange.to ? '+x' : '-x') : ''].filter(Boolean);
  const partly = file.state === 'pending' && file.hunks.some((h) => h.state === 'applied');
  const state = file.state === 'applied' ? 'applied' : file.state === 'conflict' ? 'conflict' : partly ? 'partly applied' : '';
  return [kind, ...extra, state, file.merged && file.state !== 'applied' ? 'you edited it too' : ''].filter(Boolean).join(', ');
}

function tooltipOf(file: ReviewFile): string {
  const added = file.change.additions;
  const deleted = file.change.deletions;
  const lines = [`${file.path}: ${statusOf(file)}`, `+${added} −${deleted}`];
  if (file.reason) lines.push(file.reason);
  if (file.via === 'fs') lines.push('Applied whole (binary, symlink or mode change): not undoable with Undo.');
  return lines.join('\n');
}
