/** What commands may touch of the process, passed in so tests can run the CLI in-process. */
export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  out(line: string): void;
  err(line: string): void;
  /** Interactive question (undefined when stdin is not a terminal). */
  ask?(question: string): Promise<string>;
  /** Registers a SIGINT handler; returns its removal. */
  onInterrupt(handler: () => void): () => void;
  /** Where the Crewbox installation lives (holds sandbox/). */
  installDir: string;
}
