// Live reload (Gateway.reload, what SIGHUP and the admin part use) under live AutobahnJS sessions:
// each kind of change, and which sessions survive it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../src/config/schema';
import type { GatewayConfig } from '../../../src/config/types';
import { Gateway } from '../../../src/gateway';
import type { GatewayPart, PartFactory } from '../../../src/gateway-part';
import { fingerprint } from '../../../src/gateway-reload';
import { configDocument } from '../../../src/config/section';
import { configPlugins } from '../../../src/cli/wiring';
import { quietLogger } from '../../../src/util/logger';
import { openAutobahn, type AbClient } from '../support/third-party';
import { within } from '../support/gateway';

type Raw = Record<string, unknown>;

function rawConfig(ports: { ws: number }, overrides: Partial<Raw> = {}): Raw {
  return {
    realms: [
      {
        name: 'realm1',
        roles: [
          { name: 'app', permissions: [{ uri: '', match: 'prefix', allow: { publish: true, subscribe: true, call: true, register: true } }] },
          { name: 'device', permissions: [{ uri: 'sensors.', match: 'prefix', allow: { publish: true, subscribe: true } }] },
        ],
      },
      { name: 'spare', roles: [{ name: 'app', permissions: [{ uri: '', match: 'prefix', allow: { publish: true, subscribe: true } }] }] },
    ],
    listeners: [
      {
        name: 'ws',
        type: 'websocket',
        host: '127.0.0.1',
        port: ports.ws,
        auth: { ticket: { principals: [{ authid: 'dev1', role: 'device', ticket: 'one-ticket' }] }, anonymous: { role: 'app' } },
      },
    ],
    limits: { keepaliveIntervalMs: 0 },
    log: { level: 'error' },
    ...overrides,
  };
}

function parse(raw: Raw): GatewayConfig {
  const { config, problems } = validateConfig(raw, configPlugins);
  assert.ok(config, `test config is valid: ${JSON.stringify(problems)}`);
  return config;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A part that only records its starts and stops: which parts a reload restarts. */
function recordingParts(log: string[]): PartFactory {
  return (config) => {
    const status = configDocument(config).status;
    const section = status ? JSON.stringify(status) : 'none';
    const part: GatewayPart = {
      name: 'recorder',
      configKey: fingerprint(section),
      start: async () => void log.push(`start:${String(section)}`),
      stop: async () => void log.push(`stop:${String(section)}`),
      status: () => ({ kind: 'recorder', role: 'service', name: 'recorder', state: 'connected', since: null, lastError: null, counters: {} }),
    };
    return [part];
  };
}

async function setup(): Promise<{ gateway: Gateway; raw: Raw; url: string; events: string[]; done(): Promise<void> }> {
  // Port 0 throughout; the first start tells which port the listener got, and the config keeps it
  // so a reload that leaves the listener alone compares equal.
  const events: string[] = [];
  const first = parse(rawConfig({ ws: 0 }));
  const probe = await Gateway.start(first, { logger: quietLogger });
  const port = (probe.listeners[0]?.address as { port: number }).port;
  await probe.stop();
  const raw = rawConfig({ ws: port });
  const gateway = await Gateway.start(parse(raw), { logger: quietLogger, parts: [recordingParts(events)] });
  const clients: AbClient[] = [];
  return {
    gateway,
    raw,
    url: `ws://127.0.0.1:${port}/ws`,
    events,
    done: async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
      await gateway.stop();
    },
  };
}

const alive = async (c: AbClient, what: string): Promise<void> => {
  await within(c.session.publish('sensors.alive', [1], {}, { acknowledge: true }) as Promise<unknown>, `${what} can still publish`);
};

test('a principal added by reload can join at once; sessions already joined stay; a removed principal cannot join any more', async () => {
  const { gateway, raw, url, done } = await setup();
  try {
    const dev1 = await openAutobahn({ url }, 'realm1', { authmethods: ['ticket'], authid: 'dev1', onchallenge: () => 'one-ticket' });
    await assert.rejects(
      openAutobahn({ url }, 'realm1', { authmethods: ['ticket'], authid: 'dev2', onchallenge: () => 'two-ticket' }),
      /authentication_failed/,
    );
    const next = clone(raw);
    const listener = (next.listeners as Raw[])[0] as Raw;
    (((listener.auth as Raw).ticket as Raw).principals as Raw[]).splice(0, 1, { authid: 'dev2', role: 'device', ticket: 'two-ticket' });
    const report = await gateway.reload(parse(next));
    assert.equal(report.auth, true, 'the report says authentication was rebuilt');
    assert.equal(report.listeners.ws, 'kept', 'an auth-only change keeps the listener (and its sessions)');
    const dev2 = await openAutobahn({ url }, 'realm1', { authmethods: ['ticket'], authid: 'dev2', onchallenge: () => 'two-ticket' });
    await assert.rejects(
      openAutobahn({ url }, 'realm1', { authmethods: ['ticket'], authid: 'dev1', onchallenge: () => 'one-ticket' }),
      /authentication_failed/,
    );
    await alive(dev1, 'the session joined before the reload');
    await alive(dev2, 'the new principal');
    await dev1.close();
    await dev2.close();
  } finally {
    await done();
  }
});

test('permissions that shrink apply to the next action of a session already joined, which stays joined', async () => {
  const { gateway, raw, url, done } = await setup();
  try {
    const app = await openAutobahn({ url }, 'realm1');
    await within(app.session.publish('anything.goes', [], {}, { acknowledge: true }) as Promise<unknown>, 'publish before the reload');
    const next = clone(raw);
    const realm = (next.realms as Raw[])[0] as Raw;
    (realm.roles as Raw[])[0] = { name: 'app', permissions: [{ uri: 'sensors.', match: 'prefix', allow: { publish: true } }] };
    await gateway.reload(parse(next));
    await assert.rejects(app.session.publish('anything.goes', [], {}, { acknowledge: true }) as Promise<unknown>, (err: { error?: string }) => {
      assert.equal(err.error, 'wamp.error.not_authorized');
      return true;
    });
    await alive(app, 'the session whose permissions shrank');
    await app.close();
  } finally {
    await done();
  }
});

test('a realm removed by reload closes its sessions with close_realm; an added one accepts sessions; others stay', async () => {
  const { gateway, raw, url, done } = await setup();
  try {
    const stay = await openAutobahn({ url }, 'realm1');
    const spare = await openAutobahn({ url }, 'spare');
    const next = clone(raw);
    (next.realms as Raw[]).splice(1, 1, { name: 'fresh', roles: [{ name: 'app', permissions: [{ uri: '', match: 'prefix', allow: { publish: true } }] }] });
    const report = await gateway.reload(parse(next));
    assert.deepEqual(
      { spare: report.realms.spare, fresh: report.realms.fresh, realm1: report.realms.realm1 },
      { spare: 'removed', fresh: 'added', realm1: 'kept' },
    );
    const closed = await within(spare.closed, 'the session on the removed realm to be closed');
    assert.equal(closed.details.reason, 'wamp.close.close_realm');
    const fresh = await openAutobahn({ url }, 'fresh');
    await alive(stay, 'the session on the kept realm');
    await assert.rejects(openAutobahn({ url }, 'spare'), /no_such_realm/);
    await fresh.close();
    await stay.close();
  } finally {
    await done();
  }
});

test('a listener added by reload accepts connections; one whose settings changed restarts; session limits change live', async () => {
  const { gateway, raw, url, done } = await setup();
  try {
    const stay = await openAutobahn({ url }, 'realm1');
    const next = clone(raw);
    (next.listeners as Raw[]).push({ name: 'second', type: 'websocket', host: '127.0.0.1', port: 0, path: '/two' });
    next.limits = { keepaliveIntervalMs: 0, maxPendingCalls: 7 };
    const report = await gateway.reload(parse(next));
    assert.equal(report.listeners.second, 'added');
    assert.equal(report.listeners.ws, 'kept');
    assert.deepEqual(report.liveLimits, ['maxPendingCalls']);
    assert.equal(gateway.router.limits.maxPendingCalls, 7, 'the router reads the new limit');
    const second = gateway.listeners.find((l) => l.config.name === 'second');
    assert.ok(second, 'the new listener runs');
    const port = (second.address as { port: number }).port;
    const viaSecond = await openAutobahn({ url: `ws://127.0.0.1:${port}/two` }, 'realm1');
    await alive(stay, 'the session on the kept listener');
    // A changed listener closes (its sessions with it) and opens with the new settings.
    const moved = clone(next);
    ((moved.listeners as Raw[])[1] as Raw).path = '/three';
    const again = await gateway.reload(parse(moved));
    assert.equal(again.listeners.second, 'restarted');
    await within(viaSecond.closed, 'the session on the restarted listener to be closed');
    const port3 = (gateway.listeners.find((l) => l.config.name === 'second')?.address as { port: number }).port;
    const viaThree = await openAutobahn({ url: `ws://127.0.0.1:${port3}/three` }, 'realm1');
    await alive(stay, 'the session on the kept listener after the restart of the other');
    await viaThree.close();
    // Removing it closes its listener; the first keeps serving.
    await gateway.reload(parse(raw));
    assert.equal(gateway.listeners.length, 1);
    await alive(stay, 'the session on the kept listener after the removal');
    await stay.close();
  } finally {
    await done();
  }
});

test('a part is kept when its section is unchanged and restarted when it changed', async () => {
  const { gateway, raw, events, done } = await setup();
  try {
    assert.deepEqual(events, ['start:none']);
    const limitsOnly = clone(raw);
    limitsOnly.limits = { keepaliveIntervalMs: 0, maxPendingCalls: 9 };
    const kept = await gateway.reload(parse(limitsOnly));
    assert.equal(kept.parts.recorder, 'kept');
    assert.deepEqual(events, ['start:none'], 'a change elsewhere does not touch the part');
    const changed = clone(limitsOnly);
    changed.status = { enabled: false };
    const restarted = await gateway.reload(parse(changed));
    assert.equal(restarted.parts.recorder, 'restarted');
    assert.deepEqual(events, ['start:none', 'stop:none', 'start:{"enabled":false}'], 'the old part stopped before the new one started');
  } finally {
    await done();
  }
});

test('a reload whose authentication cannot be built changes nothing', async () => {
  const { gateway, raw, url, done } = await setup();
  try {
    const stay = await openAutobahn({ url }, 'realm1');
    const next = clone(raw);
    const listener = (next.listeners as Raw[])[0] as Raw;
    ((listener.auth as Raw).ticket as Raw).principals = [{ authid: 'dev9', role: 'device', ticket: { env: 'WAMPGATE_TEST_UNSET_SECRET_VAR' } }];
    (next.realms as Raw[]).pop();
    await assert.rejects(gateway.reload(parse(next)), /WAMPGATE_TEST_UNSET_SECRET_VAR/);
    assert.ok(gateway.router.findRealm('spare'), 'the realm the rejected config dropped is still there');
    await openAutobahn({ url }, 'realm1', { authmethods: ['ticket'], authid: 'dev1', onchallenge: () => 'one-ticket' }).then((c) => c.close());
    await alive(stay, 'the session joined before');
    await stay.close();
  } finally {
    await done();
  }
});
