/**
 * Registers the review feature: the `crewbox-proposed` content provider,
 * the Changes tree view, its item commands (Apply Hunk, Apply File, Open
 * Change) and the refreshes that keep it in step with the run and the host.
 * The palette commands (Review Proposed Changes, Apply All Changes, Discard
 * Run) live in commands.ts and call the returned ReviewCommands.
 *
 * Contract: everything created is disposed through `context.subscriptions`.
 * The view follows the run the chat shows, until a run is picked with
 * Review Proposed Changes (and again from the chat's next switch).
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../../core/log/logger.ts';
import type { RunEvent } from '../../core/events/schema.ts';
import type { RunController } from '../run-controller.ts';
import { CHANGES_VIEW, ChangesTreeProvider, OPEN_CHANGE, type ChangeNode } from './changes-tree.ts';
import { ProposedContentProvider } from './proposed-content.ts';
import { ReviewActions, type ReviewCommands } from './review-actions.ts';
import { ReviewService } from './review-service.ts';
import { PROPOSED_SCHEME, shortRunId } from './uris.ts';

export const REVIEW_COMMANDS = {
  applyHunk: 'crewbox.applyHunk',
  applyFile: 'crewbox.applyFile',
  openChange: OPEN_CHANGE,
} as const;

export interface ReviewDeps {
  /** Undefined when no folder is open: the view then says so. */
  workspace: string | undefined;
  controller: RunController | undefined;
  /** The chat's shown run and its changes. */
  shownRunId(): string | null;
  onDidChangeShownRun: vscode.Event<string | null>;
  logger: Logger;
  output: vscode.LogOutputChannel;
  /** Reports a command's failure the way the other commands do. */
  showFailure(e: unknown): Promise<void>;
}

/** Events that change a run's checkpoints or end its drive. */
const CHANGING_EVENTS = new Set<RunEvent['type']>(['tool.completed', 'run.finished', 'run.interrupted', 'run.discarded']);

export function registerReview(context: vscode.ExtensionContext, deps: ReviewDeps): ReviewCommands | undefined {
  const { workspace } = deps;
  if (!workspace) {
    const empty: vscode.TreeDataProvider<never> = { getChildren: () => [], getTreeItem: (n) => n };
    const view = vscode.window.createTreeView(CHANGES_VIEW, { treeDataProvider: empty });
    view.message = 'Open a folder to review a run\'s changes.';
    context.subscriptions.push(view);
    return undefined;
  }

  const service = new ReviewService({ workspace, logger: deps.logger });
  const content = new ProposedContentProvider(service);
  const tree = new ChangesTreeProvider(service);
  const view = vscode.window.createTreeView(CHANGES_VIEW, { treeDataProvider: tree, showCollapseAll: true });
  const actions = new ReviewActions({ service, controller: deps.controller, shownRunId: deps.shownRunId, logger: deps.logger, output: deps.output });
  const updateView = (): void => {
    view.message = tree.message();
    view.description = service.runId ? `run ${shortRunId(service.runId)}` : undefined;
  };
  updateView();

  const register = (id: string, fn: (...args: never[]) => Promise<unknown>): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await fn(...(args as never[]));
      } catch (e) {
        await deps.showFailure(e);
      }
    });

  const relative = (uri: vscode.Uri): string => path.relative(workspace, uri.fsPath).split(path.sep).join('/');
  const onFileEvent = (uri: vscode.Uri): void => {
    const rel = relative(uri);
    if (service.runId !== null && rel.startsWith(`.crewbox/runs/${service.runId}/`)) service.scheduleReload();
    else if (service.touches(rel)) service.scheduleRecheck();
  };
  const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(workspace, '**/*'));

  context.subscriptions.push(
    service,
    content,
    tree,
    view,
    watcher,
    vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, content),
    service.onDidChange(updateView),
    register(REVIEW_COMMANDS.openChange, (node: ChangeNode) => actions.openChange(node)),
    register(REVIEW_COMMANDS.applyHunk, (node: ChangeNode) => actions.applyHunk(node)),
    register(REVIEW_COMMANDS.applyFile, (arg: ChangeNode | vscode.Uri) => actions.applyFile(arg)),
    deps.onDidChangeShownRun((runId) => {
      if (runId !== null) void service.setRun(runId);
    }),
    watcher.onDidChange(onFileEvent),
    watcher.onDidCreate(onFileEvent),
    watcher.onDidDelete(onFileEvent),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.scheme === 'file' && service.touches(relative(e.document.uri))) service.scheduleRecheck();
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      if (doc.uri.scheme === 'file' && service.touches(relative(doc.uri))) service.scheduleRecheck();
    }),
  );
  const c = deps.controller;
  if (c) {
    context.subscriptions.push(
      c.onDidRunEvent((e) => {
        if (e.runId === service.runId && CHANGING_EVENTS.has(e.type)) service.scheduleReload();
      }),
      c.onDidChangeStatus(() => {
        if (service.runId !== null && !c.isDriving(service.runId)) service.scheduleReload();
      }),
    );
  }
  const shown = deps.shownRunId();
  if (shown !== null) void service.setRun(shown);
  return actions;
}
