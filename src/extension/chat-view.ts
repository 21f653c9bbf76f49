/**
 * The sidebar chat (webview view `crewbox.chat`): serves the chat bundle,
 * speaks the host⇄webview protocol through a HostChannel and forwards the
 * driven run's events as batched `transcript/append` deltas.
 *
 * Contract (src/protocol/README.md, host checklist):
 * - On `ui/ready`: status/update, runs/resumable, then transcript/reset of
 *   the shown run. Afterwards only deltas, batched per ~16 ms.
 * - A long log is reset as its tail (src/protocol/transcript-page.ts); the
 *   view asks for older pages (`transcript/page`), cut from the log read for
 *   the reset (older events never change).
 * - Switching runs (a drive starts, history pick) pauses the batcher, reads
 *   the run's log, sends the reset, then lets the held events through; the
 *   webview drops the overlap by `seq`.
 * - Runs are refused with `untrusted` in Restricted Mode.
 */
import * as vscode from 'vscode';
import type { RunEvent } from '../core/events/schema.ts';
import type { Logger } from '../core/log/logger.ts';
import { HostChannel, RequestFailed, type RequestHandlers } from '../protocol/host-channel.ts';
import type { ErrorAction } from '../protocol/schemas.ts';
import { PAGE_EVENTS, TAIL_EVENTS, transcriptPage } from '../protocol/transcript-page.ts';
import { EventBatcher } from './event-batcher.ts';
import type { RunController } from './run-controller.ts';
import { webviewHtml, webviewOptions } from './webview-html.ts';

export interface ChatViewDeps {
  extensionUri: vscode.Uri;
  /** Undefined when no folder is open. */
  controller: RunController | undefined;
  trust(): { trusted: boolean; reason?: string };
  logger: Logger;
  invokeAction(action: ErrorAction, runId?: string): Promise<void>;
  /** review/open: shows the run's changes (the Changes view and the diff editor). */
  openReview?(runId: string): Promise<void>;
  /** run/discard: records that the run's proposed changes were discarded; false when the user cancelled. */
  discardRun?(runId: string): Promise<boolean>;
}

const NO_FOLDER = 'Open a folder to use Crewbox: runs work on a workspace folder.';

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewType = 'crewbox.chat';

  #view: vscode.WebviewView | undefined;
  #channel: HostChannel | undefined;
  #viewDisposables: vscode.Disposable[] = [];
  readonly #disposables: vscode.Disposable[] = [];
  #shown: string | null = null;
  #showGeneration = 0;
  #lastActive: string | undefined;
  /** The shown run's log as read for its reset: older pages are cut from it. */
  #shownLog: { runId: string; events: RunEvent[] } | undefined;
  readonly #batcher: EventBatcher<RunEvent>;
  readonly #onDidChangeShownRun = new vscode.EventEmitter<string | null>();
  /** The chat switched runs (the Changes view follows it). */
  readonly onDidChangeShownRun = this.#onDidChangeShownRun.event;

  constructor(private readonly deps: ChatViewDeps) {
    this.#batcher = new EventBatcher((runId, events) => this.#channel?.notify('transcript/append', { runId, events }));
    const c = deps.controller;
    if (c) {
      this.#disposables.push(
        c.onDidRunEvent((e) => {
          if (e.runId === this.#shown) this.#batcher.push(e.runId, e);
        }),
        c.onDidStartDrive((runId) => void this.show(runId)),
        c.onDidChangeStatus(() => {
          this.sendStatus();
          // A run that stopped may now be resumable; other changes (sandbox progress) leave the list alone.
          if (this.#lastActive !== undefined && c.activeRunId === undefined) void this.sendResumable();
          this.#lastActive = c.activeRunId;
        }),
      );
    }
  }

  /** The run the chat shows (null: none). */
  get shownRunId(): string | null {
    return this.#shown;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeView();
    this.#view = view;
    view.webview.options = webviewOptions(this.deps.extensionUri);
    const channel = new HostChannel({ post: (m) => view.webview.postMessage(m) }, this.handlers(), {
      view: 'chat',
      trust: () => this.deps.trust(),
      onReady: () => this.sendState(),
      onRejected: (r) => this.deps.logger.warn('chat view sent a bad message', { rejection: r }),
      onHandlerError: (method, error) => this.deps.logger.error('chat view request failed', { method, error }),
    });
    this.#channel = channel;
    this.#viewDisposables.push(
      view.webview.onDidReceiveMessage((m: unknown) => void channel.receive(m)),
      // Without retainContextWhenHidden a hidden view is torn down; it says ui/ready again when shown.
      view.onDidChangeVisibility(() => {
        if (!view.visible) channel.reset();
      }),
      view.onDidDispose(() => {
        channel.reset();
        if (this.#view === view) {
          this.#view = undefined;
          this.#channel = undefined;
        }
      }),
    );
    view.webview.html = webviewHtml(view.webview, this.deps.extensionUri, 'chat', 'Crewbox');
  }

  /** Reveals the chat (the New Task command). */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${ChatViewProvider.viewType}.focus`);
  }

  /** The chat switches to `runId` (null: an empty chat). */
  async show(runId: string | null): Promise<void> {
    const generation = ++this.#showGeneration;
    this.#shown = runId;
    this.#onDidChangeShownRun.fire(runId);
    this.#batcher.keepOnly(runId);
    this.#batcher.pause();
    try {
      const events = runId && this.deps.controller ? await this.deps.controller.events(runId).catch(() => []) : [];
      if (generation !== this.#showGeneration) return;
      this.sendStatus();
      this.#shownLog = runId ? { runId, events } : undefined;
      const tail = transcriptPage(events, TAIL_EVENTS);
      this.#channel?.notify('transcript/reset', { runId, events: tail.events, ...(tail.earlier && { earlier: tail.earlier }) });
    } finally {
      if (generation === this.#showGeneration) this.#batcher.resume();
    }
  }

  /** Tells the view about a trust change (granted while it is open). */
  trustChanged(): void {
    const t = this.deps.trust();
    this.#channel?.notify('workspace/trust', { trusted: t.trusted, ...(t.reason ? { reason: t.reason } : {}) });
  }

  /** An error outside any run (e.g. from a command), shown in the chat's banner. */
  notifyError(message: string, actions: ErrorAction[]): void {
    this.#channel?.notify('notice/error', { message: message.slice(0, 2_000), actions });
  }

  dispose(): void {
    this.disposeView();
    this.#batcher.dispose();
    this.#onDidChangeShownRun.dispose();
    for (const d of this.#disposables.splice(0)) d.dispose();
  }

  private disposeView(): void {
    for (const d of this.#viewDisposables.splice(0)) d.dispose();
  }

  private requireController(): RunController {
    const c = this.deps.controller;
    if (!c) throw new RequestFailed('failed', NO_FOLDER);
    return c;
  }

  /** Runs are refused in Restricted Mode. */
  private requireRuns(): RunController {
    const t = this.deps.trust();
    if (!t.trusted) throw new RequestFailed('untrusted', t.reason ?? 'Runs are disabled in Restricted Mode.', ['manageTrust']);
    return this.requireController();
  }

  private handlers(): RequestHandlers {
    return {
      'run/start': async ({ goal }) => ({ runId: await this.requireRuns().start(goal) }),
      'run/interrupt': ({ runId }) => {
        this.requireController().interrupt(runId);
        return null;
      },
      'run/resume': async ({ runId, message }) => ({ runId: await this.requireRuns().resume(runId, message) }),
      'run/answer': async ({ runId, callId, answer }) => ({ runId: await this.requireRuns().answer(runId, callId, answer) }),
      'run/discard': async ({ runId }) => {
        const c = this.requireController();
        if (c.isDriving(runId)) throw new RequestFailed('conflict', 'Stop the run before discarding it.');
        // Recorded in the run's log (run.discarded); the workspace is untouched. The chat then clears.
        if (this.deps.discardRun && !(await this.deps.discardRun(runId))) return null;
        if (this.#shown === runId) await this.show(null);
        await this.sendResumable();
        return null;
      },
      'history/list': async () => ({ runs: this.deps.controller ? await this.deps.controller.listRuns() : [] }),
      'transcript/page': async ({ runId, beforeSeq }) => {
        const log = this.#shownLog?.runId === runId ? this.#shownLog.events : await this.requireController().events(runId);
        const page = transcriptPage(log, PAGE_EVENTS, beforeSeq);
        return { runId, events: page.events, ...(page.earlier && { earlier: page.earlier }) };
      },
      'trace/get': async ({ runId }) => ({ runId, events: await this.requireController().events(runId) }),
      'review/open': async ({ runId }) => {
        if (!this.deps.openReview) throw new RequestFailed('failed', NO_FOLDER);
        await this.deps.openReview(runId);
        return null;
      },
      'action/invoke': async ({ action, runId }) => {
        await this.deps.invokeAction(action, runId);
        return null;
      },
    };
  }

  private async sendState(): Promise<void> {
    const c = this.deps.controller;
    if (this.#shown === null && c?.activeRunId) this.#shown = c.activeRunId;
    this.sendStatus();
    await this.sendResumable();
    await this.show(this.#shown);
  }

  private sendStatus(): void {
    const c = this.deps.controller;
    this.#channel?.notify('status/update', {
      driving: c?.isDriving(this.#shown) ?? false,
      sandbox: c ? c.sandbox : { state: 'unavailable', detail: NO_FOLDER },
    });
  }

  private async sendResumable(): Promise<void> {
    const c = this.deps.controller;
    if (!this.#channel?.isReady) return;
    const runs = c ? await c.resumableRuns().catch((e: unknown) => (this.deps.logger.warn('could not list resumable runs', { error: e }), [])) : [];
    // A discarded run's changes are gone; it is not offered for continuing.
    this.#channel?.notify('runs/resumable', { runs: runs.filter((r) => !r.discarded) });
  }
}
