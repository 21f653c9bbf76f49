/**
 * The chat transcript's rows: what the virtualised list shows, one entry per
 * visible item. Rows are plain data (no DOM) built by the Transcript fold.
 *
 * Contract: a row's `id` never changes and `version` grows whenever any of
 * its fields change, so the list knows what to re-render. `depth` is the
 * delegation depth of the agent the row belongs to (orchestrator 0, its
 * delegates 1, ...), which the view shows as indentation.
 */
import type { ErrorKind, Role, Verdict } from '../../../src/core/events/schema.ts';
import type { ErrorAction } from '../../../src/protocol/schemas.ts';

interface RowBase {
  id: string;
  /** Position in the transcript (rows are never removed or reordered). */
  index: number;
  /** The seq of the event that made the row: rows are in seq order, so it finds a row again after a refold. */
  seq: number;
  version: number;
  depth: number;
  agentId?: string;
  role?: Role;
}

/** The run's goal, as the user typed it. */
export interface GoalRow extends RowBase {
  kind: 'goal';
  text: string;
}

/** An agent starts: the head of its group. */
export interface AgentRow extends RowBase {
  kind: 'agent';
  role: Role;
  model: string;
  task: string;
  /** Set for a delegate: who delegated. */
  parentRole?: Role;
}

/** One model turn's text, streamed by deltas and settled by `model.turn`. */
export interface TextRow extends RowBase {
  kind: 'text';
  text: string;
  streaming: boolean;
}

export type ToolState = 'preparing' | 'running' | 'done' | 'error' | 'interrupted' | 'discarded';

export interface ToolRow extends RowBase {
  kind: 'tool';
  callId: string;
  name: string;
  /** A one-line summary of the arguments (command, path, task...). */
  title: string;
  /** The arguments as the model streamed or sent them (JSON text). */
  argsText: string;
  state: ToolState;
  output: string;
  /** True when live output exceeded the view's cap and its start was dropped. */
  outputClipped: boolean;
  exitCode?: number;
  durationMs?: number;
  /** Calls other rows already show (finish, ask_user): kept as an empty row unless they fail. */
  hidden: boolean;
}

export interface UserRow extends RowBase {
  kind: 'user';
  text: string;
}

export interface QuestionRow extends RowBase {
  kind: 'question';
  callId: string;
  question: string;
  answer?: string;
}

export type NoticeTone = 'info' | 'warning' | 'success' | 'error';

/** A one-line event: retry, budget, loop, compaction, interruption, resume, the run's end. */
export interface NoticeRow extends RowBase {
  kind: 'notice';
  tone: NoticeTone;
  icon: string;
  text: string;
  /** Longer text shown under the line (a run's final summary). */
  detail?: string;
  verdict?: Verdict;
}

export interface ErrorRow extends RowBase {
  kind: 'error';
  errorKind: ErrorKind;
  message: string;
  actions: readonly ErrorAction[];
}

/** An agent's closing summary. */
export interface SummaryRow extends RowBase {
  kind: 'summary';
  text: string;
  verdict?: Verdict;
}

export type Row = GoalRow | AgentRow | TextRow | ToolRow | UserRow | QuestionRow | NoticeRow | ErrorRow | SummaryRow;
export type RowKind = Row['kind'];
