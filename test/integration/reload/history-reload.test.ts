// Live reload of event history rules, with AutobahnJS against a real Gateway and history file:
// a reload gives a realm its first rules (the file is opened, later WELCOMEs announce it,
// get_events answers), lowers a count (the store trims as at a start), adds a realm with rules
// (which also gets the meta API), keeps the history's status across unrelated reloads, and
// removes every rule (history_unavailable, no longer announced).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../../src/config/schema';
import type { GatewayConfig } from '../../../src/config/types';
import { Gateway } from '../../../src/gateway';
import { configPlugins } from '../../../src/cli/wiring';
import { quietLogger } from '../../../src/util/logger';
import { freePort } from '../bridges/mqtt-helpers';
import { tempDir } from '../support/gateway';
import { abErrorOf, openAutobahn, type AbClient } from '../support/third-party';

let dir: ReturnType<typeof tempDir>;
before(() => {
  dir = tempDir('wampgate-history-reload-');
});
after(() => dir.remove());

function config(port: number, realms: unknown[], extra: Record<string, unknown> = {}): GatewayConfig {
  const { config: c, problems } = validateConfig(
    {
      dataDir: join(dir.path, 'data'),
      realms,
      listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port }],
      status: { enabled: false },
      health: { enabled: false },
      ...extra,
    },
    configPlugins,
  );
  assert.deepEqual(problems, [], 'the test config is valid');
  return c as GatewayConfig;
}

const announced = (ab: AbClient): unknown => (ab.welcome.roles as { broker: { features: Record<string, unknown> } }).broker.features.event_history;

test('history rules change with a live reload: opened, trimmed, a new realm, status kept, removed', async () => {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}/ws`;
  const gateway = await Gateway.start(config(port, [{ name: 'realm1' }]), { logger: quietLogger });
  const history = (): Gateway['history'] => gateway.history;
  const clients: AbClient[] = [];
  const join = async (realm = 'realm1'): Promise<AbClient> => {
    const ab = await openAutobahn({ url, serializer: 'json' }, realm);
    clients.push(ab);
    return ab;
  };
  try {
    const early = await join();
    assert.equal(announced(early), undefined, 'no history: not announced');
    const sub = await early.session.subscribe('plant.a', () => undefined);
    assert.equal((await abErrorOf(early.session.call('wamp.subscription.get_events', [sub.id]))).error, 'wamp.error.history_unavailable');
    assert.equal(history(), undefined);

    const withRules = config(port, [{ name: 'realm1', history: [{ uri: 'plant.', match: 'prefix', maxEvents: 5 }] }]);
    const report = await gateway.reload(withRules);
    assert.equal(report.history, true);
    assert.deepEqual(report.restartRequired, []);
    assert.equal(report.realms.realm1, 'kept', "the realm's sessions stay");
    assert.ok(history(), 'the reload opened the history');
    assert.equal(announced(await join()), true, 'a session that joins now sees it announced');
    for (let i = 1; i <= 8; i++) await early.session.publish('plant.a', [i], {}, { acknowledge: true });
    const last = async (ab: AbClient, id: number): Promise<unknown[]> =>
      ((await ab.session.call('wamp.subscription.get_events', [id, 100])) as Array<{ args: unknown[] }>).map((e) => e.args[0]);
    assert.deepEqual(await last(early, sub.id), [8, 7, 6, 5, 4], 'recorded from the reload on, kept per the rule');
    assert.ok(gateway.partStatus().history, 'the history shows in the status');

    // An unrelated change: the history's status part is not dropped by the parts' reload.
    await gateway.reload(config(port, [{ name: 'realm1', history: [{ uri: 'plant.', match: 'prefix', maxEvents: 5 }] }], { limits: { maxPendingCalls: 50 } }));
    assert.ok(gateway.partStatus().history, 'still in the status after a reload that did not touch it');

    await gateway.reload(config(port, [{ name: 'realm1', history: [{ uri: 'plant.', match: 'prefix', maxEvents: 2 }] }]));
    assert.deepEqual(await last(early, sub.id), [8, 7], 'a lower count trims the stored events at once');
    assert.equal(history()?.status().evicted.count, 3 + 3, 'evictions counted (3 by the first rule, 3 by the lower count)');

    await gateway.reload(
      config(port, [
        { name: 'realm1', history: [{ uri: 'plant.', match: 'prefix', maxEvents: 2 }] },
        { name: 'realm2', history: [{ uri: 'door.', match: 'prefix' }] },
      ]),
    );
    const other = await join('realm2');
    assert.equal(announced(other), true);
    assert.equal(typeof (await other.session.call('wamp.session.count')), 'number', 'a realm added by a reload has the meta API');
    await other.session.publish('door.front', ['open'], {}, { acknowledge: true });
    const doorSub = await other.session.subscribe('door.', () => undefined, { match: 'prefix' });
    assert.deepEqual(await last(other, doorSub.id), ['open']);

    await gateway.reload(config(port, [{ name: 'realm1' }, { name: 'realm2' }]));
    assert.equal((await abErrorOf(early.session.call('wamp.subscription.get_events', [sub.id]))).error, 'wamp.error.history_unavailable');
    assert.equal(announced(await join()), undefined, 'no longer announced');
    await early.session.publish('plant.a', [9], {}, { acknowledge: true });
    assert.equal(history()?.status().rows, 0, 'a topic no rule covers loses its events, as at a start');
  } finally {
    for (const c of clients) await c.close();
    await gateway.stop();
  }
});

test('a reload whose history file cannot be reopened says so, keeps the rest, counts what is not recorded, and recovers', async () => {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}/ws`;
  const rules = (maxEvents: number): unknown[] => [{ name: 'realm1', history: [{ uri: 'plant.', match: 'prefix', maxEvents }] }];
  const gateway = await Gateway.start(config(port, rules(5)), { logger: quietLogger });
  const history = (): Gateway['history'] => gateway.history;
  let ab: AbClient | undefined;
  try {
    ab = await openAutobahn({ url, serializer: 'json' }, 'realm1');
    await ab.session.publish('plant.a', [1], {}, { acknowledge: true });
    // The open file is unlinked and a directory takes its name: reopening it must fail.
    const file = join(dir.path, 'data', 'history.sqlite');
    rmSync(file);
    mkdirSync(file);
    const report = await gateway.reload(config(port, rules(4), { limits: { maxPendingCalls: 40 } }));
    assert.match(report.failedParts.history ?? '', /./, 'the failure is in the report');
    assert.deepEqual(report.liveLimits, ['maxPendingCalls'], 'the rest of the reload holds');
    await ab.session.publish('plant.a', [2], {}, { acknowledge: true });
    const sub = await ab.session.subscribe('plant.a', () => undefined);
    const failed = await abErrorOf(ab.session.call('wamp.subscription.get_events', [sub.id]));
    assert.match(failed.error, /^wamp\.error\./, 'a read answers with an error, the session stays');
    assert.equal(history()?.status().dropped.storage_error, 1, 'the publication meanwhile is counted as not recorded');

    rmSync(file, { recursive: true });
    const again = await gateway.reload(config(port, rules(3)));
    assert.deepEqual(again.failedParts, {}, 'the next reload opens it again');
    await ab.session.publish('plant.a', [3], {}, { acknowledge: true });
    const events = (await ab.session.call('wamp.subscription.get_events', [sub.id])) as Array<{ args: unknown[] }>;
    assert.deepEqual(
      events.map((e) => e.args[0]),
      [3],
    );
  } finally {
    await ab?.close();
    await gateway.stop();
  }
});
