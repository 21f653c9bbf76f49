/**
 * Context compaction in real runs: an agent whose conversation nears its token
 * budget gets its older turns summarised and carries on; a provider's
 * "context too long" answer triggers the same and the call is retried.
 */
import assert from 'node:assert/strict';
import { MemorySandbox } from '../support/memory-sandbox.ts';
import { roleOf, scriptByRole } from '../support/fake-provider/index.ts';
import type { FakeRequest, FakeResponse } from '../support/fake-provider/types.ts';
import { createHarness, ofType, PROVIDERS, type Harness } from '../support/team-harness.ts';

const call = (name: string, args: Record<string, unknown>): FakeResponse => ({ toolCalls: [{ name, args }] });
const bigFile = (tag: string) => `${tag}\n${'lorem ipsum dolor sit amet '.repeat(200)}\n`;

function sandboxWithBigFiles(): MemorySandbox {
  return new MemorySandbox({ 'a.txt': bigFile('A'), 'b.txt': bigFile('B'), 'c.txt': bigFile('C'), 'd.txt': bigFile('D'), 'e.txt': bigFile('E') });
}

const firstUserText = (req: FakeRequest): string => {
  const m = req.messages[0];
  return m && m.role === 'user' ? m.content : '';
};

for (const provider of PROVIDERS) {
  describe(`context compaction over ${provider}`, function () {
    this.timeout(30_000);
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('summarises older turns when the prompt nears the budget and continues', async () => {
      const devRequests: FakeRequest[] = [];
      const reads = ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt'];
      h = await createHarness({
        provider,
        sandbox: sandboxWithBigFiles(),
        respond: scriptByRole(
          {
            orchestrator: [call('delegate', { agent: 'developer', task: 'Read every .txt file and report.' }), call('finish', { summary: 'Reported.', verdict: 'fail' })],
            // Stateful on purpose: compaction changes how many turns a request shows.
            developer: Array.from({ length: 12 }, () => (req: FakeRequest) => {
              devRequests.push(req);
              const n = devRequests.length - 1;
              return n < reads.length ? call('read_file', { path: reads[n]! }) : call('finish', { summary: 'Read all five files.' });
            }),
          },
          { unmatched: () => ({ text: 'Read a.txt and b.txt: both are lorem ipsum filler.' }) },
        ),
      });
      const config = h.config({ roles: { developer: { contextTokens: 4000 } } });
      const handle = await h.runtime.start('Read files', { config });
      const outcome = await handle.done;
      assert.equal(outcome.status, 'failed', 'the orchestrator finished with verdict fail, as scripted');
      assert.equal(outcome.summary, 'Reported.');

      const events = await h.runtime.events(handle.runId);
      const compactions = ofType(events, 'context.compacted');
      assert.ok(compactions.length >= 1, 'at least one compaction happened');
      assert.ok(compactions[0]!.replacedMessages >= 2);
      assert.ok(compactions[0]!.usage!.outputTokens > 0, 'the summarising call is accounted');
      const summaryCalls = h.fake.requests.filter((r) => roleOf(r) === undefined);
      assert.equal(summaryCalls.length, compactions.length);
      assert.match(summaryCalls[0]!.messages[0]!.role === 'user' ? summaryCalls[0]!.messages[0]!.content : '', /<conversation>/);

      // After compaction the developer sees its task, the summary and a short tail.
      const after = devRequests.find((r) => firstUserText(r).includes('<earlier-work-summary>'));
      assert.ok(after, 'a later request carries the summary');
      assert.match(firstUserText(after), /^Read every \.txt file and report\./);
      assert.match(firstUserText(after), /both are lorem ipsum filler/);
      assert.equal(after.messages[1]?.role, 'assistant', 'the kept tail starts at an assistant turn');
      const maxBefore = Math.max(...devRequests.filter((r) => r !== after && !firstUserText(r).includes('earlier-work')).map((r) => r.messages.length));
      assert.ok(after.messages.length < maxBefore);
    });

    it('compacts and retries when the provider says the context is too long', async () => {
      let devCalls = 0;
      h = await createHarness({
        provider,
        sandbox: sandboxWithBigFiles(),
        respond: scriptByRole(
          {
            orchestrator: [call('delegate', { agent: 'developer', task: 'Read files.' }), call('finish', { summary: 'Done.', verdict: 'fail' })],
            developer: Array.from({ length: 10 }, () => (req: FakeRequest) => {
              devCalls += 1;
              if (devCalls <= 3) return call('read_file', { path: ['a.txt', 'b.txt', 'c.txt'][devCalls - 1]! });
              if (devCalls === 4) {
                return { error: provider === 'openai' ? { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' } : { status: 413, type: 'request_too_large' } };
              }
              assert.match(firstUserText(req), /earlier-work-summary/);
              return call('finish', { summary: 'Done after compaction.' });
            }),
          },
          { unmatched: () => ({ text: 'Read a, b and c.' }) },
        ),
      });
      const handle = await h.runtime.start('Read', { config: h.config() });
      const outcome = await handle.done;
      assert.equal(outcome.summary, 'Done.');
      const events = await h.runtime.events(handle.runId);
      assert.equal(ofType(events, 'context.compacted').length, 1);
      assert.equal(ofType(events, 'agent.finished').find((e) => e.agentId === 'developer-2')?.summary, 'Done after compaction.');
    });
  });
}
