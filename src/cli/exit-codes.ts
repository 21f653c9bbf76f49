/** The CLI's exit codes (a fixed contract: scripts depend on them). */
export const EXIT = {
  /** The run completed (or the command succeeded). */
  ok: 0,
  /** The run failed, was halted, or the command could not do its job. */
  failed: 1,
  /** Wrong usage. */
  usage: 2,
  /** Interrupted by SIGINT: the run is saved as interrupted. */
  interrupted: 130,
} as const;
