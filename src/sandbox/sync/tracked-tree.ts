/**
 * The host's picture of the container's /workspace during a run: the
 * manifest it should match, the (size, mtime) last seen for each path, and
 * the ignore rules its `.gitignore` files define.
 *
 * Contract:
 * - A stat record is only kept while it is known to describe the recorded
 *   content (set from a listing that was compared, or from the mtime of a
 *   tar we sent); a path whose content changed loses its record until the
 *   next listing, so a comparison reads it rather than trusting it.
 * - `compareListing` names the paths whose content must be read (new,
 *   different kind, size or mode, or no matching stat) and the recorded
 *   paths that are gone, without reading any content.
 */
import type { ListedEntry } from '../container-files.ts';
import type { BlobStore } from '../store/blobs.ts';
import { applyChanges, type Manifest, type ManifestChange } from '../store/manifest.ts';
import { ancestorsOf, isExcludedPath, isWorkspacePath } from '../store/store-paths.ts';
import { isGitignorePath, rulesFromFiles, type IgnoreRules } from './ignore-rules.ts';

export interface StatRecord {
  size: number;
  mtimeMs: number;
}

export class TrackedTree {
  readonly stats = new Map<string, StatRecord>();
  private rules: IgnoreRules | undefined;
  private dirs: Set<string> | undefined;

  constructor(
    readonly manifest: Manifest,
    private readonly blobs: BlobStore,
    private readonly rootExcludes: string | undefined,
  ) {}

  /** Ignore rules from the tree's own `.gitignore` files (plus the repository's info/exclude). */
  async ignoreRules(): Promise<IgnoreRules> {
    if (!this.rules) this.rules = await rulesOf(this.manifest, this.blobs, this.rootExcludes);
    return this.rules;
  }

  /** Whether recorded paths exist below `dir`. May answer true for a directory that emptied (harmless: callers then look). */
  hasDir(dir: string): boolean {
    if (!this.dirs) {
      this.dirs = new Set();
      for (const p of this.manifest.keys()) for (const a of ancestorsOf(p)) this.dirs.add(a);
    }
    return this.dirs.has(dir);
  }

  pathsUnder(dir: string): string[] {
    if (!this.hasDir(dir)) return [];
    const prefix = `${dir}/`;
    return [...this.manifest.keys()].filter((p) => p.startsWith(prefix));
  }

  apply(changes: readonly ManifestChange[]): void {
    applyChanges(this.manifest, changes);
    for (const c of changes) {
      this.stats.delete(c.path);
      if (isGitignorePath(c.path)) this.rules = undefined;
      if (this.dirs && !('deleted' in c)) for (const a of ancestorsOf(c.path)) this.dirs.add(a);
    }
  }
}

async function rulesOf(manifest: Manifest, blobs: BlobStore, rootExcludes: string | undefined): Promise<IgnoreRules> {
  const files: Array<[string, string]> = [];
  for (const [p, e] of manifest) {
    if (e.kind === 'file' && isGitignorePath(p)) files.push([p, (await blobs.read(e.hash)).toString('utf8')]);
  }
  return rulesFromFiles(files, rootExcludes);
}

/** A container path as the records may hold it: workspace-relative, clean, outside `.git`/`.crewbox`. Undefined otherwise. */
export function recordablePath(raw: string): string | undefined {
  let p = raw;
  while (p.startsWith('./')) p = p.slice(2);
  while (p.endsWith('/')) p = p.slice(0, -1);
  if (!isWorkspacePath(p) || isExcludedPath(p)) return undefined;
  return p;
}

export interface ListingComparison {
  /** Paths whose content must be read to know whether they changed. */
  candidates: string[];
  /** Recorded paths no longer present as a file or link. */
  gone: string[];
  /** Listed stats of the recordable files and links compared, for refreshing the stat cache. */
  listed: Map<string, ListedEntry>;
}

/**
 * Compares a listing with the tree, limited to paths for which `within`
 * holds (all when omitted). Untracked paths the rules ignore are skipped.
 */
export function compareListing(tree: TrackedTree, rules: IgnoreRules, listing: readonly ListedEntry[], within?: (p: string) => boolean): ListingComparison {
  const candidates: string[] = [];
  const listed = new Map<string, ListedEntry>();
  for (const entry of listing) {
    if (entry.kind === 'dir') continue;
    const p = recordablePath(entry.path);
    if (p === undefined || (within && !within(p))) continue;
    const recorded = tree.manifest.get(p);
    if (!recorded) {
      if (!rules.ignores(p, false)) {
        candidates.push(p);
        listed.set(p, entry);
      }
      continue;
    }
    listed.set(p, entry);
    const seen = tree.stats.get(p);
    const statMatches = seen !== undefined && seen.size === entry.size && seen.mtimeMs === entry.mtimeMs;
    if (recorded.kind !== entry.kind) candidates.push(p);
    else if (recorded.kind === 'file' && (recorded.size !== entry.size || recorded.mode !== (entry.mode & 0o777))) candidates.push(p);
    else if (!statMatches) candidates.push(p);
  }
  const gone: string[] = [];
  for (const p of tree.manifest.keys()) if ((!within || within(p)) && !listed.has(p)) gone.push(p);
  return { candidates, gone, listed };
}

/** `within` for a set of directory prefixes: the path is one of them or below one. */
export function underAny(prefixes: ReadonlySet<string>): (p: string) => boolean {
  return (p) => prefixes.has(p) || ancestorsOf(p).some((a) => prefixes.has(a));
}
