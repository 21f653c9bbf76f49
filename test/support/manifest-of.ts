/** Builds a manifest from fixture files, storing each file's content as a blob. */
import type { BlobStore } from '../../src/sandbox/store/blobs.ts';
import { sha256, type Manifest } from '../../src/sandbox/store/manifest.ts';
import type { FixtureFile } from './workspace-fixture.ts';

export async function manifestOf(blobs: BlobStore, files: Record<string, FixtureFile>): Promise<Manifest> {
  const m: Manifest = new Map();
  for (const [p, spec] of Object.entries(files)) {
    if (typeof spec === 'object' && !Buffer.isBuffer(spec) && 'link' in spec) {
      m.set(p, { kind: 'symlink', linkTarget: spec.link, mode: 0o777 });
      continue;
    }
    const content = Buffer.from(typeof spec === 'string' || Buffer.isBuffer(spec) ? spec : spec.content);
    const mode = typeof spec === 'object' && !Buffer.isBuffer(spec) ? (spec.mode ?? 0o644) : 0o644;
    await blobs.put(content);
    m.set(p, { kind: 'file', hash: sha256(content), mode, size: content.length });
  }
  return m;
}
