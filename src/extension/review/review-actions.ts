/**
 * What the review commands do: open a change in the diff editor, apply a
 * hunk, a file or everything, discard the run, pick a run to review.
 *
 * Contract:
 * - Applying is refused while the run is being driven (here, in another
 *   window or by the CLI: the run lock) and once the run was discarded, each
 *   with one sentence.
 * - Every apply re-reads the host right before the edit (the document's own
 *   text) and goes through the same per-file path; text changes are one
 *   WorkspaceEdit per file (undoable), binary files, symlinks and mode-only
 *   changes the fs-level applyChange for that path (logged as such).
 * - A conflict is never overwritten without the user's choice; Apply All
 *   does not ask per file: it leaves conflicts alone and lists them.
 */
import * as vscode from 'vscode';
import type { Logger } from '../../core/log/logger.ts';
import { RequestFailed } from '../../protocol/host-channel.ts';
import { toRequestFailed } from '../failures.ts';
import { loadHeavy } from '../load-heavy.ts';
import type { RunController } from '../run-controller.ts';
import { CHANGES_VIEW, type ChangeNode } from './changes-tree.ts';
import { askAboutConflict } from './conflict-prompt.ts';
import { hunkHeader } from './hunks.ts';
import { planTextApply, planUseRunVersion, type ReviewFile } from './model.ts';
import type { ReviewService } from './review-service.ts';
import { parseProposedUri, proposedUri, shortRunId, workspaceUri } from './uris.ts';
import { applyPlan, type EditPlan } from './workspace-apply.ts';

export interface ReviewActionsDeps {
  service: ReviewService;
  controller: RunController | undefined;
  /** The run the chat shows (the default target of the palette commands). */
  shownRunId(): string | null;
  logger: Logger;
  output: vscode.LogOutputChannel;
}

type Outcome = 'applied' | 'already' | 'conflict' | 'kept';

/** The public face used by commands.ts and the chat's requests. */
export interface ReviewCommands {
  review(runId?: string): Promise<void>;
  applyAll(): Promise<void>;
  /** False when the user cancelled. */
  discard(runId?: string): Promise<boolean>;
}

export class ReviewActions implements ReviewCommands {
  constructor(private readonly deps: ReviewActionsDeps) {}

  private get service(): ReviewService {
    return this.deps.service;
  }

  /** Shows a run in the Changes view (picked when not given) and opens its first change. */
  async review(runId?: string): Promise<void> {
    const target = runId ?? (await this.pickRun());
    if (!target) return;
    await this.service.setRun(target);
    await vscode.commands.executeCommand(`${CHANGES_VIEW}.focus`);
    const first = this.service.model?.files.find((f) => f.state !== 'applied') ?? this.service.model?.files[0];
    if (first) await this.openChange({ kind: 'file', runId: target, file: first });
    else if (this.service.model?.discarded) void vscode.window.showInformationMessage(`Crewbox: run ${shortRunId(target)} was discarded; its changes are no longer offered.`);
    else if (this.service.model) void vscode.window.showInformationMessage(`Crewbox: run ${shortRunId(target)} proposes no change.`);
  }

  /** The diff editor: your file ↔ the run's proposed content (at the hunk, for a hunk). */
  async openChange(node: ChangeNode): Promise<void> {
    const { file, runId } = node;
    const hostPath = file.atOldPath && file.oldPath !== undefined ? file.oldPath : file.path;
    const hostExists = await vscode.workspace.fs.stat(workspaceUri(this.service.workspace, hostPath)).then(
      () => true,
      () => false,
    );
    const left = hostExists ? workspaceUri(this.service.workspace, hostPath) : proposedUri(runId, file.path, true);
    const right = proposedUri(runId, file.path);
    const options: vscode.TextDocumentShowOptions = { preview: true };
    if (node.kind === 'hunk') {
      const line = Math.max(0, node.hunk.hunk.newStart - 1);
      options.selection = new vscode.Range(line, 0, line, 0);
    }
    await vscode.commands.executeCommand('vscode.diff', left, right, `${file.path} (yours ↔ run ${shortRunId(runId)})`, options);
  }

  async applyHunk(node: ChangeNode | undefined): Promise<void> {
    if (node?.kind !== 'hunk') return;
    if (!(await this.ready(node.runId))) return;
    const file = await this.service.freshFile(node.file.path, { openDocument: true });
    // The same hunk only: the run's change may have been re-read since the tree showed it.
    const hunk = file?.hunks.find((h) => h.index === node.hunk.index && hunkHeader(h.hunk) === hunkHeader(node.hunk.hunk) && h.hunk.lines.join('\n') === node.hunk.hunk.lines.join('\n'));
    if (!file || !hunk) {
      void vscode.window.showInformationMessage('Crewbox: that hunk is no longer part of the run\'s change.');
      return this.service.recheck();
    }
    if (hunk.state === 'applied') {
      void vscode.window.showInformationMessage(`Crewbox: that hunk of ${file.path} is already applied.`);
      return this.service.recheck();
    }
    const plan = planTextApply(file, [hunk.index]);
    if (plan.op === 'conflict') await this.resolveConflict(node.runId, file, 'hunk');
    else if (plan.op !== 'none') await this.carryOut(node.runId, file, plan, `hunk ${hunk.index + 1}`);
    await this.service.recheck();
  }

  /** From a file item, or from the editor title of a proposed diff (a `crewbox-proposed:` or file URI). */
  async applyFile(arg: ChangeNode | vscode.Uri | undefined): Promise<void> {
    const target = await this.fileTarget(arg);
    if (!target) return;
    if (!(await this.ready(target.runId))) return;
    const outcome = await this.applyOne(target.runId, target.path, true);
    if (outcome === 'already') void vscode.window.showInformationMessage(`Crewbox: ${target.path} already holds the run's version.`);
    await this.service.recheck();
  }

  async applyAll(): Promise<void> {
    const runId = this.service.runId ?? this.deps.shownRunId() ?? (await this.deps.controller?.listRuns())?.[0]?.id;
    if (!runId) {
      void vscode.window.showInformationMessage('Crewbox: no run to apply.');
      return;
    }
    if (!(await this.ready(runId))) return;
    if (this.service.runId !== runId) await this.service.setRun(runId);
    else await this.service.reload();
    const files = this.service.model?.files ?? [];
    if (files.length === 0) {
      void vscode.window.showInformationMessage(`Crewbox: run ${shortRunId(runId)} proposes no change.`);
      return;
    }
    const confirm = await vscode.window.showWarningMessage(
      `Apply all ${files.length} changed file(s) of run ${shortRunId(runId)} to your workspace?`,
      { modal: true, detail: 'Files you changed where the run changed them too are left alone and listed afterwards. Text changes can be undone with Undo.' },
      'Apply',
    );
    if (confirm !== 'Apply') return;
    // Deletions, then renames, then the rest: a path may be freed before it is reused.
    const rank = (f: ReviewFile): number => (f.kind === 'deleted' ? 0 : f.kind === 'renamed' ? 1 : 2);
    const tally = { applied: [] as string[], already: [] as string[], conflict: [] as string[] };
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Crewbox: applying run ${shortRunId(runId)}` }, async (progress) => {
      for (const f of [...files].sort((a, b) => rank(a) - rank(b))) {
        progress.report({ message: f.path });
        const outcome = await this.applyOne(runId, f.path, false);
        if (outcome === 'applied') tally.applied.push(f.path);
        else if (outcome === 'already') tally.already.push(f.path);
        else tally.conflict.push(f.path);
      }
    });
    await this.service.recheck();
    const parts = [`applied ${tally.applied.length} file(s)`];
    if (tally.already.length > 0) parts.push(`${tally.already.length} already applied`);
    this.deps.logger.info('apply all', { runId, applied: tally.applied, already: tally.already, conflicts: tally.conflict });
    if (tally.conflict.length === 0) {
      void vscode.window.showInformationMessage(`Crewbox: ${parts.join(', ')}.`);
      return;
    }
    const shown = tally.conflict.slice(0, 5).join(', ') + (tally.conflict.length > 5 ? ', …' : '');
    const choice = await vscode.window.showWarningMessage(
      `Crewbox: ${parts.join(', ')}; ${tally.conflict.length} not applied because you changed them since the run started (${shown}). Review them in the Changes view.`,
      'Show Changes',
    );
    if (choice) await vscode.commands.executeCommand(`${CHANGES_VIEW}.focus`);
  }

  async discard(runId?: string): Promise<boolean> {
    const target = runId ?? this.service.runId ?? this.deps.shownRunId();
    if (!target) {
      void vscode.window.showInformationMessage('Crewbox: no run to discard.');
      return false;
    }
    if (this.deps.controller?.isDriving(target)) throw new RequestFailed('conflict', 'Stop the run before discarding it.');
    const confirm = await vscode.window.showWarningMessage(
      `Discard the proposed changes of run ${shortRunId(target)}?`,
      { modal: true, detail: 'They will not be offered for applying again. Your files stay as they are, and the run stays in the history.' },
      'Discard',
    );
    if (confirm !== 'Discard') return false;
    const { discardRun } = await loadHeavy();
    try {
      await discardRun(this.service.workspace, target);
    } catch (e) {
      throw toRequestFailed(e) ?? e;
    }
    this.deps.logger.info('run discarded', { runId: target });
    if (this.service.runId === target) await this.service.reload();
    return true;
  }

  /** One file, all of it; `interactive` asks about conflicts, otherwise they are left alone. */
  private async applyOne(runId: string, rel: string, interactive: boolean): Promise<Outcome> {
    // The view may have switched to another run meanwhile (a dialog, a long Apply All): never apply its files under this name.
    if (this.service.runId !== runId) throw new RequestFailed('conflict', `The Changes view switched away from run ${shortRunId(runId)}; apply again from its changes.`);
    const file = await this.service.freshFile(rel, { openDocument: true });
    if (!file) return 'already';
    if (file.via === 'fs') return this.applyWhole(runId, file, interactive);
    const plan = planTextApply(file);
    if (plan.op === 'none') return 'already';
    if (plan.op === 'conflict') return interactive ? this.resolveConflict(runId, file, 'file') : 'conflict';
    await this.carryOut(runId, file, plan, 'file');
    return 'applied';
  }

  /** Binary files, symlinks, mode-only changes: the fs-level apply of that one path. */
  private async applyWhole(runId: string, file: ReviewFile, interactive: boolean, force = false): Promise<Outcome> {
    if (file.state === 'applied') return 'already';
    const { applyChange } = await loadHeavy();
    const result = await applyChange(this.service.workspace, runId, { paths: [file.path], force });
    for (const a of result.applied) this.deps.logger.info('applied with the file-level apply (binary, symlink or mode change; not undoable with Undo)', { runId, path: a.path, kind: a.kind, ...(a.oldPath ? { oldPath: a.oldPath } : {}) });
    for (const c of result.conflicts) this.deps.logger.warn('not applied', { runId, path: c.path, reason: c.reason });
    if (result.conflicts.length > 0) {
      if (!interactive || force) return 'conflict';
      return this.resolveConflict(runId, { ...file, reason: result.conflicts[0]?.reason ?? file.reason }, 'file');
    }
    return result.applied.length > 0 ? 'applied' : 'already';
  }

  private async resolveConflict(runId: string, file: ReviewFile, what: 'file' | 'hunk'): Promise<Outcome> {
    const choice = await askAboutConflict(runId, file, what);
    this.deps.logger.info('conflict', { runId, path: file.path, choice, reason: file.reason });
    if (choice === 'openDiff') {
      await this.openChange({ kind: 'file', runId, file });
      return 'conflict';
    }
    if (choice === 'keepMine') return 'kept';
    if (file.via === 'fs') return this.applyWhole(runId, file, false, true);
    await this.carryOut(runId, file, planUseRunVersion(file) as EditPlan, "the run's version");
    return 'applied';
  }

  private async carryOut(runId: string, file: ReviewFile, plan: EditPlan, what: string): Promise<void> {
    const unsaved = await applyPlan(this.service.workspace, plan, `Crewbox: apply run ${shortRunId(runId)}`);
    this.deps.logger.info('applied', { runId, path: file.path, what, op: plan.op, ...(plan.op === 'write' && plan.renameFrom ? { renamedFrom: plan.renameFrom } : {}), merged: file.merged });
    if (unsaved.length > 0) {
      void vscode.window.showInformationMessage(`Crewbox: applied to ${unsaved.join(', ')}, which had unsaved edits of yours; it is left unsaved.`);
    }
  }

  /** Whether the run's changes may be applied now; says why not otherwise. */
  private async ready(runId: string): Promise<boolean> {
    if (this.deps.controller?.isDriving(runId)) {
      void vscode.window.showWarningMessage('Crewbox: the run is still working; stop it or wait for it to finish before applying its changes.');
      return false;
    }
    const { isRunLocked, isDiscarded } = await loadHeavy();
    if (await isDiscarded(this.service.workspace, runId)) {
      void vscode.window.showWarningMessage(`Crewbox: run ${shortRunId(runId)} was discarded; its changes can no longer be applied.`);
      return false;
    }
    if (await isRunLocked(this.service.workspace, runId)) {
      void vscode.window.showWarningMessage('Crewbox: another window or the CLI is driving this run; wait until it stops before applying its changes.');
      return false;
    }
    if (this.service.runId !== runId) await this.service.setRun(runId);
    return true;
  }

  private async fileTarget(arg: ChangeNode | vscode.Uri | undefined): Promise<{ runId: string; path: string } | undefined> {
    if (arg instanceof vscode.Uri) {
      const proposed = parseProposedUri(arg);
      if (proposed) return { runId: proposed.runId, path: proposed.path };
      const rel = vscode.workspace.asRelativePath(arg, false);
      return this.service.runId && this.service.touches(rel) ? { runId: this.service.runId, path: rel } : undefined;
    }
    if (arg) return { runId: arg.runId, path: arg.file.path };
    // The palette or a keybinding: the active proposed diff.
    const active = vscode.window.activeTextEditor?.document.uri;
    return active ? this.fileTarget(active) : undefined;
  }

  private async pickRun(): Promise<string | undefined> {
    const runs = ((await this.deps.controller?.listRuns()) ?? []).filter((r) => !r.discarded);
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('Crewbox: no run with changes to review. Start one with "Crewbox: New Task".');
      return undefined;
    }
    const shown = this.deps.shownRunId();
    const ordered = [...runs.filter((r) => r.id === shown), ...runs.filter((r) => r.id !== shown)];
    const picked = await vscode.window.showQuickPick(
      ordered.map((r) => ({ label: r.goal.replace(/\s+/g, ' ').slice(0, 120), description: `${r.status.replace('_', ' ')}${r.verdict ? ` · tester ${r.verdict}` : ''}`, detail: `${r.id} · ${r.createdAt.slice(0, 16).replace('T', ' ')}`, runId: r.id })),
      { title: 'Crewbox: Review Proposed Changes', placeHolder: 'Which run?', matchOnDetail: true },
    );
    return picked?.runId;
  }
}
