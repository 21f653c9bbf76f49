/**
 * The goals of the command-palette tasks, built from what the editor knows
 * (the file's path, its diagnostics). Pure, so the wording is tested.
 */
export type ProblemSeverity = 'error' | 'warning' | 'information' | 'hint';

export interface Problem {
  /** 1-based. */
  line: number;
  severity: ProblemSeverity;
  message: string;
  source?: string;
}

/** At most this many problems are listed in the goal; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 50;

/** Errors and warnings only; undefined when there is nothing to fix. */
export function fixProblemsGoal(relativePath: string, problems: readonly Problem[]): string | undefined {
  const relevant = problems
    .filter((p) => p.severity === 'error' || p.severity === 'warning')
    .sort((a, b) => a.line - b.line || (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  if (relevant.length === 0) return undefined;
  const listed = relevant.slice(0, MAX_LISTED_PROBLEMS).map((p) => {
    const text = p.message.replace(/\s+/g, ' ').trim();
    return `- line ${p.line} (${p.severity}${p.source ? `, ${p.source}` : ''}): ${text}`;
  });
  const more = relevant.length - listed.length;
  return [
    `Fix the problems the editor reports in ${relativePath}:`,
    ...listed,
    ...(more > 0 ? [`- and ${more} more`] : []),
    'Change only what the fixes need, and check that the project still builds and its tests pass.',
  ].join('\n');
}

export function writeTestsGoal(relativePath: string): string {
  return `Write tests for ${relativePath}, following the project's existing test setup and conventions, and make sure they pass.`;
}
