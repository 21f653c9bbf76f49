/**
 * A Docker build context read from a host folder: the files left after
 * `.dockerignore`, packed as a tar for the engine, and a content hash that
 * changes whenever anything sent to the engine changes.
 *
 * `.dockerignore` is mapped onto gitignore rules (sync/ignore-rules.ts):
 * every pattern is anchored at the context root, as Docker does, and `!`
 * exceptions work. One difference remains: a file inside an excluded folder
 * cannot be re-included (gitignore semantics). As with the docker CLI, the
 * Dockerfile and `.dockerignore` are always sent.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { IgnoreRules } from './sync/ignore-rules.ts';
import { packTar, type TarEntry } from './tar-pack.ts';

/** Archive name of a Dockerfile that lives outside its context folder. */
export const OUTSIDE_DOCKERFILE_NAME = '.crewbox.Dockerfile';

export interface ContextEntry {
  /** POSIX path inside the context. */
  rel: string;
  kind: 'dir' | 'file' | 'symlink';
  mode: number;
  size: number;
  /** Host path to read from. */
  source: string;
  target?: string;
}

export interface BuildContext {
  dir: string;
  /** The Dockerfile's path inside the archive (what the engine's `dockerfile` option takes). */
  dockerfile: string;
  /** Sorted by path; directories before their content. */
  entries: ContextEntry[];
}

/** `.dockerignore` text → gitignore-style rules anchored at the context root. */
export function dockerignoreRules(text: string): string[] {
  const rules: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = path.posix.normalize((negated ? line.slice(1) : line).trim()).replace(/^\/+/, '');
    if (pattern === '' || pattern === '.') continue;
    rules.push(`${negated ? '!' : ''}/${pattern}`);
  }
  return rules;
}

/** Lists the context of `dir` for a build with the Dockerfile at host path `dockerfile`. */
export async function readBuildContext(dir: string, dockerfile: string): Promise<BuildContext> {
  const root = path.resolve(dir);
  const rules = await readFile(path.join(root, '.dockerignore'), 'utf8').then(dockerignoreRules, () => []);
  // .dockerignore rules are root-anchored gitignore rules (see dockerignoreRules).
  const ig = new IgnoreRules();
  if (rules.length > 0) ig.add('', rules.join('\n'));
  const entries: ContextEntry[] = [];
  await walk(root, '', ig, entries);

  const dockerfileRel = path.relative(root, path.resolve(dockerfile));
  const inside = dockerfileRel !== '' && !dockerfileRel.startsWith('..') && !path.isAbsolute(dockerfileRel);
  const archiveName = inside ? dockerfileRel.split(path.sep).join('/') : OUTSIDE_DOCKERFILE_NAME;
  const always = [{ rel: archiveName, source: path.resolve(dockerfile) }];
  if (rules.length > 0) always.push({ rel: '.dockerignore', source: path.join(root, '.dockerignore') });
  for (const { rel, source } of always) {
    if (entries.some((e) => e.rel === rel)) continue;
    const info = await lstat(source);
    entries.push({ rel, kind: 'file', mode: info.mode & 0o7777, size: info.size, source });
  }
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { dir: root, dockerfile: archiveName, entries };
}

async function walk(root: string, relDir: string, ig: IgnoreRules, out: ContextEntry[]): Promise<void> {
  const dirents = await readdir(path.join(root, relDir), { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const dirent of dirents) {
    const rel = relDir === '' ? dirent.name : `${relDir}/${dirent.name}`;
    const source = path.join(root, rel);
    if (dirent.isDirectory()) {
      if (ig.ignores(rel, true)) continue;
      const info = await lstat(source);
      out.push({ rel, kind: 'dir', mode: info.mode & 0o7777, size: 0, source });
      await walk(root, rel, ig, out);
    } else if (dirent.isFile() || dirent.isSymbolicLink()) {
      if (ig.ignores(rel, false)) continue;
      const info = await lstat(source);
      if (info.isSymbolicLink()) out.push({ rel, kind: 'symlink', mode: 0o777, size: 0, source, target: await readlink(source) });
      else out.push({ rel, kind: 'file', mode: info.mode & 0o7777, size: info.size, source });
    }
    // Sockets, fifos and devices are not part of a build context.
  }
}

/** sha256 over every entry's kind, path, mode and content (or link target). */
export async function hashBuildContext(context: BuildContext): Promise<string> {
  const hash = createHash('sha256');
  for (const entry of context.entries) {
    hash.update(`${entry.kind}\0${entry.rel}\0${entry.mode.toString(8)}\0`);
    if (entry.kind === 'file') hash.update(await readFile(entry.source));
    if (entry.kind === 'symlink') hash.update(entry.target ?? '');
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** The context as one tar stream (owners 0:0, as the docker CLI sends it). */
export function packBuildContext(context: BuildContext): Readable {
  return packTar(
    context.entries.map((entry): TarEntry => {
      switch (entry.kind) {
        case 'dir':
          return { type: 'directory', name: entry.rel, mode: entry.mode };
        case 'symlink':
          return { type: 'symlink', name: entry.rel, target: entry.target ?? '' };
        case 'file':
          return { type: 'file', name: entry.rel, mode: entry.mode, size: entry.size, content: () => createReadStream(entry.source) };
      }
    }),
  );
}
