/**
 * The run index, `.crewbox/index.json`: one summary per run, for the run list.
 * The only module that imports lowdb.
 *
 * Contract:
 * - Every read-modify-write holds the index's cross-process lock and rereads
 *   the file inside it, so two processes (two VS Code windows) never lose
 *   each other's updates. Plain reads take no lock: writes replace the file
 *   atomically, so a reader sees an old or a new index, never a mix.
 * - Writes go through our own lowdb adapter: lowdb's stock JSONFile (steno)
 *   does write a temp file and rename it, but never fsyncs (a power cut can
 *   leave an empty index) and uses one fixed temp name for every writer.
 *   Ours syncs the temp file and the directory and names temps uniquely.
 * - The index is derived data. If it is unreadable as an index (bad JSON,
 *   wrong shape), it is moved aside as `index.json.corrupt-<timestamp>` and
 *   rebuilt from `runs/<id>/events.jsonl` with summarizeRun.
 */
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { Low } from 'lowdb';
import type { Adapter } from 'lowdb';
import { StoreError, errnoCode, isStoreError, readError, writeError } from './errors.ts';
import { readRunLog } from './event-log.ts';
import { assertRunId, crewboxPaths, writeFileAtomic } from './layout.ts';
import type { CrewboxPaths } from './layout.ts';
import { withFileLock } from './locks.ts';
import { RunSummary, summarizeRun } from './run-summary.ts';

export type RunIndexEntry = RunSummary;
export type RunIndexPatch = Partial<RunIndexEntry> & { id: string };

const IndexFile = z.object({ version: z.literal(1), runs: z.record(z.string(), RunSummary) });
type IndexFile = z.infer<typeof IndexFile>;

const emptyIndex = (): IndexFile => ({ version: 1, runs: {} });

export interface IndexRecovery {
  /** Where the unusable index was moved, byte for byte. */
  corruptCopy: string;
  reason: string;
  rebuiltRuns: number;
  /** Run logs that could not be read while rebuilding (their runs are missing from the index). */
  skipped: { path: string; message: string }[];
  summary: string;
}

export interface RunIndexOptions {
  /** Told about every rebuild, so the UI can say what happened. */
  onRecovered?: (recovery: IndexRecovery) => void;
  now?: () => Date;
}

class CorruptIndex extends Error {}

/** lowdb adapter: validated reads, atomic and durable writes. */
class IndexFileAdapter implements Adapter<IndexFile> {
  constructor(private readonly file: string) {}

  async read(): Promise<IndexFile | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return null;
      throw readError(this.file, 'run index', e);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CorruptIndex(text.trim() === '' ? 'the file is empty' : 'the file is not valid JSON');
    }
    const parsed = IndexFile.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CorruptIndex(`the file does not have the shape of a run index (${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'})`);
    }
    return parsed.data;
  }

  async write(data: IndexFile): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`);
  }
}

export class RunIndex {
  readonly #paths: CrewboxPaths;
  readonly #lockPath: string;
  readonly #options: RunIndexOptions;

  private constructor(paths: CrewboxPaths, options: RunIndexOptions) {
    this.#paths = paths;
    this.#lockPath = `${paths.index}.lock`;
    this.#options = options;
  }

  /** Opens the index of `workspace`, creating `.crewbox/` if needed and recovering a corrupt index at once. */
  static async open(workspace: string, options: RunIndexOptions = {}): Promise<RunIndex> {
    const paths = crewboxPaths(workspace);
    await mkdir(paths.runsDir, { recursive: true }).catch((e: unknown) => {
      throw writeError(paths.runsDir, 'Crewbox directory', e);
    });
    const index = new RunIndex(paths, options);
    await index.#read();
    return index;
  }

  async get(id: string): Promise<RunIndexEntry | undefined> {
    return (await this.#read()).runs[id];
  }

  /** Newest first (by createdAt, then id). */
  async list(): Promise<RunIndexEntry[]> {
    const runs = Object.values((await this.#read()).runs);
    return runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  /**
   * Merges `patch` into the entry with its id (creating it if absent) and
   * returns the stored entry. Fields left out keep their value; a new entry
   * starts as running, with no goal, tokens, cost or steps. `updatedAt`
   * defaults to now. Throws StoreError `invalid_entry` / `invalid_run_id`.
   */
  async upsert(patch: RunIndexPatch): Promise<RunIndexEntry> {
    assertRunId(patch.id);
    return this.#update((data) => {
      const now = this.#now().toISOString();
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      const base: RunIndexEntry = data.runs[patch.id] ?? { id: patch.id, goal: '', status: 'running', createdAt: now, updatedAt: now, tokens: 0, costUsd: 0, steps: 0 };
      const parsed = RunSummary.safeParse({ ...base, updatedAt: now, ...defined });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new StoreError('invalid_entry', `The run index entry for ${patch.id} is invalid at "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'schema mismatch'}.`);
      }
      data.runs[patch.id] = parsed.data;
      return parsed.data;
    });
  }

  /** Removes the entry (not the run's files). Returns whether it existed. */
  async remove(id: string): Promise<boolean> {
    return this.#update((data) => {
      if (!(id in data.runs)) return false;
      delete data.runs[id];
      return true;
    });
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  async #update<T>(mutate: (data: IndexFile) => T): Promise<T> {
    return withFileLock(this.#lockPath, async () => {
      const db = new Low<IndexFile>(new IndexFileAdapter(this.#paths.index), emptyIndex());
      try {
        await db.read();
      } catch (e) {
        if (!(e instanceof CorruptIndex)) throw e;
        db.data = await this.#rebuild(e.message);
      }
      const result = mutate(db.data);
      await db.write();
      return result;
    });
  }

  async #read(): Promise<IndexFile> {
    const db = new Low<IndexFile>(new IndexFileAdapter(this.#paths.index), emptyIndex());
    try {
      await db.read();
      return db.data;
    } catch (e) {
      if (!(e instanceof CorruptIndex)) throw e;
    }
    // Recovery writes, so it takes the lock; #update rereads inside it in case another process already rebuilt.
    return this.#update((data) => data);
  }

  /** Inside the lock: moves the unusable index aside and folds every run log into a new one. */
  async #rebuild(reason: string): Promise<IndexFile> {
    const file = this.#paths.index;
    const corruptCopy = await this.#moveAside(file);
    const data = emptyIndex();
    const skipped: IndexRecovery['skipped'] = [];
    const dirs = await readdir(this.#paths.runsDir, { withFileTypes: true }).catch((e: unknown) => {
      if (errnoCode(e) === 'ENOENT') return [];
      throw readError(this.#paths.runsDir, 'runs directory', e);
    });
    for (const dir of dirs) {
      if (!dir.isDirectory()) continue;
      const log = path.join(this.#paths.runsDir, dir.name, 'events.jsonl');
      try {
        const { events } = await readRunLog(log);
        if (events.length > 0) {
          const summary = summarizeRun(events);
          data.runs[summary.id] = summary;
        }
      } catch (e) {
        if (!isStoreError(e)) throw e;
        if (e.code !== 'not_found') skipped.push({ path: log, message: e.message });
      }
    }
    const rebuiltRuns = Object.keys(data.runs).length;
    const skippedNote = skipped.length > 0 ? ` ${skipped.length} run log(s) could not be read and are missing from it.` : '';
    this.#options.onRecovered?.({
      corruptCopy,
      reason,
      rebuiltRuns,
      skipped,
      summary: `The run index ${file} could not be used (${reason}). It was moved to ${corruptCopy} and rebuilt from ${rebuiltRuns} run log(s).${skippedNote}`,
    });
    return data;
  }

  /** Renames `file` to a fresh `.corrupt-<timestamp>` name (never over an earlier copy). */
  async #moveAside(file: string): Promise<string> {
    const stamp = this.#now().toISOString().replace(/[:.]/g, '-');
    for (let n = 0; ; n++) {
      const target = `${file}.corrupt-${stamp}${n === 0 ? '' : `-${n}`}`;
      if (await stat(target).then(() => true, () => false)) continue;
      try {
        await rename(file, target);
        return target;
      } catch (e) {
        throw writeError(file, 'run index', e);
      }
    }
  }
}
