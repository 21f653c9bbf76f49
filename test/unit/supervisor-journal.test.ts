/**
 * The supervisor's call journal on the host (plain file-system semantics; the
 * Docker suite covers it across real supervisors): results on the state
 * disk, claims and abort marks in their own directory (tmpfs in a container).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface Identity {
  pid: number;
  startTime: number;
}
interface Marker {
  callId: string;
  owner: Identity;
  token: string;
}
interface JournalApi {
  read(callId: string): { result: unknown } | undefined;
  claim(callId: string, token: string): boolean;
  marker(callId: string): Marker | 'partial' | undefined;
  record(callId: string, op: string, result: unknown): unknown;
  recordAsync(callId: string, op: string, result: unknown): Promise<void>;
  requestAbort(callId: string): void;
  abortRequested(callId: string): boolean;
  orphans(): Marker[];
}

const require = createRequire(import.meta.url);
const { Journal } = require('../../sandbox/supervisor/journal.js') as {
  Journal: new (dir: string, self: Identity | null, options?: { claimDir?: string }) => JournalApi;
};
const { processIdentity } = require('../../sandbox/supervisor/reaper.js') as { processIdentity(pid: number): Identity | null };

describe('supervisor call journal (on this host)', () => {
  let root: string;
  let results: string;
  let claims: string;
  const self = (): Identity => processIdentity(process.pid) as Identity;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'crewbox-journal-'));
    results = path.join(root, 'journal');
    claims = path.join(root, 'shm', 'claims');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps claims and abort marks apart from results, and a claim is exclusive', () => {
    const journal = new Journal(results, self(), { claimDir: claims });
    assert.equal(journal.claim('c1', 'tok'), true);
    assert.equal(journal.claim('c1', 'other'), false, 'a second claim of the same call fails');
    journal.requestAbort('c1');
    assert.equal(journal.abortRequested('c1'), true);
    assert.deepEqual(readdirSync(results), []);
    assert.equal(readdirSync(claims).length, 2);
    const marker = journal.marker('c1');
    assert.ok(marker && marker !== 'partial');
    assert.equal(marker.token, 'tok');
  });

  it('recordAsync publishes the result before it drops the claim and the abort mark', async () => {
    const journal = new Journal(results, self(), { claimDir: claims });
    journal.claim('c2', 'tok');
    journal.requestAbort('c2');
    const writing = journal.recordAsync('c2', 'exec', { exitCode: 0 });
    // Until the result is out, the claim is there (another supervisor waits on it).
    assert.notEqual(journal.marker('c2'), undefined);
    await writing;
    assert.deepEqual(journal.read('c2')?.result, { exitCode: 0 });
    assert.equal(journal.marker('c2'), undefined);
    assert.equal(journal.abortRequested('c2'), false);
    assert.deepEqual(readdirSync(claims), []);
    assert.deepEqual(
      readdirSync(results).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });

  it('the first result stands: a later record of the same call does not replace it', async () => {
    const journal = new Journal(results, self(), { claimDir: claims });
    await journal.recordAsync('c3', 'exec', { exitCode: 1 });
    await journal.recordAsync('c3', 'exec', { exitCode: 2 });
    assert.deepEqual(journal.record('c3', 'exec', { exitCode: 3 }), { exitCode: 1 });
    assert.deepEqual(journal.read('c3')?.result, { exitCode: 1 });
  });

  it('finds the claims of a dead owner that left no result (orphans), in the claim directory', () => {
    const dead: Identity = { pid: 999_999_999, startTime: 1 };
    const gone = new Journal(results, dead, { claimDir: claims });
    gone.claim('orphan', 'tok-orphan');
    gone.claim('finished', 'tok-finished');
    gone.record('finished', 'exec', { exitCode: 0 });
    const next = new Journal(results, self(), { claimDir: claims });
    assert.deepEqual(
      next.orphans().map((m) => m.callId),
      ['orphan'],
    );
  });
});
