/**
 * The run under review and its review model, kept in step with the run (its
 * checkpoints grow while it works) and with the host (the user edits files).
 * The Changes tree, the proposed-content provider and the apply commands all
 * read from here.
 *
 * Contract:
 * - One run at a time (`runId`); `setRun` switches and reloads. Loads that
 *   a newer switch overtook are dropped (a generation counter).
 * - `reload` re-reads the run's proposed files (the heavy bundle) and then
 *   re-checks the host; `recheck` only re-checks the host (cheap: the files
 *   the run touched). Both are also available debounced.
 * - The host side of a text file is the open document's text when the file
 *   is open in the editor (what the user sees, unsaved edits included),
 *   otherwise the file on disk.
 * - Load failures are kept as `error` (one sentence) and logged; the tree
 *   shows them, nothing throws to the caller of a scheduled refresh.
 */
import * as vscode from 'vscode';
import type { Logger } from '../../core/log/logger.ts';
import { loadHeavy } from '../load-heavy.ts';
import type { HostEntry, ReviewFile, ReviewModel } from './model.ts';
import { reviewFile } from './model.ts';
import type { RunChanges } from './run-changes.ts';
import { workspaceUri } from './uris.ts';

export interface ReviewServiceDeps {
  workspace: string;
  logger: Logger;
}

const RELOAD_DELAY_MS = 400;
const RECHECK_DELAY_MS = 250;

export class ReviewService implements vscode.Disposable {
  #runId: string | null = null;
  #changes: RunChanges | undefined;
  #model: ReviewModel | undefined;
  #error: string | undefined;
  #generation = 0;
  #reloadTimer: NodeJS.Timeout | undefined;
  #recheckTimer: NodeJS.Timeout | undefined;
  /** Another run's proposed files, for diffs opened from elsewhere (one kept). */
  #other: RunChanges | undefined;

  private readonly _onDidChange = new vscode.EventEmitter<void>();
  /** The model (states, files) or the run under review changed. */
  readonly onDidChange = this._onDidChange.event;
  private readonly _onDidReloadRun = new vscode.EventEmitter<string>();
  /** The proposed contents of this run were re-read (open proposed documents must refresh). */
  readonly onDidReloadRun = this._onDidReloadRun.event;

  constructor(private readonly deps: ReviewServiceDeps) {}

  get workspace(): string {
    return this.deps.workspace;
  }

  get runId(): string | null {
    return this.#runId;
  }

  /** Undefined while the first load of the run is in progress or failed. */
  get model(): ReviewModel | undefined {
    return this.#model;
  }

  get error(): string | undefined {
    return this.#error;
  }

  async setRun(runId: string | null): Promise<void> {
    if (runId === this.#runId && this.#model) return;
    this.#runId = runId;
    this.#changes = undefined;
    this.#model = undefined;
    this.#error = undefined;
    this._onDidChange.fire();
    await this.reload();
  }

  async reload(): Promise<void> {
    const runId = this.#runId;
    const generation = ++this.#generation;
    if (runId === null) return;
    try {
      const { loadRunChanges } = await loadHeavy();
      const changes = await loadRunChanges(this.deps.workspace, runId);
      if (generation !== this.#generation) return;
      this.#changes = changes;
      this._onDidReloadRun.fire(runId);
      await this.recheck(generation);
    } catch (e) {
      if (generation !== this.#generation) return;
      this.deps.logger.warn('could not read the run\'s proposed changes', { runId, error: e });
      this.#error = `Could not read the proposed changes of run ${runId}: ${e instanceof Error ? e.message : String(e)}`;
      this._onDidChange.fire();
    }
  }

  /** Re-checks every proposed file against the host. */
  async recheck(generation = this.#generation): Promise<void> {
    const changes = this.#changes;
    if (!changes) return;
    const files: ReviewFile[] = [];
    for (const change of changes.files) {
      files.push(reviewFile(change, await this.hostEntry(change.path), change.kind === 'renamed' && change.oldPath !== undefined ? await this.hostEntry(change.oldPath) : undefined));
    }
    // A reload may have replaced the changes while this read the host: the newer recheck wins.
    if (generation !== this.#generation || changes !== this.#changes) return;
    this.#model = { runId: changes.runId, discarded: changes.discarded, files };
    this.#error = undefined;
    this._onDidChange.fire();
  }

  scheduleReload(): void {
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = setTimeout(() => void this.reload(), RELOAD_DELAY_MS);
  }

  scheduleRecheck(): void {
    clearTimeout(this.#recheckTimer);
    this.#recheckTimer = setTimeout(() => void this.recheck(), RECHECK_DELAY_MS);
  }

  /** Whether `rel` is a path the run under review changes (either side of a rename). */
  touches(rel: string): boolean {
    return this.#changes?.files.some((f) => f.path === rel || f.oldPath === rel) ?? false;
  }

  file(rel: string): ReviewFile | undefined {
    return this.#model?.files.find((f) => f.path === rel);
  }

  /**
   * The file reviewed against the host as it is right now. With
   * `openDocument`, a text file is opened (not shown) so its state is judged
   * on exactly the text an edit will replace.
   */
  async freshFile(rel: string, opts: { openDocument?: boolean } = {}): Promise<ReviewFile | undefined> {
    const change = this.#changes?.files.find((f) => f.path === rel);
    if (!change) return undefined;
    const oldPath = change.kind === 'renamed' ? change.oldPath : undefined;
    return reviewFile(change, await this.hostEntry(rel, opts.openDocument), oldPath !== undefined ? await this.hostEntry(oldPath, opts.openDocument) : undefined);
  }

  /** The proposed text of a path at a run; a placeholder sentence for what has no text. */
  async proposedContent(runId: string, rel: string): Promise<string> {
    let changes = runId === this.#runId ? this.#changes : this.#other?.runId === runId ? this.#other : undefined;
    if (!changes) {
      const { loadRunChanges } = await loadHeavy();
      changes = await loadRunChanges(this.deps.workspace, runId);
      if (runId !== this.#runId) this.#other = changes;
    }
    if (changes.discarded) return '';
    const f = changes.files.find((x) => x.path === rel);
    if (!f || f.kind === 'deleted') return '';
    if (f.proposedText !== undefined) return f.proposedText;
    return f.binary ? '(Binary file: not shown. Crewbox applies it whole.)\n' : '(Symbolic link or special file: not shown. Crewbox applies it whole.)\n';
  }

  private async hostEntry(rel: string, openDocument = false): Promise<HostEntry> {
    const { readHostEntry } = await loadHeavy();
    const entry = await readHostEntry(this.deps.workspace, rel);
    if (entry.kind !== 'file' || entry.text === undefined) return entry;
    const uri = workspaceUri(this.deps.workspace, rel);
    let doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc && openDocument) doc = await vscode.workspace.openTextDocument(uri);
    return doc ? { ...entry, text: doc.getText() } : entry;
  }

  dispose(): void {
    clearTimeout(this.#reloadTimer);
    clearTimeout(this.#recheckTimer);
    this._onDidChange.dispose();
    this._onDidReloadRun.dispose();
  }
}
