/** Small helpers the e2e tier and the VS Code demo share. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Polls `test` every 200 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every file under `dir` (below 20 MB) whose bytes contain `needle`: where a secret leaked. */
export function filesContaining(dir: string, needle: string): string[] {
  if (!existsSync(dir)) return [];
  const hits: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) hits.push(...filesContaining(p, needle));
    else if (st.isFile() && st.size < 20_000_000 && readFileSync(p).includes(needle)) hits.push(p);
  }
  return hits;
}
