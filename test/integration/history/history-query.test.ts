// The WAMP spec draft's get_events keywords (rfc/text/advanced/pubsub_event_history.md) end to
// end with AutobahnJS against a real Gateway and history file: publish order unless reverse,
// paging by after_/before_publication, time bounds from the timestamps the answer carries, a
// pattern subscription narrowed to one topic, the same answers after a restart, and clear
// errors for a publication that is not stored and for unknown keywords.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { GatewayConfig } from '../../../src/config/types';
import { Gateway } from '../../../src/gateway';
import { quietLogger } from '../../../src/util/logger';
import { tempDir, testConfig, until } from '../support/gateway';
import { abErrorOf, openAutobahn, type AbClient } from '../support/third-party';

let dir: ReturnType<typeof tempDir>;
before(() => {
  dir = tempDir('wampgate-history-query-');
});
after(() => dir.remove());

const realms: GatewayConfig['realms'] = [{ name: 'realm1', history: [{ uri: 'plant.', match: 'prefix', maxEvents: 100 }] }];

async function startGateway(): Promise<{ gateway: Gateway; wsUrl: string }> {
  const config = testConfig(join(dir.path, 'gw.sock'), {}, realms);
  config.dataDir = join(dir.path, 'data');
  const gateway = await Gateway.start(config, { logger: quietLogger });
  const ws = gateway.listeners[0]?.address as { port: number };
  return { gateway, wsUrl: `ws://127.0.0.1:${ws.port}/ws` };
}

interface HistoryEvent {
  publication: number;
  topic: string;
  args: unknown[];
  timestamp: string;
}

test('get_events with the draft keywords: order, paging, time bounds, topic, after a restart, errors', async () => {
  let { gateway, wsUrl } = await startGateway();
  let ab: AbClient | undefined;
  try {
    ab = await openAutobahn({ url: wsUrl, serializer: 'json' });
    const pubs: number[] = [];
    // Two groups a few milliseconds apart, so the second group's timestamps are all later.
    for (let i = 1; i <= 10; i++) {
      if (i === 6) {
        const t = Date.now();
        await until(() => Date.now() > t + 2, 'the clock to move past the first group');
      }
      const topic = i % 2 ? 'plant.a' : 'plant.b';
      pubs.push(((await ab.session.publish(topic, [i], {}, { acknowledge: true })) as { id: number }).id);
    }
    const sub = await ab.session.subscribe('plant.', () => undefined, { match: 'prefix' });
    const call = (kwargs: Record<string, unknown>): Promise<HistoryEvent[]> =>
      ab?.session.call('wamp.subscription.get_events', [sub.id], kwargs) as Promise<HistoryEvent[]>;
    const n = (events: HistoryEvent[]): unknown[] => events.map((e) => e.args[0]);

    assert.deepEqual(n((await ab.session.call('wamp.subscription.get_events', [sub.id, 3])) as HistoryEvent[]), [10, 9, 8], "Crossbar.io's form: newest first");
    assert.deepEqual(n(await call({ limit: 3, reverse: false })), [1, 2, 3], 'a draft keyword: publish order');
    assert.deepEqual(n(await call({ limit: 3, reverse: true })), [10, 9, 8]);
    // Paging forward: pass the last publication of each page.
    const page1 = await call({ limit: 4, after_publication: pubs[1] });
    assert.deepEqual(n(page1), [3, 4, 5, 6]);
    assert.deepEqual(n(await call({ limit: 4, after_publication: page1[3]?.publication })), [7, 8, 9, 10]);
    assert.deepEqual(n(await call({ limit: 4, reverse: true, before_publication: pubs[4] })), [4, 3, 2, 1], 'paging backwards');
    assert.deepEqual(n(await call({ limit: 100, from_publication: pubs[2], until_publication: pubs[5] })), [3, 4, 5, 6], 'from/until include the named events');
    assert.deepEqual(n(await call({ limit: 100, topic: 'plant.b' })), [2, 4, 6, 8, 10], 'one topic of a prefix subscription');
    assert.deepEqual(await call({ topic: 'plant.zzz' }), [], 'a topic with no history');

    const all = await call({ limit: 100, reverse: false });
    const sixth = all[5] as HistoryEvent;
    const fifth = all[4] as HistoryEvent;
    assert.ok(Date.parse(sixth.timestamp) > Date.parse(fifth.timestamp), 'the groups have distinct timestamps');
    assert.deepEqual(n(await call({ limit: 100, from_time: sixth.timestamp })), [6, 7, 8, 9, 10], 'from_time includes its own instant');
    assert.deepEqual(n(await call({ limit: 100, before_time: sixth.timestamp })), [1, 2, 3, 4, 5], 'before_time excludes it');
    assert.deepEqual(n(await call({ limit: 100, until_time: fifth.timestamp, after_publication: pubs[2] })), [4, 5], 'bounds are combined (AND)');

    const missing = await abErrorOf(call({ after_publication: 12345 }));
    assert.equal(missing.error, 'wamp.error.invalid_argument');
    assert.match(String(missing.args[0]), /publication 12345 is not in the history of subscription/);
    const unknown = await abErrorOf(call({ since: 'yesterday' }));
    assert.equal(unknown.error, 'wamp.error.invalid_argument');
    assert.match(String(unknown.args[0]), /unknown argument since/);
    await ab.close();
    ab = undefined;
    await gateway.stop();

    ({ gateway, wsUrl } = await startGateway());
    ab = await openAutobahn({ url: wsUrl, serializer: 'cbor' });
    const sub2 = await ab.session.subscribe('plant.', () => undefined, { match: 'prefix' });
    const again = (await ab.session.call('wamp.subscription.get_events', [sub2.id], { limit: 3, after_publication: pubs[6] })) as HistoryEvent[];
    assert.deepEqual(n(again), [8, 9, 10], 'the same paging after a restart (seqs and publications are stored)');
  } finally {
    await ab?.close();
    await gateway.stop();
  }
});
