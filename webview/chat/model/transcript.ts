/**
 * The chat transcript as a fold over one run's events: durable events from
 * the log plus the live-only deltas. Feeding it a run's log, then the live
 * stream, gives the same rows as feeding it everything live.
 *
 * Contract:
 * - Durable events apply once: one whose seq is not above the last applied
 *   is a replay (a reset overlapping the live stream) and is ignored.
 *   Ephemeral events carry the seq of the last durable event before them, so
 *   one whose seq is below the last applied is stale and ignored.
 * - Token deltas append to the agent's current turn; `model.turn` settles it
 *   with the authoritative text. `model.retry` voids the partial turn (its
 *   text and its half-streamed tool calls) before the next attempt streams.
 * - Rows are only appended or changed in place, never removed or reordered
 *   (a voided row stays, empty), so list indices are stable.
 * - `drain` reports which rows changed and whether rows were added since the
 *   last drain.
 */
import type { EventOf, Role, RunEvent } from '../../../src/core/events/schema.ts';
import { EPHEMERAL_EVENT_TYPES } from '../../../src/core/events/ephemeral.ts';
import { actionsForErrorKind } from '../../../src/protocol/error-actions.ts';
import { formatDuration } from '../../shared/format.ts';
import { ERROR_KIND_LABELS, HALT_REASON_LABELS } from './labels.ts';
import type { NoticeRow, QuestionRow, Row, TextRow, ToolRow } from './rows.ts';
import { toolTitle, toolTitleFromText } from './tool-title.ts';

/** Characters of one tool's output the view keeps; the trace has all of it. */
export const TOOL_OUTPUT_CAP = 256 * 1024;
/** Tools whose call is shown by other rows (the question, the agent's summary). */
const QUIET_TOOLS: ReadonlySet<string> = new Set(['finish', 'ask_user']);

export interface TranscriptChanges {
  changed: number[];
  grew: boolean;
}

type Draft<R extends Row> = R extends Row ? Omit<R, 'id' | 'index' | 'seq' | 'version' | 'depth'> & { depth?: number } : never;

export class Transcript {
  readonly rows: Row[] = [];
  readonly #agents = new Map<string, { depth: number; role: Role }>();
  readonly #currentText = new Map<string, TextRow>();
  readonly #preparing = new Map<string, ToolRow[]>();
  readonly #tools = new Map<string, ToolRow>();
  readonly #questions = new Map<string, QuestionRow>();
  readonly #changed = new Set<number>();
  #grew = false;
  #lastSeq = 0;
  /** The seq of the event being folded (rows made now carry it). */
  #foldingSeq = 0;

  /** The index of the row with this id (ids are `r<index + 1>`, see push). */
  indexOf(rowId: string): number | undefined {
    const index = Number(rowId.slice(1)) - 1;
    return this.rows[index]?.id === rowId ? index : undefined;
  }

  /** The first row made by an event with seq ≥ `seq` (rows.length if none): rows are in seq order. */
  indexAtSeq(seq: number): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rows[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  roleOf(agentId: string): Role | undefined {
    return this.#agents.get(agentId)?.role;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  drain(): TranscriptChanges {
    const changes = { changed: [...this.#changed], grew: this.#grew };
    this.#changed.clear();
    this.#grew = false;
    return changes;
  }

  /** Applies one event; false when the seq rules above say it was a replay or stale. */
  apply(e: RunEvent): boolean {
    if (EPHEMERAL_EVENT_TYPES.has(e.type)) {
      if (e.seq < this.#lastSeq) return false;
    } else {
      if (e.seq <= this.#lastSeq) return false;
      this.#lastSeq = e.seq;
    }
    this.#foldingSeq = e.seq;
    this.fold(e);
    return true;
  }

  private fold(e: RunEvent): void {
    const agent = e.agentId ?? '';
    switch (e.type) {
      case 'run.started':
        this.push<Row>({ kind: 'goal', text: e.goal });
        if (e.forkOf) this.notice('info', 'repo-forked', `Forked from run ${e.forkOf.runId} at step ${e.forkOf.step}.`);
        return;
      case 'run.resumed':
        this.settleAll('interrupted');
        return void this.notice('info', 'debug-continue', 'Run resumed.');
      case 'run.interrupted':
        this.settleAll('interrupted');
        return void this.notice('warning', 'debug-stop', e.reason === 'user' ? 'Stopped by you.' : `Stopped: ${e.reason}.`);
      case 'run.finished':
        return this.finished(e);
      case 'run.discarded':
        return void this.notice('info', 'discard', 'Proposed changes discarded.');
      case 'agent.started':
        return this.agentStarted(e);
      case 'agent.finished':
        return void this.push<Row>({ kind: 'summary', text: e.summary, ...(e.verdict && { verdict: e.verdict }), ...this.owner(e) });
      case 'model.delta': {
        const row = this.#currentText.get(agent) ?? this.openText(e);
        row.text += e.text;
        return this.touch(row);
      }
      case 'model.tool_delta':
        return this.toolDelta(e);
      case 'model.turn':
        return this.turn(e);
      case 'model.retry':
        return this.retry(e);
      case 'tool.started': {
        const card = this.#tools.get(e.callId) ?? this.newCard(e, e.callId, e.name);
        card.name = e.name;
        card.hidden = QUIET_TOOLS.has(e.name);
        card.argsText = JSON.stringify(e.args ?? {});
        card.title = toolTitle(e.name, e.args);
        card.state = 'running';
        return this.touch(card);
      }
      case 'tool.output': {
        const card = this.#tools.get(e.callId);
        if (!card) return;
        card.output += e.chunk;
        if (card.output.length > TOOL_OUTPUT_CAP) {
          card.output = card.output.slice(card.output.length - TOOL_OUTPUT_CAP);
          card.outputClipped = true;
        }
        return this.touch(card);
      }
      case 'tool.completed':
        return this.toolCompleted(e);
      case 'user.message':
        if (e.origin === 'user') return void this.push<Row>({ kind: 'user', text: e.text, ...this.owner(e) });
        return void this.notice('info', 'info', `Crewbox reminded the ${this.roleOfEvent(e) ?? 'agent'}.`, e.text, this.owner(e));
      case 'ask_user.asked': {
        const row = this.push<QuestionRow>({ kind: 'question', callId: e.callId, question: e.question, ...this.owner(e) });
        this.#questions.set(e.callId, row);
        return;
      }
      case 'ask_user.answered': {
        const row = this.#questions.get(e.callId);
        if (!row) return;
        row.answer = e.answer;
        return this.touch(row);
      }
      case 'budget.warning':
        return void this.notice('warning', 'warning', `${Math.round((e.used / e.limit) * 100)}% of ${HALT_REASON_LABELS[e.reason]} used.`);
      case 'loop.warning':
        return void this.notice('warning', 'sync-ignored', `The ${this.roleOfEvent(e) ?? 'agent'} repeated the same call ${e.count} times.`, undefined, this.owner(e));
      case 'context.compacted':
        return void this.notice('info', 'fold', `Context compacted: ${e.replacedMessages} earlier messages summarised.`, undefined, this.owner(e));
      case 'error':
        // An abort is the interruption itself, which has its own row.
        if (e.kind === 'aborted') return;
        return void this.push<Row>({ kind: 'error', errorKind: e.kind, message: e.message, actions: actionsForErrorKind(e.kind), ...this.owner(e) });
      case 'sandbox.progress':
        return;
    }
  }

  private finished(e: EventOf<'run.finished'>): void {
    this.settleAll('interrupted');
    const text =
      e.status === 'completed'
        ? 'Run completed.'
        : e.status === 'halted'
          ? `Run halted: it reached ${e.haltReason ? HALT_REASON_LABELS[e.haltReason] : 'a limit'}.`
          : 'Run failed.';
    const tone = e.status === 'completed' ? 'success' : e.status === 'halted' ? 'warning' : 'error';
    const icon = e.status === 'completed' ? 'pass' : e.status === 'halted' ? 'warning' : 'error';
    this.notice(tone, icon, text, e.summary, e.verdict ? { verdict: e.verdict } : {});
  }

  private agentStarted(e: EventOf<'agent.started'>): void {
    const id = e.agentId ?? `${e.role}@${e.seq}`;
    // A resumed runtime re-announces its agents; the group already exists.
    if (this.#agents.has(id)) return;
    const parent = e.parentAgentId !== undefined ? this.#agents.get(e.parentAgentId) : undefined;
    this.#agents.set(id, { depth: parent ? parent.depth + 1 : 0, role: e.role });
    this.push<Row>({
      kind: 'agent',
      role: e.role,
      model: e.model.model,
      task: e.task,
      ...(parent && { parentRole: parent.role }),
      ...this.owner({ agentId: id }),
    });
  }

  private toolDelta(e: EventOf<'model.tool_delta'>): void {
    const agent = e.agentId ?? '';
    const cards = this.#preparing.get(agent) ?? [];
    this.#preparing.set(agent, cards);
    let card = cards[e.index];
    if (!card) {
      card = this.newCard(e, '', e.name ?? '');
      card.state = 'preparing';
      cards[e.index] = card;
    }
    if (e.name !== undefined && card.name === '') {
      card.name = e.name;
      card.hidden = QUIET_TOOLS.has(e.name);
    }
    if (e.callId !== undefined && card.callId === '') {
      card.callId = e.callId;
      this.#tools.set(e.callId, card);
    }
    card.argsText += e.argsDelta;
    this.touch(card);
  }

  private turn(e: EventOf<'model.turn'>): void {
    const agent = e.agentId ?? '';
    const current = this.#currentText.get(agent);
    if (current) {
      current.text = e.text;
      current.streaming = false;
      this.touch(current);
    } else if (e.text.trim() !== '') {
      this.push<TextRow>({ kind: 'text', text: e.text, streaming: false, ...this.owner(e) });
    }
    this.#currentText.delete(agent);
    const cards = this.#preparing.get(agent) ?? [];
    e.toolCalls.forEach((call, i) => {
      const card = cards[i];
      if (!card) return;
      card.callId = call.id;
      card.name = call.name;
      card.hidden = QUIET_TOOLS.has(call.name);
      card.argsText = call.argsText;
      card.title = toolTitleFromText(call.name, call.argsText);
      this.#tools.set(call.id, card);
      this.touch(card);
    });
    for (const card of cards.slice(e.toolCalls.length)) this.discard(card);
    this.#preparing.delete(agent);
  }

  private retry(e: EventOf<'model.retry'>): void {
    const agent = e.agentId ?? '';
    const partial = this.#currentText.get(agent);
    if (partial) {
      partial.text = '';
      partial.streaming = false;
      this.touch(partial);
      this.#currentText.delete(agent);
    }
    const cards = this.#preparing.get(agent) ?? [];
    for (const card of cards) this.discard(card);
    this.#preparing.delete(agent);
    const dropped = partial || cards.length > 0 ? ' The partial reply was discarded.' : '';
    this.notice('warning', 'sync', `Model call failed (${ERROR_KIND_LABELS[e.errorKind]}); retrying in ${formatDuration(e.delayMs)}.${dropped}`, undefined, this.owner(e));
  }

  private toolCompleted(e: EventOf<'tool.completed'>): void {
    const card = this.#tools.get(e.callId) ?? this.newCard(e, e.callId, e.name);
    card.state = e.isError ? 'error' : 'done';
    card.hidden = QUIET_TOOLS.has(e.name) && !e.isError;
    if (e.output.length > TOOL_OUTPUT_CAP) {
      const head = Math.floor(TOOL_OUTPUT_CAP / 4);
      const tail = TOOL_OUTPUT_CAP - head;
      card.output = `${e.output.slice(0, head)}\n… ${e.output.length - head - tail} characters not shown (the trace has them all) …\n${e.output.slice(-tail)}`;
      card.outputClipped = true;
    } else {
      card.output = e.output;
      card.outputClipped = false;
    }
    card.durationMs = e.durationMs;
    const exitCode = e.meta?.['exitCode'];
    if (typeof exitCode === 'number') card.exitCode = exitCode;
    this.touch(card);
  }

  private newCard(e: RunEvent, callId: string, name: string): ToolRow {
    const card = this.push<ToolRow>({
      kind: 'tool',
      callId,
      name,
      title: '',
      argsText: '',
      state: 'running',
      output: '',
      outputClipped: false,
      hidden: QUIET_TOOLS.has(name),
      ...this.owner(e),
    });
    if (callId !== '') this.#tools.set(callId, card);
    return card;
  }

  private discard(card: ToolRow): void {
    card.state = 'discarded';
    this.touch(card);
  }

  /** Streaming turns end and running tools stop (an interruption or the run's end). */
  private settleAll(toolState: 'interrupted'): void {
    for (const row of this.#currentText.values()) {
      row.streaming = false;
      this.touch(row);
    }
    this.#currentText.clear();
    for (const cards of this.#preparing.values()) for (const card of cards) this.discard(card);
    this.#preparing.clear();
    for (const card of this.#tools.values()) {
      if (card.state === 'running') {
        card.state = toolState;
        this.touch(card);
      }
    }
  }

  private openText(e: RunEvent): TextRow {
    const row = this.push<TextRow>({ kind: 'text', text: '', streaming: true, ...this.owner(e) });
    this.#currentText.set(e.agentId ?? '', row);
    return row;
  }

  private notice(tone: NoticeRow['tone'], icon: string, text: string, detail?: string, extra: Partial<NoticeRow> = {}): NoticeRow {
    return this.push<NoticeRow>({ kind: 'notice', tone, icon, text, ...(detail !== undefined && { detail }), ...extra });
  }

  private roleOfEvent(e: { agentId?: string }): Role | undefined {
    return e.agentId !== undefined ? this.#agents.get(e.agentId)?.role : undefined;
  }

  /** The agent fields of a row belonging to the event's agent. */
  private owner(e: { agentId?: string }): { agentId?: string; role?: Role; depth?: number } {
    const a = e.agentId !== undefined ? this.#agents.get(e.agentId) : undefined;
    return a ? { agentId: e.agentId!, role: a.role, depth: a.depth } : {};
  }

  /** Completes a draft (a fresh literal, so it becomes the row itself: no copy on this hot path). */
  private push<R extends Row>(draft: Draft<R>): R {
    const row = draft as unknown as R;
    row.depth ??= 0;
    row.index = this.rows.length;
    row.seq = this.#foldingSeq;
    row.id = `r${row.index + 1}`;
    row.version = 1;
    this.rows.push(row);
    this.#grew = true;
    return row;
  }

  private touch(row: Row): void {
    row.version += 1;
    this.#changed.add(row.index);
  }
}
