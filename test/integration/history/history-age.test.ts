// maxAgeMs through a running gateway: a config file read by the real loader, a real SQLite file in
// the data dir, AutobahnJS reading wamp.subscription.get_events. Events older than their rule's
// age are left out of the answer and are removed from the file and counted (evicted.age) while
// the gateway runs, and the younger ones are still there after a restart. Ages are the smallest
// the config allows (1 s); waits are bounded polls, never timed assertions.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configPlugins } from '../../../src/cli/wiring';
import { loadConfigFile } from '../../../src/config/load';
import { Gateway } from '../../../src/gateway';
import { quietLogger } from '../../../src/util/logger';
import { tempDir, until, WAIT_MS } from '../support/gateway';
import { openAutobahn, type AbClient } from '../support/third-party';

let dir: ReturnType<typeof tempDir>;
before(() => {
  dir = tempDir('wampgate-history-age-');
});
after(() => dir.remove());

interface HistoryEvent {
  publication: number;
  args: unknown[] | null;
}

/** A gateway from a config file: sensors.fast keeps events 1 s, sensors.slow has no age limit. */
async function start(): Promise<{ gateway: Gateway; wsUrl: string }> {
  const file = join(dir.path, 'wampgate.json');
  writeFileSync(
    file,
    JSON.stringify({
      dataDir: join(dir.path, 'data'),
      realms: [
        {
          name: 'realm1',
          history: [
            { uri: 'sensors.fast', maxEvents: 100, maxAgeMs: 1000 },
            { uri: 'sensors.slow', maxEvents: 100 },
          ],
        },
      ],
      listeners: [{ name: 'websocket', type: 'websocket', host: '127.0.0.1', port: 0, path: '/ws' }],
      status: { enabled: false },
      log: { level: 'warn' },
    }),
  );
  const gateway = await Gateway.start(loadConfigFile(file, configPlugins), { logger: quietLogger });
  const ws = gateway.listeners[0]?.address as { port: number };
  return { gateway, wsUrl: `ws://127.0.0.1:${ws.port}/ws` };
}

/** A reader of one session: subscribes to each topic once, then asks for its history. */
function historyReader(ab: AbClient): (topic: string) => Promise<HistoryEvent[]> {
  const subs = new Map<string, number>();
  return async (topic) => {
    let id = subs.get(topic);
    if (id === undefined) subs.set(topic, (id = (await ab.session.subscribe(topic, () => undefined)).id));
    return (await ab.session.call('wamp.subscription.get_events', [id, 100])) as HistoryEvent[];
  };
}

test('events past maxAgeMs are not returned by get_events, are evicted from the file and counted, and stay gone after a restart', async () => {
  let { gateway, wsUrl } = await start();
  let ab: AbClient | undefined;
  try {
    ab = await openAutobahn({ url: wsUrl, serializer: 'json' });
    let getEvents = historyReader(ab);
    for (let i = 1; i <= 3; i++) await ab.session.publish('sensors.fast', [i], {}, { acknowledge: true });
    const kept: number[] = [];
    for (let i = 1; i <= 2; i++) {
      const pub = await ab.session.publish('sensors.slow', [i], {}, { acknowledge: true });
      kept.push((pub as { id: number }).id);
    }
    const status = (): { rows: number; age: number } => {
      const s = gateway.history?.status();
      return { rows: s?.rows ?? -1, age: s?.evicted.age ?? -1 };
    };
    assert.equal((await getEvents('sensors.fast')).length, 3, 'young events are returned');
    assert.equal(status().rows, 5);

    // No timed assertion: wait (bounded) until the answer leaves them out, then until the sweep
    // has removed them from the file and counted them.
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const answer = await getEvents('sensors.fast');
      if (answer.length === 0 && status().age === 3) break;
      if (Date.now() > deadline)
        assert.fail(
          `waited ${WAIT_MS} ms for sensors.fast events to pass their 1 s age, leave the answer and be evicted (answer ${answer.length}, evicted.age ${status().age})`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(await getEvents('sensors.fast'), [], 'expired events are not returned');
    assert.deepEqual(status(), { rows: 2, age: 3 }, 'three evicted by age, counted; the two without an age limit stay');

    // A new event on the fast topic is returned alone: the expired ones do not come back.
    const fresh = (await ab.session.publish('sensors.fast', ['fresh'], {}, { acknowledge: true })) as { id: number };
    const now = await getEvents('sensors.fast');
    if (now.length === 1) assert.equal(now[0]?.publication, fresh.id);
    else assert.deepEqual(now, [], 'the fresh event can itself expire on a slow machine, but no older one is returned');

    await ab.close();
    ab = undefined;
    await gateway.stop();
    ({ gateway, wsUrl } = await start());
    ab = await openAutobahn({ url: wsUrl, serializer: 'json' });
    getEvents = historyReader(ab);
    assert.deepEqual(
      (await getEvents('sensors.slow')).map((e) => e.publication),
      [...kept].reverse(),
      'events without an age limit survive the restart',
    );
    await until(() => (gateway.history?.status().rows ?? -1) === 2, 'the fresh sensors.fast event to expire after the restart');
    assert.deepEqual(await getEvents('sensors.fast'), [], 'nothing past its age after the restart');
  } finally {
    await ab?.close();
    await gateway.stop();
  }
});
