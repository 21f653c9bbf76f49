/** Run ids: sortable by creation time, readable, safe as directory names. */
import { randomBytes } from 'node:crypto';

export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `run-${stamp}-${randomBytes(3).toString('hex')}`;
}
