/**
 * The chat webview with a 5,000-message transcript, in headless Chromium
 * (the shipped bundle, under the host's CSP; test/support/webview-harness.ts).
 *
 * Two ways to open, interleaved in the same run so they see the same noise:
 * - tail (what the host does): `transcript/reset` carries the log's last
 *   page and the prelude (src/protocol/transcript-page.ts); older pages load
 *   as the user scrolls up;
 * - full log (the baseline: what the host did before): the whole log in one
 *   reset.
 * Open = startup + delivery + view, each measured in the page (ms):
 * - startup: navigation start → the bundle has sent `ui/ready`, finished
 *   its first run (HTML, CSS and script load; the view mounted) and built
 *   the protocol's zod validators, which it does after the first paint or
 *   with the first host message (the later of the two marks counts, so work
 *   moved out of the first run is still counted). An in-page stand-in host
 *   answers the handshake at once. The bundle sends `ui/ready` before
 *   mounting the view, so a real host's work (loading its validators and
 *   runtime, reading the log) overlaps the mount and the validators' build;
 *   `ui/ready sent` and `validators built` show when.
 * - delivery: getting the reset into the page as VS Code would: parse its
 *   JSON text (full log: 7,500 events, 2.5 MB) and post it as
 *   `transcript/reset` until it reaches the page's listeners. This is
 *   transport, not view code, but the user waits for it too. The host's
 *   cut of the tail is timed apart, in Node (`host: cut the tail`).
 * - view: the reset reached the page → its rows are in the DOM and laid out
 *   (validation with zod, fold, first render of the visible rows).
 * Update: one `transcript/append` with one token delta, dispatched
 * synchronously; its work is the handler's time plus the work of the frame
 * that renders it (frame start until a callback queued after the view's own
 * has run). Latency, which includes waiting for the next frame, is separate.
 * Load earlier (tail only): scrolled to the top, the view requests the page
 * before the tail; the stand-in host answers at once; latency from the reply
 * until the frame after the refold has rendered.
 * Targets: open ≤ 300 ms, update ≤ 16 ms (one frame).
 *
 * Exported for bench/index.ts: `webviewBench` (a BenchModule) and the raw
 * `measureChatView`.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { BenchModule, BenchReport, BenchRow } from './index.ts';
import type { RunEvent } from '../src/core/events/schema.ts';
import { PAGE_EVENTS, TAIL_EVENTS, transcriptPage } from '../src/protocol/transcript-page.ts';
import { WebviewHarness } from '../test/support/webview-harness.ts';
import { longRun } from '../test/support/webview-transcripts.ts';

export type OpenVariant = 'tail' | 'full';

export interface OpenSample {
  startupMs: number;
  readySentMs: number;
  /** When the validators were built (the `crewbox:validators-built` mark); NaN for a bundle without the mark. */
  validatorsBuiltMs: number;
  /** Part of startup: navigation until the bundle has arrived (browser and harness, not our code). */
  scriptArrivedMs: number;
  deliveryMs: number;
  viewMs: number;
  totalMs: number;
}

export interface VariantFigures {
  /** Events in the reset (the prelude's included). */
  sentEvents: number;
  sentBytes: number;
  opens: OpenSample[];
  /** Rows in the DOM once open. */
  mountedRows: number;
  updateCostMs: number[];
  updateLatencyMs: number[];
}

export interface ChatViewFigures {
  messages: number;
  events: number;
  tail: VariantFigures;
  full: VariantFigures;
  /** Node, the host's side: cutting the tail and prelude from the log. */
  cutTailMs: number[];
  /** Tail only: the first "load earlier" page, reply to rendered frame. */
  loadEarlierMs: number;
}

export interface ChatViewOptions {
  messages?: number;
  opens?: number;
  updates?: number;
  log?: (line: string) => void;
}

const TARGET_OPEN_MS = 300;
const TARGET_UPDATE_MS = 16;

interface Marks {
  readyAt?: number;
  validatorsAt?: number;
  startedAt?: number;
  scriptAt?: number;
  parseMs?: number;
  postedAt?: number;
  deliveredAt?: number;
  renderedAt?: number;
  pageMs?: number;
}

/** The stand-in host, installed before the page's scripts (a Playwright init script). */
const AUTO_HOST = `(() => {
  const marks = (window.__bench = {});
  window.addEventListener('message', (e) => {
    if (e.data && e.data.method === 'transcript/reset') marks.deliveredAt = performance.now();
  }, true);
  window.__crewboxHost = (message) => {
    if (message.method === 'transcript/page') {
      const value = JSON.parse(window.__benchPageJson);
      const t0 = performance.now();
      window.postMessage({ kind: 'reply', id: message.id, result: { ok: true, value } }, '*');
      const waitForRows = () => requestAnimationFrame(() => {
        if (document.querySelector('.earlier-loading')) return waitForRows();
        setTimeout(() => (marks.pageMs = performance.now() - t0), 0);
      });
      setTimeout(waitForRows, 0);
      return;
    }
    if (message.method !== 'ui/ready') return;
    marks.readyAt = performance.now();
    setTimeout(() => (marks.startedAt = performance.now()), 0);
    const script = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/chat.js'));
    marks.scriptAt = script ? script.responseEnd : NaN;
    window.postMessage({ kind: 'reply', id: message.id, result: { ok: true, value: { protocol: 1, trusted: true } } }, '*');
    window.postMessage({ kind: 'notify', method: 'status/update', params: { driving: true, sandbox: { state: 'ready' } } }, '*');
  };
  window.__benchReset = (json) => {
    const observer = new MutationObserver(() => {
      if (!document.querySelector('.vlist-row')) return;
      observer.disconnect();
      void document.querySelector('.vlist').scrollHeight;
      marks.renderedAt = performance.now();
    });
    observer.observe(document.getElementById('app'), { childList: true, subtree: true });
    const t0 = performance.now();
    const params = JSON.parse(json);
    marks.parseMs = performance.now() - t0;
    marks.postedAt = performance.now();
    window.postMessage({ kind: 'notify', method: 'transcript/reset', params }, '*');
  };
})();`;

type BenchWindow = { __bench: Marks; __benchJson: string; __benchPageJson: string; __benchReset(json: string): void };

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** The reset params the host sends, as JSON text. */
function resetJson(variant: OpenVariant, runId: string, events: RunEvent[]): { json: string; sentEvents: number } {
  if (variant === 'full') return { json: JSON.stringify({ runId, events }), sentEvents: events.length };
  const tail = transcriptPage(events, TAIL_EVENTS);
  return { json: JSON.stringify({ runId, events: tail.events, ...(tail.earlier && { earlier: tail.earlier }) }), sentEvents: tail.events.length + (tail.earlier?.prelude.length ?? 0) };
}

export async function measureChatView(options: ChatViewOptions = {}): Promise<ChatViewFigures> {
  const messages = options.messages ?? 5_000;
  const log = options.log ?? (() => {});
  const runId = 'run-bench';
  const events = longRun(messages, runId);
  const last = events.at(-1)!;
  const cutTailMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    transcriptPage(events, TAIL_EVENTS);
    cutTailMs.push(performance.now() - t0);
  }
  const firstTailSeq = transcriptPage(events, TAIL_EVENTS).events[0]!.seq;
  const page = transcriptPage(events, PAGE_EVENTS, firstTailSeq);
  const pageJson = JSON.stringify({ runId, events: page.events, ...(page.earlier && { earlier: page.earlier }) });
  const figures = (variant: OpenVariant): VariantFigures => {
    const { json, sentEvents } = resetJson(variant, runId, events);
    return { sentEvents, sentBytes: json.length, opens: [], mountedRows: 0, updateCostMs: [], updateLatencyMs: [] };
  };
  const result: ChatViewFigures = { messages, events: events.length, tail: figures('tail'), full: figures('full'), cutTailMs, loadEarlierMs: Number.NaN };
  const harness = await WebviewHarness.start();
  try {
    for (let i = 0; i < (options.opens ?? 9); i++) {
      for (const variant of ['tail', 'full'] as const) {
        const f = result[variant];
        const { json } = resetJson(variant, runId, events);
        const view = await harness.open({ view: 'chat', initScript: AUTO_HOST });
        await view.page.waitForFunction(() => (window as unknown as BenchWindow).__bench.startedAt !== undefined);
        // The JSON text is handed over outside the measurement (the host would hold it already).
        await view.page.evaluate(([text, pageText]) => {
          const w = window as unknown as BenchWindow;
          w.__benchJson = text;
          w.__benchPageJson = pageText;
        }, [json, pageJson] as const);
        await view.settle();
        await view.page.evaluate(() => (window as unknown as BenchWindow).__benchReset((window as unknown as BenchWindow).__benchJson));
        await view.page.waitForFunction(() => (window as unknown as BenchWindow).__bench.renderedAt !== undefined);
        const m = (await view.page.evaluate(() => ({
          ...(window as unknown as BenchWindow).__bench,
          validatorsAt: performance.getEntriesByName('crewbox:validators-built')[0]?.startTime ?? Number.NaN,
        }))) as Required<Marks>;
        const startupMs = Number.isNaN(m.validatorsAt) ? m.startedAt : Math.max(m.startedAt, m.validatorsAt);
        const sample = { startupMs, readySentMs: m.readyAt, validatorsBuiltMs: m.validatorsAt, scriptArrivedMs: m.scriptAt, deliveryMs: m.parseMs + (m.deliveredAt - m.postedAt), viewMs: m.renderedAt - m.deliveredAt, totalMs: 0 };
        sample.totalMs = sample.startupMs + sample.deliveryMs + sample.viewMs;
        f.opens.push(sample);
        log(`open ${i + 1} (${variant}): ${sample.totalMs.toFixed(0)} ms (startup ${sample.startupMs.toFixed(0)}, delivery ${sample.deliveryMs.toFixed(0)}, view ${sample.viewMs.toFixed(0)})`);
        if (i === 0) {
          await view.settle();
          f.mountedRows = await view.page.locator('.vlist-row').count();
          const measured = await view.page.evaluate(
            async ({ count, base }) => {
              const cost: number[] = [];
              const latency: number[] = [];
              for (let k = 0; k < count; k++) {
                const data = { kind: 'notify', method: 'transcript/append', params: { runId: base.runId, events: [{ ...base, type: 'model.delta', agentId: 'dev-1', text: `token ${k} ` }] } };
                const t0 = performance.now();
                window.dispatchEvent(new MessageEvent('message', { data }));
                const handled = performance.now() - t0;
                const [frameStart, done] = await new Promise<[number, number]>((resolve) => requestAnimationFrame((ts) => resolve([ts, performance.now()])));
                cost.push(handled + Math.max(0, done - Math.max(frameStart, t0 + handled)));
                latency.push(done - t0);
                await new Promise((r) => setTimeout(r, 0));
              }
              return { cost, latency };
            },
            { count: options.updates ?? 200, base: { v: 1, runId, seq: last.seq, ts: last.ts, step: last.step } },
          );
          f.updateCostMs = measured.cost;
          f.updateLatencyMs = measured.latency;
          if (variant === 'tail') {
            await view.page.locator('.vlist').evaluate((el) => void (el.scrollTop = 0));
            await view.page.waitForFunction(() => (window as unknown as BenchWindow).__bench.pageMs !== undefined);
            result.loadEarlierMs = await view.page.evaluate(() => (window as unknown as BenchWindow).__bench.pageMs!);
          }
          const violations = await view.violations();
          if (violations.length > 0 || view.errors.length > 0) throw new Error(`The page was not clean: ${JSON.stringify({ violations, errors: view.errors })}`);
        }
        await view.close();
      }
    }
    return result;
  } finally {
    await harness.close();
  }
}

function variantRows(label: string, f: VariantFigures, baseline?: VariantFigures): BenchRow[] {
  const p50 = (v: VariantFigures, pick: (o: OpenSample) => number) => percentile(v.opens.map(pick), 50);
  const row = (measure: string, pick: (o: OpenSample) => number): BenchRow => ({
    measure,
    p50_ms: p50(f, pick),
    ...(baseline && { baseline_ms: p50(baseline, pick), ratio: p50(f, pick) / p50(baseline, pick) }),
  });
  return [
    { ...row(`open, ${label}`, (o) => o.totalMs), max_ms: Math.max(...f.opens.map((o) => o.totalMs)), samples: f.opens.length, target_ms: TARGET_OPEN_MS, sent_events: f.sentEvents, sent_kb: f.sentBytes / 1024 },
    row('  startup (ui/ready sent, view mounted, validators built)', (o) => o.startupMs),
    row('    of which: page and bundle arrive', (o) => o.scriptArrivedMs),
    row('    of which: bundle runs', (o) => o.startupMs - o.scriptArrivedMs),
    row('    ui/ready sent at', (o) => o.readySentMs),
    row('    validators built at', (o) => o.validatorsBuiltMs),
    row('  delivery of the reset', (o) => o.deliveryMs),
    row('  view: validate, fold, render', (o) => o.viewMs),
    {
      measure: `append one update: work (${label})`,
      p50_ms: percentile(f.updateCostMs, 50),
      p95_ms: percentile(f.updateCostMs, 95),
      ...(baseline && { baseline_p95_ms: percentile(baseline.updateCostMs, 95) }),
      max_ms: Math.max(...f.updateCostMs),
      samples: f.updateCostMs.length,
      target_ms: TARGET_UPDATE_MS,
    },
    { measure: `append one update: latency to frame (${label})`, p50_ms: percentile(f.updateLatencyMs, 50), p95_ms: percentile(f.updateLatencyMs, 95), samples: f.updateLatencyMs.length },
  ];
}

export const webviewBench: BenchModule = {
  name: 'webview',
  description: 'chat webview: open with a 5,000-message transcript (tail vs whole log), append one update, load earlier (headless Chromium)',
  async run(log): Promise<BenchReport> {
    const load = loadavg()[0] ?? 0;
    const f = await measureChatView({ log });
    const openP50 = percentile(f.tail.opens.map((o) => o.totalMs), 50);
    const fullP50 = percentile(f.full.opens.map((o) => o.totalMs), 50);
    const updateP95 = percentile(f.tail.updateCostMs, 95);
    return {
      rows: [
        ...variantRows('from the tail', f.tail, f.full),
        ...variantRows('whole log, the baseline', f.full),
        { measure: 'host: cut the tail and prelude (Node)', p50_ms: percentile(f.cutTailMs, 50), samples: f.cutTailMs.length },
        { measure: 'load earlier: one page, reply to frame', p50_ms: f.loadEarlierMs, samples: 1 },
      ],
      notes: [
        `${f.messages.toLocaleString('en-US')} messages (${f.events.toLocaleString('en-US')} events); the tail reset sends ${f.tail.sentEvents.toLocaleString('en-US')} events (${(f.tail.sentBytes / 1024).toFixed(0)} KB) instead of ${f.full.sentEvents.toLocaleString('en-US')} (${(f.full.sentBytes / 1024).toFixed(0)} KB); ${f.tail.mountedRows} rows in the DOM once open.`,
        `Open p50 ${openP50.toFixed(0)} ms from the tail vs ${fullP50.toFixed(0)} ms with the whole log in the same run (ratio ${(openP50 / fullP50).toFixed(2)}): target ${TARGET_OPEN_MS} ms ${openP50 <= TARGET_OPEN_MS ? 'met' : 'MISSED'}.`,
        `Update p95 ${updateP95.toFixed(1)} ms (whole log: ${percentile(f.full.updateCostMs, 95).toFixed(1)} ms): target ${TARGET_UPDATE_MS} ms ${updateP95 <= TARGET_UPDATE_MS ? 'met' : 'MISSED'}.`,
        `Load average when the bench started: ${load.toFixed(2)} (figures from a busy machine run slow).`,
      ],
    };
  },
};
