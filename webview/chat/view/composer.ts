/**
 * The bottom of the chat: the goal box, the Stop button, the answer box or
 * the continue/discard box, depending on the mode (composer-mode.ts).
 *
 * Contract: what the user typed survives re-renders and mode switches (one
 * draft per kind of box, reported through `onDraft` so the page can keep it
 * across reloads). Enter submits, Shift+Enter is a new line. Buttons carry
 * `data-action`; the app's delegated listener acts on them.
 */
import { button, h, icon, replaceChildren } from '../../shared/dom.ts';
import type { ComposerMode, ContinueReason } from '../model/composer-mode.ts';

export type DraftKind = 'goal' | 'answer' | 'continue';
export type Drafts = Partial<Record<DraftKind, string>>;

export interface ComposerContext {
  /** A request from this box is in flight: its buttons are disabled. */
  busy: boolean;
  /** The shown run has changes to review (it ran at least one step). */
  canReview: boolean;
}

const CONTINUE_HINTS: Record<ContinueReason, string> = {
  interrupted: 'Stopped. Tell the team what to do differently and continue, or discard the run.',
  failed: 'The run failed. Fix the cause and continue, or discard the run.',
  halted: 'The run stopped at a budget limit. Continue to give it more, or discard the run.',
  stale: 'This run stopped when the window closed or Crewbox restarted. Continue it where it left off, or discard it.',
};

function draftKind(mode: ComposerMode): DraftKind | undefined {
  return mode.kind === 'goal' || mode.kind === 'answer' || mode.kind === 'continue' ? mode.kind : undefined;
}

export class Composer {
  readonly element = h('div', { class: 'composer' });
  #textarea: HTMLTextAreaElement | undefined;
  #kind: DraftKind | undefined;

  constructor(
    private readonly drafts: Drafts,
    private readonly onDraft: (drafts: Drafts) => void,
  ) {}

  /** The text in the box, trimmed. */
  value(): string {
    return this.#textarea?.value.trim() ?? '';
  }

  /** After a successful submit: the draft is used up. */
  clear(kind: DraftKind): void {
    delete this.drafts[kind];
    if (this.#kind === kind && this.#textarea) this.#textarea.value = '';
    this.onDraft(this.drafts);
  }

  render(mode: ComposerMode, ctx: ComposerContext): void {
    const hadFocus = this.#textarea !== undefined && document.activeElement === this.#textarea;
    const kind = draftKind(mode);
    this.#kind = kind;
    this.#textarea = kind ? this.textarea(kind, mode) : undefined;
    replaceChildren(this.element, ...this.body(mode, ctx));
    this.element.dataset['mode'] = mode.kind;
    if (this.#textarea && (hadFocus || mode.kind === 'answer')) this.#textarea.focus();
  }

  private body(mode: ComposerMode, ctx: ComposerContext): (HTMLElement | null)[] {
    const review = ctx.canReview ? button('Review changes', { action: 'review', icon: 'diff', disabled: ctx.busy }) : null;
    switch (mode.kind) {
      case 'connecting':
        return [h('p', { class: 'hint' }, 'Connecting to Crewbox…')];
      case 'untrusted':
        return [
          h('p', { class: 'hint' }, icon('shield'), ` ${mode.reason}`),
          h('div', { class: 'toolbar' }, button('Manage Workspace Trust', { action: 'error-action', data: { errorAction: 'manageTrust' } })),
        ];
      case 'goal':
        return [
          this.#textarea!,
          h('div', { class: 'toolbar' }, review, h('span', { class: 'spacer' }), button('Start', { action: 'start', icon: 'play', variant: 'primary', disabled: ctx.busy, data: { primary: '' } })),
        ];
      case 'working':
      case 'stopping':
        return [
          h(
            'div',
            { class: 'working' },
            icon('loading codicon-modifier-spin'),
            h('span', { class: 'working-text' }, mode.kind === 'working' ? 'The team is working.' : 'Stopping: aborting the model call and killing any running command…'),
            h('span', { class: 'spacer' }),
            button('Stop', { action: 'stop', icon: 'debug-stop', variant: 'primary', disabled: mode.kind === 'stopping' || ctx.busy, title: 'Stop the run (you can then steer it or discard it)', data: { primary: '' } }),
          ),
        ];
      case 'answer':
        return [
          h('p', { class: 'hint' }, icon('question'), ` ${mode.question.role ? `The ${mode.question.role}` : 'The team'} is waiting for your answer.`),
          this.#textarea!,
          h('div', { class: 'toolbar' }, h('span', { class: 'spacer' }), button('Answer', { action: 'answer', icon: 'send', variant: 'primary', disabled: ctx.busy, data: { primary: '' } })),
        ];
      case 'continue':
        return [
          h('p', { class: 'hint' }, CONTINUE_HINTS[mode.reason]),
          this.#textarea!,
          h(
            'div',
            { class: 'toolbar' },
            button('Discard', { action: 'discard', icon: 'trash', disabled: ctx.busy, title: "Discard this run's proposed changes" }),
            review,
            button('New task', { action: 'new-task', icon: 'add', disabled: ctx.busy }),
            h('span', { class: 'spacer' }),
            button('Continue', { action: 'continue', icon: 'debug-continue', variant: 'primary', disabled: ctx.busy, data: { primary: '' } }),
          ),
        ];
    }
  }

  private textarea(kind: DraftKind, mode: ComposerMode): HTMLTextAreaElement {
    const placeholder =
      kind === 'goal'
        ? 'Describe a task for the team (Enter to start, Shift+Enter for a new line)'
        : kind === 'answer'
          ? 'Your answer'
          : 'Optional: a message to steer the run';
    const area = h('textarea', {
      class: 'composer-input',
      attrs: { rows: '3', placeholder, 'aria-label': mode.kind === 'answer' ? 'Your answer' : placeholder },
    });
    area.value = this.drafts[kind] ?? '';
    area.addEventListener('input', () => {
      this.drafts[kind] = area.value;
      this.onDraft(this.drafts);
    });
    area.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || e.shiftKey || e.isComposing) return;
      e.preventDefault();
      this.element.querySelector<HTMLButtonElement>('[data-primary]:not(:disabled)')?.click();
    });
    return area;
  }
}
