/**
 * A SandboxPort for commands that only read or fork the store: any attempt to
 * use it is a bug, reported as such rather than touching anything.
 */
import type { ExecResult, ListEntry, SandboxPort, SearchMatch } from '../core/sandbox/port.ts';

export class UnavailableSandbox implements SandboxPort {
  private fail(): never {
    throw new Error('No sandbox is open for this command.');
  }
  exec(): Promise<ExecResult> {
    return this.fail();
  }
  readFile(): Promise<string> {
    return this.fail();
  }
  writeFile(): Promise<void> {
    return this.fail();
  }
  list(): Promise<ListEntry[]> {
    return this.fail();
  }
  search(): Promise<SearchMatch[]> {
    return this.fail();
  }
}
