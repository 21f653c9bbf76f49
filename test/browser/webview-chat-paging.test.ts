/**
 * The chat webview with a long run shown from its tail (src/protocol/transcript-page.ts):
 * the host resets with the last page and the prelude, the view loads older
 * pages as the user scrolls up. In headless Chromium, under the host's CSP;
 * the test plays the host with the same page function the extension uses.
 */
import assert from 'node:assert/strict';
import type { RunEvent } from '../../src/core/events/schema.ts';
import { PAGE_EVENTS, TAIL_EVENTS, transcriptPage } from '../../src/protocol/transcript-page.ts';
import type { PostedRequest, ViewPage } from '../support/webview-harness.ts';
import { useWebviewHarness } from '../support/webview-harness.ts';
import { LiveRun, longRun, teamRunBatches } from '../support/webview-transcripts.ts';

describe('chat webview: long runs from their tail (Chromium)', function () {
  this.timeout(60_000);
  const harness = useWebviewHarness();
  let view: ViewPage;

  async function openChat(): Promise<void> {
    view = await harness().open({ view: 'chat' });
    await view.handshake();
    await view.notify('status/update', { driving: false, sandbox: { state: 'ready' } });
  }

  /** What the status line, the agent headers and the running cards say. */
  async function state(): Promise<{ status: string; agents: string[]; running: string[] }> {
    await view.settle();
    const page = view.page;
    return {
      status: await page.locator('.status-line').innerText(),
      agents: await page.locator('.row-agent').evaluateAll((els) => els.map((el) => el.className)),
      running: await page.locator('.tool-card.tool-running .tool-name').allInnerTexts(),
    };
  }

  async function resetFromTail(log: RunEvent[], limit: number, runId: string): Promise<void> {
    const tail = transcriptPage(log, limit);
    assert.ok(tail.earlier, 'the log is longer than one page');
    await view.notify('transcript/reset', { runId, events: tail.events, earlier: tail.earlier });
  }

  /** Answers the view's n-th `transcript/page` request as the extension's host does. */
  async function answerPage(log: RunEvent[], n: number): Promise<PostedRequest> {
    const request = await view.waitForRequest('transcript/page', n);
    const { runId, beforeSeq } = request.params as { runId: string; beforeSeq: number };
    const page = transcriptPage(log, PAGE_EVENTS, beforeSeq);
    await view.reply(request, 'transcript/page', { runId, events: page.events, ...(page.earlier && { earlier: page.earlier }) });
    return request;
  }

  /** How many older pages the host cuts from `log` after its tail. */
  function pageCount(log: RunEvent[]): number {
    let next = transcriptPage(log, TAIL_EVENTS);
    let count = 0;
    while (next.earlier) {
      next = transcriptPage(log, PAGE_EVENTS, next.events[0]!.seq);
      count++;
    }
    return count;
  }

  async function scrollToTop(): Promise<void> {
    await view.page.locator('.vlist').evaluate((el) => {
      el.scrollTop = 0;
    });
    await view.settle();
  }

  it('folds the prelude: a short tail of a team run shows the full log’s status, agents and open delegation', async () => {
    await openChat();
    const run = new LiveRun('run-team');
    teamRunBatches(run);
    const log = run.log;
    await view.notify('transcript/reset', { runId: run.runId, events: log });
    const full = await state();
    await resetFromTail(log, 2, run.runId);
    const fromTail = await state();
    assert.deepEqual(fromTail, full);
    assert.deepEqual(fromTail.running, ['delegate'], 'the delegation started before the tail is still running');
    // The transcript is short: the marker is on screen, so the earlier events load at once.
    await answerPage(log, 1);
    await view.settle();
    assert.equal(await view.page.locator('.row-earlier').count(), 0);
    assert.deepEqual(await state(), full);
  });

  it('opens a 5,000-message run from its tail; scrolling up loads older pages and keeps the user’s place', async () => {
    await openChat();
    const log = longRun(5_000);
    await view.notify('transcript/reset', { runId: 'run-long', events: log });
    const full = await state();
    const page = view.page;
    const fullLast = await page.locator('.vlist-row').last().innerText();

    await resetFromTail(log, TAIL_EVENTS, 'run-long');
    assert.deepEqual(await state(), full, 'the status line is exact from the tail');
    assert.equal(await page.locator('.vlist-row').last().innerText(), fullLast, 'it opens at the same bottom row');
    assert.ok((await page.locator('.vlist-row').count()) < 80, 'still virtualised');
    assert.equal((await view.posted()).filter((m) => m.method === 'transcript/page').length, 0, 'nothing is loaded before the user scrolls up');

    // At the top: the goal and agent (prelude), then the marker, which asks for the page before the tail.
    await scrollToTop();
    assert.match(await page.locator('.row-goal').innerText(), /Refactor the parser/);
    const marker = page.locator('.row-earlier');
    const firstShown = page.locator('.row-earlier + .vlist-row');
    const anchorText = /^Step \d+:/.exec(await firstShown.innerText())?.[0];
    assert.ok(anchorText, 'the tail starts at a model turn');
    const before = await firstShown.boundingBox();
    const request = await answerPage(log, 1);
    assert.deepEqual(request.params, { runId: 'run-long', beforeSeq: transcriptPage(log, TAIL_EVENTS).events[0]!.seq });
    await view.settle();
    const anchored = page.locator('.vlist-row', { hasText: anchorText }).first();
    assert.deepEqual(await anchored.boundingBox(), before, 'the first row shown before keeps its place on screen');
    assert.equal(await marker.count(), 0, 'the marker moved up, out of the mounted rows');
    assert.deepEqual(await state(), full);

    // Scrolling up to each new marker loads the rest, page by page, until the log's start.
    let pages = 1;
    while (pages < 20) {
      await scrollToTop();
      if ((await marker.count()) === 0) break;
      await answerPage(log, ++pages);
    }
    assert.equal(pages, pageCount(log), 'one request per page, each answered once');
    assert.equal((await state()).status, full.status);
    assert.match(await page.locator('.row-goal').innerText(), /Refactor the parser/);
    assert.equal(await page.locator('.vlist-row').first().getAttribute('data-row'), 'r1');
  });

  it('a failed page shows the error and stops loading on scroll; the marker’s button tries again', async () => {
    await openChat();
    const log = longRun(3_000);
    await resetFromTail(log, TAIL_EVENTS, 'run-long');
    await scrollToTop();
    await view.replyError(await view.waitForRequest('transcript/page'), { code: 'failed', message: 'The run log could not be read.' });
    await view.settle();
    assert.match(await view.page.locator('.banner').innerText(), /The run log could not be read\./);
    await view.page.locator('.vlist').evaluate((el) => {
      el.scrollTop = 40;
    });
    await scrollToTop();
    assert.equal((await view.posted()).filter((m) => m.method === 'transcript/page').length, 1, 'no retry loop while scrolling');
    await view.page.getByRole('button', { name: 'Load earlier' }).click();
    await answerPage(log, 2);
    await view.settle();
    assert.equal(await view.page.locator('.row-earlier').count(), 0);
  });
});
