/**
 * Sets or clears a host file's executable bit after its content was applied
 * as a text edit (a WorkspaceEdit cannot change modes). No `vscode`; part of
 * the heavy bundle. Same rule as apply.ts: execute bits follow read bits.
 */
import { chmod, lstat } from 'node:fs/promises';
import path from 'node:path';

/** No-op unless `rel` is a regular file whose bit differs. */
export async function setExecutable(workspace: string, rel: string, executable: boolean): Promise<void> {
  const abs = path.join(workspace, ...rel.split('/'));
  const st = await lstat(abs);
  if (!st.isFile()) return;
  const mode = st.mode & 0o777;
  const next = executable ? mode | ((mode & 0o444) >> 2) : mode & ~0o111;
  if (next !== mode) await chmod(abs, next);
}
