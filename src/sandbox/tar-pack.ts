/**
 * The sandbox lifecycle's tar adapter over tar-stream: packing entries for the
 * engine's archive API (build contexts, directories with owners, injected
 * binaries, setup records) and reading one small file back out of an archive.
 *
 * Contract: `packTar` writes entries strictly one after another (tar-stream
 * needs each entry finished before the next) and fails the returned stream
 * if a source fails; owners default to 0:0.
 */
import { Readable } from 'node:stream';
import tar from 'tar-stream';

type Header = Partial<tar.Header> & { name: string };
type Sink = ReturnType<tar.Pack['entry']>;

interface EntryBase {
  /** Archive path, POSIX, relative (no leading slash). */
  name: string;
  uid?: number;
  gid?: number;
  mtime?: Date;
}

export type TarEntry =
  | (EntryBase & { type: 'directory'; mode: number })
  | (EntryBase & { type: 'file'; mode: number; size: number; content: Buffer | (() => Readable) })
  | (EntryBase & { type: 'symlink'; target: string });

export function packTar(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Readable {
  const pack = tar.pack();
  const feed = async (): Promise<void> => {
    for await (const entry of entries) await writeEntry(pack, entry);
    pack.finalize();
  };
  feed().catch((e: unknown) => pack.destroy(e instanceof Error ? e : new Error(String(e))));
  // tar-stream streams are streamx streams; callers and the engine get a Node stream.
  return Readable.from(pack, { objectMode: false });
}

async function writeEntry(pack: tar.Pack, entry: TarEntry): Promise<void> {
  const base = { name: entry.name, uid: entry.uid ?? 0, gid: entry.gid ?? 0, mtime: entry.mtime ?? new Date(0) };
  // tar-stream reports an entry's end through its callback, not the returned sink.
  const add = (header: Header, content?: Buffer): { sink: Sink; finished: Promise<void> } => {
    let sink!: Sink;
    const finished = new Promise<void>((resolve, reject) => {
      const callback = (err?: Error | null): void => (err ? reject(err) : resolve());
      sink = content ? pack.entry(header, content, callback) : pack.entry(header, callback);
    });
    return { sink, finished };
  };
  switch (entry.type) {
    case 'directory':
      return add({ ...base, type: 'directory', mode: entry.mode }).finished;
    case 'symlink':
      return add({ ...base, type: 'symlink', linkname: entry.target, mode: 0o777 }).finished;
    case 'file': {
      const header: Header = { ...base, type: 'file', mode: entry.mode, size: entry.size };
      if (Buffer.isBuffer(entry.content)) return add(header, entry.content).finished;
      const source = entry.content();
      try {
        await new Promise<void>((resolve, reject) => {
          source.once('error', reject);
          const { sink, finished } = add(header);
          finished.then(resolve, reject);
          source.pipe(sink);
        });
      } finally {
        source.destroy();
      }
    }
  }
}

/**
 * The content of the first regular file in a tar stream (e.g. what the
 * engine's getArchive returns for one file), or undefined when there is none.
 * Reads at most `maxBytes`; larger files are refused with a RangeError.
 */
export async function readFirstFile(archive: Readable, maxBytes = 1 << 20): Promise<Buffer | undefined> {
  const extract = tar.extract();
  archive.pipe(extract);
  try {
    for await (const entry of extract) {
      if (entry.header.type !== 'file') {
        entry.resume();
        continue;
      }
      if ((entry.header.size ?? 0) > maxBytes) throw new RangeError(`${entry.header.name} is larger than ${maxBytes} bytes`);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    return undefined;
  } finally {
    // Whatever is left of the archive is not needed (and an ended stream ignores this).
    archive.unpipe(extract);
    archive.destroy();
  }
}
