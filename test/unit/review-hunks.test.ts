import assert from 'node:assert/strict';
import { structuredPatch } from 'diff';
import { applyHunks, firstChangedLine, HunkConflictError, hunkCodeBlock, hunkHeader, hunkSides, locateHunks, splitLines } from '../../src/extension/review/hunks.ts';

const lines = (n: number): string[] => Array.from({ length: n }, (_, i) => `line ${i + 1}`);
const text = (ls: readonly string[]): string => ls.map((l) => `${l}\n`).join('');
const hunksOf = (a: string, b: string) => structuredPatch('a', 'b', a, b, undefined, undefined, { context: 3 }).hunks;

/** 30 lines; the run changes line 5 and line 25: two hunks far apart. */
const BASE = text(lines(30));
const PROPOSED = text(lines(30).map((l) => (l === 'line 5' ? 'line FIVE' : l === 'line 25' ? 'line TWENTY-FIVE' : l)));

describe('review hunks', () => {
  it('splits lines keeping their terminators', () => {
    assert.deepEqual(splitLines('a\r\nb\nc'), ['a\r\n', 'b\n', 'c']);
    assert.deepEqual(splitLines(''), []);
  });

  it('reads both sides of a hunk, honouring "No newline at end of file"', () => {
    const [h] = hunksOf('a\nb', 'a\nb\nc\n');
    const sides = hunkSides(h!);
    assert.deepEqual(sides.oldSide, ['a\n', 'b']);
    assert.deepEqual(sides.newSide, ['a\n', 'b\n', 'c\n']);
  });

  it('marks every hunk pending on the base text and applying all gives the proposed text', () => {
    const hunks = hunksOf(BASE, PROPOSED);
    assert.equal(hunks.length, 2);
    const located = locateHunks(hunks, BASE);
    assert.deepEqual(located.map((h) => h.state), ['pending', 'pending']);
    assert.equal(applyHunks(BASE, located), PROPOSED);
  });

  it('applies one hunk of two and leaves the other line alone', () => {
    const located = locateHunks(hunksOf(BASE, PROPOSED), BASE);
    const once = applyHunks(BASE, located, [1]);
    assert.ok(once.includes('line TWENTY-FIVE\n'));
    assert.ok(once.includes('line 5\n') && !once.includes('line FIVE'));
    const again = locateHunks(hunksOf(BASE, PROPOSED), once);
    assert.deepEqual(again.map((h) => h.state), ['pending', 'applied']);
    assert.equal(applyHunks(once, again), PROPOSED);
  });

  it('finds a hunk shifted by lines the user added above it, and keeps those lines', () => {
    const host = text(['// added by the user', '// and another', ...lines(30)]);
    const located = locateHunks(hunksOf(BASE, PROPOSED), host);
    assert.deepEqual(located.map((h) => h.state), ['pending', 'pending']);
    assert.equal(located[0]!.hostLine, 2 + 1, 'line 2 of the base (hunk start) is line 4 of the host');
    const applied = applyHunks(host, located);
    assert.equal(applied, `// added by the user\n// and another\n${PROPOSED}`);
  });

  it('reports applied when the host already holds the run\'s lines', () => {
    const located = locateHunks(hunksOf(BASE, PROPOSED), PROPOSED);
    assert.deepEqual(located.map((h) => h.state), ['applied', 'applied']);
    assert.equal(applyHunks(PROPOSED, located), PROPOSED, 'applying again changes nothing');
  });

  it('reports a conflict where the user changed the hunk\'s region, and refuses to apply it', () => {
    const host = BASE.replace('line 6\n', 'line six, edited by the user\n');
    const located = locateHunks(hunksOf(BASE, PROPOSED), host);
    assert.deepEqual(located.map((h) => h.state), ['conflict', 'pending']);
    assert.throws(() => applyHunks(host, located), (e: unknown) => e instanceof HunkConflictError && e.indexes.join() === '0');
    const second = applyHunks(host, located, [1]);
    assert.ok(second.includes('line six, edited by the user\n') && second.includes('line TWENTY-FIVE\n'));
  });

  it('anchors a hunk at the end of the file: lines the user appended make it a conflict', () => {
    const base = text(lines(10));
    const proposed = text([...lines(10), 'line 11']);
    const hunks = hunksOf(base, proposed);
    assert.deepEqual(locateHunks(hunks, base).map((h) => h.state), ['pending']);
    assert.deepEqual(locateHunks(hunks, `${base}user line\n`).map((h) => h.state), ['conflict']);
  });

  it('treats a change of the final newline as its own line', () => {
    const hunks = hunksOf('a\nb', 'a\nb\n');
    assert.deepEqual(locateHunks(hunks, 'a\nb').map((h) => h.state), ['pending']);
    assert.equal(applyHunks('a\nb', locateHunks(hunks, 'a\nb')), 'a\nb\n');
    assert.deepEqual(locateHunks(hunks, 'a\nb\n').map((h) => h.state), ['applied']);
  });

  it('keeps CRLF line endings', () => {
    const base = 'one\r\ntwo\r\nthree\r\n';
    const proposed = 'one\r\n2\r\nthree\r\n';
    const located = locateHunks(hunksOf(base, proposed), base);
    assert.equal(applyHunks(base, located), proposed);
  });

  it('locates a hunk at the top of a file with a BOM on its BOM-less text (as run-changes.ts and the editor give it)', () => {
    const base = '\uFEFFone\ntwo\nthree\nfour\n';
    const proposed = '\uFEFFone\n2\nthree\nfour\n';
    const located = locateHunks(hunksOf(base, proposed), base.slice(1));
    assert.deepEqual(located.map((h) => h.state), ['pending']);
    assert.equal(applyHunks(base.slice(1), located), proposed.slice(1));
    assert.deepEqual(locateHunks(hunksOf(base, proposed), proposed.slice(1)).map((h) => h.state), ['applied']);
  });

  it('fences a hunk for a tooltip so that a code fence in the file cannot close the block', () => {
    const md = 'Intro\n\n```\ncode\n```\n\nmore\n';
    const [h] = hunksOf(md, md.replace('more', '![x](https://example.com/x.png)'));
    const block = hunkCodeBlock(h!);
    const fence = /^\n(`+)diff\n/.exec(block)?.[1] ?? '';
    assert.ok(fence.length >= 3);
    // No line of the hunk (a context line is " ```") may be a closing fence: up to 3 spaces, then at least as many backticks.
    const inner = block.slice(fence.length + 6, -(fence.length + 2)).split('\n');
    assert.ok(inner.some((l) => l === ' ```'));
    assert.ok(inner.every((l) => !new RegExp(`^ {0,3}\`{${fence.length},}\\s*$`).test(l)), block);
    assert.ok(block.endsWith(`\n${fence}\n`));
  });

  it('labels hunks with their header and first changed line', () => {
    const [h] = hunksOf(BASE, PROPOSED);
    assert.equal(hunkHeader(h!), '@@ -2,7 +2,7 @@');
    assert.equal(firstChangedLine(h!), 'line 5');
  });
});
