/**
 * Serves `crewbox-proposed:` documents: a run's proposed content of a file,
 * read-only (the right side of the review diff). Tells the editor to re-read
 * them whenever the run's proposed files are reloaded.
 */
import * as vscode from 'vscode';
import type { ReviewService } from './review-service.ts';
import { parseProposedUri, PROPOSED_SCHEME } from './uris.ts';

export class ProposedContentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this._onDidChange.event;
  readonly #subscription: vscode.Disposable;

  constructor(private readonly service: ReviewService) {
    this.#subscription = service.onDidReloadRun((runId) => {
      for (const doc of vscode.workspace.textDocuments) {
        if (doc.uri.scheme === PROPOSED_SCHEME && parseProposedUri(doc.uri)?.runId === runId) this._onDidChange.fire(doc.uri);
      }
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const address = parseProposedUri(uri);
    if (!address || address.empty) return '';
    return this.service.proposedContent(address.runId, address.path);
  }

  dispose(): void {
    this.#subscription.dispose();
    this._onDidChange.dispose();
  }
}
