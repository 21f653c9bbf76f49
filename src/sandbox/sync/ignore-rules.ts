/**
 * Git's ignore semantics over a tree of `.gitignore` files, for the places
 * that cannot ask git: walking a host workspace without git, and deciding
 * which paths the container created are worth recording (an `npm install`
 * in /workspace must not turn node_modules into checkpoint blobs).
 * The only importer of `ignore` in src/sandbox/sync.
 *
 * Contract (as git): rules in `<dir>/.gitignore` apply to paths below `<dir>`,
 * relative to it; deeper files override shallower ones (a later `!pattern`
 * re-includes); nothing below an ignored directory can be re-included.
 * Ignoring only concerns untracked paths: callers keep recorded paths
 * recorded whatever the rules say.
 */
import ignore, { type Ignore } from 'ignore';
import { ancestorsOf } from '../store/store-paths.ts';

export const GITIGNORE = '.gitignore';

export class IgnoreRules {
  /** Directory ('' = root) → its rules. */
  private readonly levels = new Map<string, Ignore>();
  private readonly dirDecisions = new Map<string, boolean>();

  /** Adds the rules of a `.gitignore` (or an exclude file) that applies below `dir`. */
  add(dir: string, text: string): void {
    const patterns = text.split(/\r?\n/);
    const existing = this.levels.get(dir);
    if (existing) existing.add(patterns);
    else this.levels.set(dir, ignore({ ignorecase: process.platform !== 'linux' }).add(patterns));
    this.dirDecisions.clear();
  }

  get size(): number {
    return this.levels.size;
  }

  /** Whether an untracked path is ignored (`isDir`: it names a directory). */
  ignores(rel: string, isDir: boolean): boolean {
    if (this.levels.size === 0) return false;
    for (const ancestor of ancestorsOf(rel)) if (this.dirIgnored(ancestor)) return true;
    return this.matches(rel, isDir);
  }

  private dirIgnored(dir: string): boolean {
    const known = this.dirDecisions.get(dir);
    if (known !== undefined) return known;
    // Ancestors are asked first (ignores() walks shallowest first), so only the directory itself is left to match.
    const decision = this.matches(dir, true);
    this.dirDecisions.set(dir, decision);
    return decision;
  }

  /** The last decisive rule wins, deeper .gitignore files last. */
  private matches(rel: string, isDir: boolean): boolean {
    let ignored = false;
    for (const level of ['', ...ancestorsOf(rel)]) {
      const rules = this.levels.get(level);
      if (!rules) continue;
      const local = level === '' ? rel : rel.slice(level.length + 1);
      const result = rules.test(isDir ? `${local}/` : local);
      if (result.ignored) ignored = true;
      else if (result.unignored) ignored = false;
    }
    return ignored;
  }
}

/** Rules from every `.gitignore` of a tree (paths → content), plus extra root rules (e.g. `.git/info/exclude`). */
export function rulesFromFiles(files: Iterable<[path: string, content: string]>, rootExtra?: string): IgnoreRules {
  const rules = new IgnoreRules();
  if (rootExtra) rules.add('', rootExtra);
  const sorted = [...files].sort(([a], [b]) => a.split('/').length - b.split('/').length);
  for (const [p, content] of sorted) {
    const slash = p.lastIndexOf('/');
    rules.add(slash < 0 ? '' : p.slice(0, slash), content);
  }
  return rules;
}

export function isGitignorePath(rel: string): boolean {
  return rel === GITIGNORE || rel.endsWith(`/${GITIGNORE}`);
}
