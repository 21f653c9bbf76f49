/**
 * Rename detection for the proposed change: which deleted path became which
 * added path.
 *
 * Contract:
 * - Exact first: identical content (same blob, or same link target), the
 *   same base name preferred when several deletions share the content.
 * - Then, for the text files left over, similarity: the share of lines the
 *   two files have in common (as multisets), at least RENAME_SIMILARITY
 *   percent, best pairs first. Bounded (at most MAX_CANDIDATES files on each
 *   side, none larger than MAX_SIMILARITY_BYTES) so a change that deletes and
 *   adds thousands of files stays cheap; beyond the bounds they stay plain
 *   deletions and additions.
 */
import path from 'node:path';
import type { Manifest, ManifestEntry } from '../store/manifest.ts';

export interface RenamePair {
  from: string;
  to: string;
  /** Percent of lines in common; 100 for identical content. */
  similarity: number;
}

export const RENAME_SIMILARITY = 50;
const MAX_CANDIDATES = 100;
const MAX_SIMILARITY_BYTES = 1024 * 1024;

export async function pairRenames(
  deleted: readonly string[],
  added: readonly string[],
  base: Manifest,
  latest: Manifest,
  text: (entry: ManifestEntry) => Promise<string | undefined>,
): Promise<RenamePair[]> {
  const pairs: RenamePair[] = [];
  const byContent = new Map<string, string[]>();
  for (const p of [...deleted].sort()) {
    const key = contentKey(base.get(p) as ManifestEntry);
    byContent.set(key, [...(byContent.get(key) ?? []), p]);
  }
  const usedFrom = new Set<string>();
  const usedTo = new Set<string>();
  for (const to of [...added].sort()) {
    const sources = byContent.get(contentKey(latest.get(to) as ManifestEntry))?.filter((p) => p !== to && !usedFrom.has(p));
    if (!sources || sources.length === 0) continue;
    const from = sources.find((p) => path.posix.basename(p) === path.posix.basename(to)) ?? (sources[0] as string);
    pairs.push({ from, to, similarity: 100 });
    usedFrom.add(from);
    usedTo.add(to);
  }

  const textFiles = async (paths: readonly string[], manifest: Manifest, used: Set<string>): Promise<Array<{ path: string; lines: Map<string, number>; count: number }>> => {
    const out = [];
    for (const p of paths) {
      const e = manifest.get(p);
      if (used.has(p) || e?.kind !== 'file' || e.size > MAX_SIMILARITY_BYTES || e.size === 0) continue;
      const t = await text(e);
      if (t === undefined) continue;
      out.push({ path: p, ...lineBag(t) });
      if (out.length >= MAX_CANDIDATES) break;
    }
    return out;
  };
  const olds = await textFiles(deleted, base, usedFrom);
  const news = olds.length === 0 ? [] : await textFiles(added, latest, usedTo);
  const scored: RenamePair[] = [];
  for (const o of olds) {
    for (const n of news) {
      if (o.path === n.path || Math.min(o.count, n.count) * 2 < Math.max(o.count, n.count) * (RENAME_SIMILARITY / 100)) continue;
      let common = 0;
      for (const [line, k] of o.lines) common += Math.min(k, n.lines.get(line) ?? 0);
      const similarity = Math.floor((200 * common) / (o.count + n.count));
      if (similarity >= RENAME_SIMILARITY) scored.push({ from: o.path, to: n.path, similarity });
    }
  }
  scored.sort((a, b) => b.similarity - a.similarity || (a.to < b.to ? -1 : 1));
  for (const s of scored) {
    if (usedFrom.has(s.from) || usedTo.has(s.to)) continue;
    pairs.push(s);
    usedFrom.add(s.from);
    usedTo.add(s.to);
  }
  return pairs;
}

function contentKey(entry: ManifestEntry): string {
  return entry.kind === 'file' ? `f:${entry.hash}` : `l:${entry.linkTarget}`;
}

function lineBag(text: string): { lines: Map<string, number>; count: number } {
  const lines = new Map<string, number>();
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  for (const line of all) lines.set(line, (lines.get(line) ?? 0) + 1);
  return { lines, count: all.length };
}
