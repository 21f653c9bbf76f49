/**
 * A minimal event emitter for the extension's vscode-free services (the
 * editor's own EventEmitter cannot be used outside src/extension's vscode
 * files, and these services are tested under plain mocha).
 *
 * Contract: a listener that throws does not stop the others; `dispose()`
 * drops every listener.
 */
export type Listener<T> = (value: T) => void;

export interface Disposable {
  dispose(): void;
}

export type Event<T> = (listener: Listener<T>) => Disposable;

export class Emitter<T> {
  readonly #listeners = new Set<Listener<T>>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  readonly event: Event<T> = (listener) => {
    this.#listeners.add(listener);
    return { dispose: () => this.#listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(value);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }

  dispose(): void {
    this.#listeners.clear();
  }
}
