/**
 * The supervisor's call journal on the host (plain file-system semantics; the
 * Docker suite covers it across real supervisors): results on the state
 * disk, claims and abort marks in their own directory (tmpfs in a container).
 */
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
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
  read(callId: string, options?: { thorough?: boolean }): { result: unknown } | undefined;
  claim(callId: string, token: string): boolean;
  marker(callId: string): Marker | 'partial' | undefined;
  record(callId: string, op: string, result: unknown): unknown;
  recordAsync(callId: string, op: string, result: unknown): Promise<void>;
  requestAbort(callId: string): void;
  abortRequested(callId: string): boolean;
  orphans(): Marker[];
  prune(maxAgeMs: number, maxBytes: number): void;
}

const require = createRequire(import.meta.url);
const { Journal } = require('../../sandbox/supervisor/journal.js') as {
  Journal: new (dir: string, self: Identity | null, options?: { claimDir?: string; rotateBytes?: number }) => JournalApi;
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
    assert.deepEqual(readdirSync(claims).filter((n) => n !== 'results.gen').length, 2);
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
    assert.deepEqual(readdirSync(claims), ['results.gen']);
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

  it('appends results to one log per supervisor process, and another supervisor finds what was recorded after it started', async () => {
    const first = new Journal(results, self(), { claimDir: claims });
    const other = new Journal(results, { pid: process.pid, startTime: self().startTime + 1 }, { claimDir: claims });
    assert.equal(other.read('late'), undefined);
    first.claim('late', 'tok');
    await Promise.all([first.recordAsync('late', 'exec', { exitCode: 0, stdout: 'a\u0000b "q"\n' }), first.recordAsync('late-2', 'exec', { exitCode: 2 }), Promise.resolve(first.record('w1', 'write', { bytes: 3 }))]);
    assert.deepEqual(other.read('late')?.result, { exitCode: 0, stdout: 'a\u0000b "q"\n' });
    assert.deepEqual(other.read('late-2')?.result, { exitCode: 2 });
    assert.deepEqual(other.read('w1')?.result, { bytes: 3 });
    assert.deepEqual(readdirSync(results), [`${self().pid}-${self().startTime}-0.log`]);
    assert.equal(first.claim('late', 'again'), true, 'the claim went once the result was in');
  });

  it('rotates its log past the size limit and still finds every result', async () => {
    const journal = new Journal(results, self(), { claimDir: claims, rotateBytes: 300 });
    for (let i = 0; i < 10; i++) await journal.recordAsync(`r${i}`, 'exec', { exitCode: i, stdout: 'x'.repeat(100) });
    assert.ok(readdirSync(results).length >= 3);
    const reader = new Journal(results, null, { claimDir: claims });
    for (let i = 0; i < 10; i++) assert.equal((reader.read(`r${i}`)?.result as { exitCode: number }).exitCode, i);
  });

  it('skips what a dead writer cut off, waits on a live writer\'s unwritten line, and reads legacy result files', () => {
    mkdirSync(results, { recursive: true });
    const key = (id: string): string => createHash('sha256').update(id).digest('hex').slice(0, 40);
    const line = (id: string, exitCode: number): string => `${key(id)} ${JSON.stringify({ callId: id, op: 'exec', result: { exitCode }, recordedAt: 1 })}\n`;
    // A dead writer: a gap (a write its crash cut off), a line after it, then a cut-off last line.
    const gap = Buffer.alloc(line('lost', 9).length);
    writeFileSync(path.join(results, '999999999-1-0.log'), Buffer.concat([Buffer.from(line('d1', 1)), gap, Buffer.from(line('d2', 2)), Buffer.from(line('d3', 3).slice(0, 30))]));
    // A live writer (this process): a line not written yet between two written ones.
    const liveLog = path.join(results, `${self().pid}-${self().startTime}-7.log`);
    const pending = Buffer.from(line('l2', 2));
    writeFileSync(liveLog, Buffer.concat([Buffer.from(line('l1', 1)), Buffer.alloc(pending.length), Buffer.from(line('l3', 3))]));
    writeFileSync(path.join(results, `${key('legacy')}.json`), JSON.stringify({ callId: 'legacy', op: 'exec', result: { exitCode: 7 } }));

    const journal = new Journal(results, { pid: process.pid, startTime: self().startTime + 1 }, { claimDir: claims });
    const exit = (id: string): unknown => (journal.read(id)?.result as { exitCode?: number } | undefined)?.exitCode;
    assert.deepEqual(['d1', 'd2', 'd3', 'lost', 'legacy'].map(exit), [1, 2, undefined, undefined, 7]);
    assert.equal(exit('l1'), 1);
    assert.equal(exit('l3'), 3, 'a line written before an earlier one is found: its claim may already be gone');
    assert.equal(exit('l2'), undefined);
    // The writer completes the earlier line; it is found at the next miss (read again from the gap).
    const fd = openSync(liveLog, 'r+');
    writeSync(fd, pending, 0, pending.length, Buffer.byteLength(line('l1', 1)));
    closeSync(fd);
    assert.equal(exit('l2'), 2);

    // An older supervisor version writes a per-call file after the logs were indexed (it does not count in
    // results.gen): a thorough lookup (the one that decides whether a call runs) finds it.
    writeFileSync(path.join(results, `${key('legacy-late')}.json`), JSON.stringify({ callId: 'legacy-late', op: 'exec', result: { exitCode: 8 } }));
    assert.equal(journal.read('legacy-late'), undefined);
    assert.deepEqual(journal.read('legacy-late', { thorough: true })?.result, { exitCode: 8 });
  });

  it('prunes old logs of gone writers, keeps live writers\' logs, and forgets what it removed', async () => {
    const gone = new Journal(results, { pid: 999_999_999, startTime: 1 }, { claimDir: claims });
    await gone.recordAsync('old', 'exec', { exitCode: 0 });
    const live = new Journal(results, self(), { claimDir: claims });
    await live.recordAsync('mine', 'exec', { exitCode: 0 });
    const week = 8 * 24 * 3600;
    const past = new Date(Date.now() - week * 1000);
    for (const name of readdirSync(results)) utimesSync(path.join(results, name), past, past);
    const next = new Journal(results, self(), { claimDir: claims });
    next.prune(7 * 24 * 3600_000, 1024 ** 3);
    assert.deepEqual(readdirSync(results), [`${self().pid}-${self().startTime}-0.log`]);
    assert.equal(next.read('old'), undefined);
    assert.notEqual(next.read('mine'), undefined);
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
