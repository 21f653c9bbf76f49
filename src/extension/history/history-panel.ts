/**
 * The run history and trace viewer: one editor panel (`crewbox.history`,
 * "Crewbox: Run History") serving the history bundle, reused by Show Run
 * History and Open Trace. The protocol logic lives in HistoryHost; this file
 * adds the editor's parts (the panel, the save dialog, the run picker).
 *
 * Contract:
 * - At most one panel; showing it again reveals it. Served with the strict
 *   CSP of webview-html.ts and resources limited to dist/webview and media/.
 * - No retainContextWhenHidden: a hidden panel's page is torn down, so the
 *   channel is reset and the page's next `ui/ready` gets its state again
 *   (it re-lists the runs itself; a pending Open Trace is re-sent).
 * - While the panel is open, a watcher on `.crewbox/index.json` tells the
 *   host about runs other windows and the CLI recorded.
 * - Errors from the commands go to the caller (commands.ts shows them with
 *   actions); errors of requests go back to the page as replies.
 */
import * as vscode from 'vscode';
import type { Logger } from '../../core/log/logger.ts';
import { HostChannel, RequestFailed } from '../../protocol/host-channel.ts';
import type { NotificationIn, NotificationMethod } from '../../protocol/messages.ts';
import type { ErrorAction } from '../../protocol/schemas.ts';
import type { RunController } from '../run-controller.ts';
import { webviewHtml, webviewOptions } from '../webview-html.ts';
import { HistoryHost, type ChatPort, type SaveTarget } from './history-host.ts';
import { createHistoryStore } from './history-store.ts';
import { runPickItem } from './run-pick.ts';

export interface HistoryPanelDeps {
  extensionUri: vscode.Uri;
  /** Undefined when no folder is open. */
  controller: RunController | undefined;
  workspace: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  chat: ChatPort;
  trust(): { trusted: boolean; reason?: string };
  logger: Logger;
  invokeAction(action: ErrorAction, runId?: string): Promise<void>;
}

const NO_FOLDER = 'Open a folder first; runs work on a workspace folder.';

export class HistoryPanel implements vscode.Disposable, vscode.WebviewPanelSerializer {
  static readonly viewType = 'crewbox.history';
  static readonly title = 'Crewbox: Run History';

  #panel: vscode.WebviewPanel | undefined;
  #channel: HostChannel | undefined;
  #panelDisposables: vscode.Disposable[] = [];
  readonly #disposables: vscode.Disposable[] = [];
  readonly #host: HistoryHost;

  constructor(private readonly deps: HistoryPanelDeps) {
    const { controller, workspace } = deps;
    this.#host = new HistoryHost({
      folder: controller && workspace ? { runs: controller, store: createHistoryStore(workspace, deps.env, deps.logger) } : undefined,
      chat: deps.chat,
      trust: () => deps.trust(),
      chooseExportTarget: (fileName) => this.chooseExportTarget(fileName),
      invokeAction: (action, runId) => deps.invokeAction(action, runId),
      notify: <M extends NotificationMethod>(method: M, params: NotificationIn<M>) => this.#channel?.notify(method, params) ?? false,
      isReady: () => this.#channel?.isReady ?? false,
      logger: deps.logger,
    });
    this.#disposables.push(
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.#host.trustChanged()),
      vscode.window.registerWebviewPanelSerializer(HistoryPanel.viewType, this),
    );
  }

  /** Opens the panel, or reveals it. */
  show(): void {
    if (this.#panel) {
      this.#panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(HistoryPanel.viewType, HistoryPanel.title, vscode.ViewColumn.Active, {
      ...webviewOptions(this.deps.extensionUri),
      enableFindWidget: true,
    });
    this.adopt(panel);
  }

  /** VS Code restores the panel after a window reload (the serializer; package.json activates on it). */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    if (this.#panel) {
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(this.deps.extensionUri);
    this.adopt(panel);
  }

  /** Open Trace: the chat's run, else one the user picks; shown in the panel. */
  async openTrace(chatRunId: string | null): Promise<void> {
    const runId = chatRunId ?? (await this.pickRun());
    if (runId === undefined) return;
    this.show();
    this.#host.showTrace(runId);
  }

  /** Leaves the panel itself to the editor: disposing it here would keep a reload from restoring it. */
  dispose(): void {
    this.disposePanel();
    this.#host.dispose();
    for (const d of this.#disposables.splice(0)) d.dispose();
  }

  private adopt(panel: vscode.WebviewPanel): void {
    panel.iconPath = vscode.Uri.joinPath(this.deps.extensionUri, 'media', 'crewbox.svg');
    const channel = new HostChannel({ post: (m) => panel.webview.postMessage(m) }, this.#host.handlers(), {
      view: 'history',
      trust: () => this.deps.trust(),
      onReady: () => this.#host.onReady(),
      onRejected: (r) => this.deps.logger.warn('history view sent a bad message', { rejection: r }),
      onHandlerError: (method, error) => this.deps.logger.error('history view request failed', { method, error }),
    });
    this.#panel = panel;
    this.#channel = channel;
    this.#panelDisposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void channel.receive(m)),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) channel.reset();
      }),
      panel.onDidDispose(() => {
        channel.reset();
        if (this.#panel === panel) this.disposePanel();
      }),
      ...this.watchIndex(),
    );
    panel.webview.html = webviewHtml(panel.webview, this.deps.extensionUri, 'history', HistoryPanel.title);
  }

  /** While the panel is open: runs of other windows and the CLI reach the index when their drives stop. */
  private watchIndex(): vscode.Disposable[] {
    if (!this.deps.workspace || !this.deps.controller) return [];
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(this.deps.workspace), '.crewbox/index.json'));
    const changed = () => this.#host.indexChanged();
    return [watcher, watcher.onDidCreate(changed), watcher.onDidChange(changed)];
  }

  private disposePanel(): void {
    for (const d of this.#panelDisposables.splice(0)) d.dispose();
    this.#panel = undefined;
    this.#channel = undefined;
  }

  private async pickRun(): Promise<string | undefined> {
    if (!this.deps.controller) throw new RequestFailed('failed', NO_FOLDER);
    const runs = await this.#host.listRuns();
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('Crewbox: no runs yet. Start one with "Crewbox: New Task".');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(runs.map(runPickItem), {
      title: 'Crewbox: Open Trace',
      placeHolder: 'Which run?',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    return picked?.runId;
  }

  private async chooseExportTarget(fileName: string): Promise<SaveTarget | undefined> {
    const folder = this.deps.workspace;
    const uri = await vscode.window.showSaveDialog({
      title: 'Crewbox: Export Trace as OTLP JSON',
      saveLabel: 'Export',
      filters: { 'OTLP JSON': ['json'] },
      ...(folder !== undefined && { defaultUri: vscode.Uri.joinPath(vscode.Uri.file(folder), fileName) }),
    });
    if (!uri) return undefined;
    const location = uri.scheme === 'file' ? uri.fsPath : uri.toString(true);
    return {
      location,
      write: async (content) => {
        try {
          await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(content));
        } catch (e) {
          this.deps.logger.warn('trace export failed', { location, error: e });
          throw new RequestFailed('failed', `Could not write ${location}: ${e instanceof Error ? e.message : String(e)}`, ['showLogs']);
        }
      },
    };
  }
}
