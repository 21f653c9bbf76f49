/**
 * The command palette (category "Crewbox"). Each command goes through the
 * same RunController as the chat, so the chat shows what a command started.
 * Expected failures are shown as one sentence with action buttons; anything
 * else is logged and reported with Show Logs.
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/log/logger.ts';
import { ACTION_LABELS } from '../protocol/error-actions.ts';
import { RequestFailed } from '../protocol/host-channel.ts';
import type { ErrorAction } from '../protocol/schemas.ts';
import { promptForApiKey, type ApiKeys } from './api-keys.ts';
import type { ChatViewProvider } from './chat-view.ts';
import type { HistoryPanel } from './history/history-panel.ts';
import { loadHeavy } from './load-heavy.ts';
import { toRequestFailed } from './failures.ts';
import type { ReviewCommands } from './review/review-actions.ts';
import type { RunController } from './run-controller.ts';
import { sandboxOptionsFrom, type CrewboxSettings } from './settings.ts';
import { UNTRUSTED_REASON } from './trust.ts';
import { fixProblemsGoal, writeTestsGoal, type Problem, type ProblemSeverity } from './task-goals.ts';

export interface CommandDeps {
  controller: RunController | undefined;
  workspace: string | undefined;
  installDir: string;
  env: Readonly<Record<string, string | undefined>>;
  chat: ChatViewProvider;
  history: Pick<HistoryPanel, 'show' | 'openTrace'>;
  /** Undefined when no folder is open. */
  review: ReviewCommands | undefined;
  keys: ApiKeys;
  settings(): CrewboxSettings;
  output: vscode.LogOutputChannel;
  logger: Logger;
}

export const COMMANDS = {
  newTask: 'crewbox.newTask',
  fixProblems: 'crewbox.fixProblems',
  writeTests: 'crewbox.writeTests',
  continueRun: 'crewbox.continueRun',
  stopRun: 'crewbox.stopRun',
  reviewChanges: 'crewbox.reviewChanges',
  applyAllChanges: 'crewbox.applyAllChanges',
  discardRun: 'crewbox.discardRun',
  showRunHistory: 'crewbox.showRunHistory',
  openTrace: 'crewbox.openTrace',
  rebuildSandbox: 'crewbox.rebuildSandbox',
  setApiKey: 'crewbox.setApiKey',
} as const;

const NO_FOLDER = 'Open a folder first; runs work on a workspace folder.';

/** Registers every command; returns the actions so the webviews' error buttons can use them. */
export function registerCommands(context: vscode.ExtensionContext, deps: CommandDeps): CommandActions {
  const actions = new CommandActions(deps);
  const register = (id: string, fn: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await fn(...args);
      } catch (e) {
        await actions.showFailure(e);
      }
    }));
  register(COMMANDS.newTask, () => actions.newTask());
  register(COMMANDS.fixProblems, () => actions.fixProblems());
  register(COMMANDS.writeTests, () => actions.writeTests());
  register(COMMANDS.continueRun, () => actions.continueRun());
  register(COMMANDS.stopRun, () => actions.stopRun());
  register(COMMANDS.reviewChanges, (runId) => actions.reviewChanges(runId));
  register(COMMANDS.applyAllChanges, () => actions.applyAllChanges());
  register(COMMANDS.discardRun, (runId) => actions.discardRun(runId));
  register(COMMANDS.showRunHistory, () => deps.history.show());
  register(COMMANDS.openTrace, () => deps.history.openTrace(deps.chat.shownRunId));
  register(COMMANDS.rebuildSandbox, () => actions.rebuildSandbox());
  register(COMMANDS.setApiKey, () => promptForApiKey(deps.keys, deps.settings().provider));
  return actions;
}

/** What the commands and the webviews' error buttons do. */
export class CommandActions {
  constructor(private readonly deps: CommandDeps) {}

  async invokeAction(action: ErrorAction, runId?: string): Promise<void> {
    switch (action) {
      case 'setApiKey':
        await promptForApiKey(this.deps.keys, this.deps.settings().provider);
        return;
      case 'showLogs':
        this.deps.output.show(true);
        return;
      case 'startDocker':
        void vscode.window.showInformationMessage('Crewbox: start Docker (Docker Desktop, or the Docker service on Linux), then try again.');
        return;
      case 'manageTrust':
        await vscode.commands.executeCommand('workbench.trust.manage');
        return;
      case 'retry':
        if (runId) await this.requireRuns().resume(runId);
        return;
    }
  }

  async newTask(): Promise<void> {
    await this.deps.chat.reveal();
    const goal = await vscode.window.showInputBox({ title: 'Crewbox: New Task', prompt: 'What should the team do?', ignoreFocusOut: true });
    if (goal?.trim()) await this.start(goal.trim());
  }

  async fixProblems(): Promise<void> {
    const editor = this.activeFile();
    if (!editor) return;
    const problems: Problem[] = vscode.languages.getDiagnostics(editor.document.uri).map((d) => ({
      line: d.range.start.line + 1,
      severity: SEVERITY[d.severity],
      message: d.message,
      ...(d.source ? { source: d.source } : {}),
    }));
    const goal = fixProblemsGoal(vscode.workspace.asRelativePath(editor.document.uri, false), problems);
    if (!goal) {
      void vscode.window.showInformationMessage('Crewbox: this file has no errors or warnings to fix.');
      return;
    }
    await this.start(goal);
  }

  async writeTests(): Promise<void> {
    const editor = this.activeFile();
    if (editor) await this.start(writeTestsGoal(vscode.workspace.asRelativePath(editor.document.uri, false)));
  }

  async continueRun(): Promise<void> {
    const c = this.requireRuns();
    const runs = await c.resumableRuns();
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('Crewbox: no stopped run to continue.');
      return;
    }
    const picked = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: r.goal.replace(/\s+/g, ' ').slice(0, 120), description: r.status.replace('_', ' '), detail: `${r.id} · step ${r.steps} · $${r.costUsd.toFixed(4)}`, runId: r.id })),
      { title: 'Crewbox: Continue Run', placeHolder: 'Which run?' },
    );
    if (!picked) return;
    const message = await vscode.window.showInputBox({ title: 'Crewbox: Continue Run', prompt: 'A message for the team (optional): steer what it does next.', ignoreFocusOut: true });
    if (message === undefined) return;
    await this.deps.chat.reveal();
    await c.resume(picked.runId, message.trim() || undefined);
  }

  stopRun(): void {
    const c = this.deps.controller;
    const runId = c?.activeRunId;
    if (!c || !runId) {
      void vscode.window.showInformationMessage('Crewbox: no run is active in this window.');
      return;
    }
    c.interrupt(runId);
  }

  /** Review, Apply All and Discard go through the review feature (src/extension/review/). */
  async reviewChanges(runId?: unknown): Promise<void> {
    await this.requireReview().review(typeof runId === 'string' ? runId : undefined);
  }

  async applyAllChanges(): Promise<void> {
    await this.requireReview().applyAll();
  }

  async discardRun(runId?: unknown): Promise<void> {
    await this.requireReview().discard(typeof runId === 'string' ? runId : undefined);
  }

  async rebuildSandbox(): Promise<void> {
    this.requireRuns();
    const workspace = this.deps.workspace!;
    const { DockerEngine, buildSandboxImage } = await loadHeavy();
    const image = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Crewbox: building the sandbox image', cancellable: false },
      async (progress) => {
        const engine = new DockerEngine(this.deps.env);
        await engine.ping();
        return buildSandboxImage(engine, {
          workspace,
          installDir: this.deps.installDir,
          network: this.deps.settings().network,
          ...sandboxOptionsFrom(this.deps.settings()),
          env: this.deps.env,
          rebuild: true,
          onProgress: (p) => {
            this.deps.logger.debug('sandbox build', { message: p.message });
            progress.report({ message: p.message.slice(0, 120) });
          },
        });
      },
    );
    for (const w of [...image.ignored.map((k) => `devcontainer.json: "${k}" is not supported and was ignored.`), ...image.warnings]) this.deps.logger.warn(w);
    void vscode.window.showInformationMessage(`Crewbox: sandbox image ready (${image.ref}).`);
  }

  async showFailure(e: unknown): Promise<void> {
    const failed = toRequestFailed(e);
    if (!failed) {
      this.deps.logger.error('command failed', { error: e });
      const choice = await vscode.window.showErrorMessage('Crewbox hit an unexpected error. Show Logs has the details.', ACTION_LABELS.showLogs);
      if (choice) this.deps.output.show(true);
      return;
    }
    const labels = failed.actions.map((a) => ACTION_LABELS[a]);
    const choice = await vscode.window.showErrorMessage(`Crewbox: ${failed.message}`, ...labels);
    const action = failed.actions.find((a) => ACTION_LABELS[a] === choice);
    if (action) await this.invokeAction(action).catch((err: unknown) => this.showFailure(err));
  }

  private async start(goal: string): Promise<void> {
    const c = this.requireRuns();
    await this.deps.chat.reveal();
    await c.start(goal);
  }

  private activeFile(): vscode.TextEditor | undefined {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme !== 'file') {
      void vscode.window.showInformationMessage('Crewbox: open a file of the workspace first.');
      return undefined;
    }
    return editor;
  }

  private requireReview(): ReviewCommands {
    if (!this.deps.review) throw new RequestFailed('failed', NO_FOLDER);
    return this.deps.review;
  }

  private requireController(): RunController {
    if (!this.deps.controller) throw new RequestFailed('failed', NO_FOLDER);
    return this.deps.controller;
  }

  private requireRuns(): RunController {
    if (!vscode.workspace.isTrusted) throw new RequestFailed('untrusted', UNTRUSTED_REASON, ['manageTrust']);
    return this.requireController();
  }
}

const SEVERITY: Record<vscode.DiagnosticSeverity, ProblemSeverity> = {
  0: 'error',
  1: 'warning',
  2: 'information',
  3: 'hint',
};
