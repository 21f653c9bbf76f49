/**
 * Shows the sandbox's long preparation (image build, container start, copy-in
 * of the workspace) as a VS Code progress notification, for as long as the
 * RunController reports the sandbox `building` or `starting`. The chat's
 * status line shows the same state; this makes it visible with the chat hidden.
 *
 * Contract: at most one notification at a time; it closes as soon as the
 * state leaves building/starting (ready, error, unavailable...) or on dispose.
 */
import * as vscode from 'vscode';
import type { RunController } from './run-controller.ts';

const BUSY = new Set(['building', 'starting']);

export function showSandboxProgress(controller: RunController): vscode.Disposable {
  let open: { report(message: string | undefined): void; close(): void } | undefined;
  const update = (): void => {
    const { state, detail } = controller.sandbox;
    if (!BUSY.has(state)) {
      open?.close();
      open = undefined;
      return;
    }
    open ??= startNotification();
    open.report(detail);
  };
  const subscription = controller.onDidChangeStatus(update);
  return new vscode.Disposable(() => {
    subscription.dispose();
    open?.close();
    open = undefined;
  });
}

function startNotification(): { report(message: string | undefined): void; close(): void } {
  // withProgress may call the task later than it returns: remember what
  // arrives before, including a close.
  let finish: (() => void) | undefined;
  let closed = false;
  let progress: vscode.Progress<{ message?: string }> | undefined;
  let pending: string | undefined;
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Crewbox: preparing the sandbox' },
    (p) => {
      progress = p;
      if (pending !== undefined) p.report({ message: pending });
      return closed ? Promise.resolve() : new Promise<void>((resolve) => (finish = resolve));
    },
  );
  return {
    report(message) {
      const text = message?.slice(0, 120);
      if (progress) progress.report({ message: text ?? '' });
      else pending = text;
    },
    close() {
      closed = true;
      finish?.();
    },
  };
}
