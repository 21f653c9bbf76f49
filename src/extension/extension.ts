/**
 * The extension's composition root. Activation only builds services and
 * registers features (views, commands, trust); the core runtime, dockerode
 * and lowdb load on first use, so activation stays cheap.
 *
 * Contract: everything activate() creates is disposed through
 * `context.subscriptions`; deactivate() interrupts a run this window drives
 * and waits until the run has recorded that it stopped (so it is resumable).
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/log/logger.ts';
import { ApiKeys } from './api-keys.ts';
import { ChatViewProvider } from './chat-view.ts';
import { registerCommands, type CommandActions } from './commands.ts';
import { registerReview } from './review/register.ts';
import type { ReviewCommands } from './review/review-actions.ts';
import { HistoryPanel } from './history/history-panel.ts';
import { createOutputLogger } from './output-logger.ts';
import { RunController, loadHeavyModules, type HeavyModules } from './run-controller.ts';
import { readSettings, type CrewboxSettings } from './settings.ts';
import { showSandboxProgress } from './sandbox-progress.ts';
import { currentTrust } from './trust.ts';

let activeController: RunController | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Crewbox', { log: true });
  context.subscriptions.push(output);
  const logger = createOutputLogger(output);
  const env: Readonly<Record<string, string | undefined>> = { ...process.env };
  const settings = settingsReader(logger);
  const keys = new ApiKeys(context.secrets, env);
  const workspace = workspaceFolder();

  const controller = workspace
    ? new RunController({ workspace, installDir: context.extensionPath, env, settings, apiKey: (p) => keys.get(p), logger, load: heavyLoader() })
    : undefined;
  activeController = controller;
  if (controller) context.subscriptions.push(showSandboxProgress(controller));

  let actions: CommandActions | undefined;
  let review: ReviewCommands | undefined;
  const chat = new ChatViewProvider({
    extensionUri: context.extensionUri,
    controller,
    trust: currentTrust,
    logger,
    invokeAction: async (action, runId) => actions?.invokeAction(action, runId),
    openReview: async (runId) => review?.review(runId),
    discardRun: async (runId) => (review ? review.discard(runId) : false),
  });
  context.subscriptions.push(chat, vscode.window.registerWebviewViewProvider(ChatViewProvider.viewType, chat));

  const history = new HistoryPanel({
    extensionUri: context.extensionUri,
    controller,
    workspace,
    env,
    chat,
    trust: currentTrust,
    logger,
    invokeAction: async (action, runId) => actions?.invokeAction(action, runId),
  });
  context.subscriptions.push(history);

  review = registerReview(context, {
    workspace,
    controller,
    shownRunId: () => chat.shownRunId,
    onDidChangeShownRun: chat.onDidChangeShownRun,
    logger,
    output,
    showFailure: async (e) => actions?.showFailure(e),
  });

  actions = registerCommands(context, { controller, workspace, installDir: context.extensionPath, env, chat, history, review, keys, settings, output, logger });

  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => chat.trustChanged()));
  logger.info('Crewbox activated', { workspace: workspace ?? null, trusted: vscode.workspace.isTrusted });
}

export async function deactivate(): Promise<void> {
  const controller = activeController;
  activeController = undefined;
  await controller?.dispose();
}

/** The first folder on disk; multi-root workspaces use their first folder for now. */
function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
}

/** Reads `crewbox.*` at each use (settings may change between runs) and logs each problem once. */
function settingsReader(logger: Logger): () => CrewboxSettings {
  const reported = new Set<string>();
  return () => {
    const config = vscode.workspace.getConfiguration('crewbox');
    const { settings, problems } = readSettings((key) => config.get(key));
    for (const p of problems) {
      if (reported.has(p)) continue;
      reported.add(p);
      logger.warn(p);
      void vscode.window.showWarningMessage(`Crewbox: ${p}`);
    }
    return settings;
  };
}

/** Imports the heavy modules once; a failed import is retried on the next use. */
function heavyLoader(): () => Promise<HeavyModules> {
  let loading: Promise<HeavyModules> | undefined;
  return () => {
    loading ??= loadHeavyModules().catch((e: unknown) => {
      loading = undefined;
      throw e;
    });
    return loading;
  };
}
