// The uplink's buffer limits with a real SQLite file and a real cloud router (both routers in this
// process, linked over WebSocket through a gate the test opens): count, bytes and age limits drop
// as configured (per rule policy and priority), and a full disk is survived.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WampClient } from '../../../src/client/wamp-client';
import { validateConfig } from '../../../src/config/schema';
import { Gateway } from '../../../src/gateway';
import type { Dict } from '../../../src/protocol/messages';
import { quietLogger } from '../../../src/util/logger';
import { uplinkPartFactory, type UplinkPart } from '../../../src/uplink/part';
import { uplinkSection } from '../../../src/uplink/uplink-section';
import type { UplinkStatus } from '../../../src/uplink/uplink';
import { connectClient } from '../../helpers/local-router';
import { LinkGate, tempDir, waitFor } from '../../fixtures/uplink-harness';

const dir = tempDir();
let cloud: Gateway;
let cloudClient: WampClient;
let gate: LinkGate;

before(async () => {
  const { config } = validateConfig({ realms: [{ name: 'cloud' }], listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: 0 }] });
  assert.ok(config);
  cloud = await Gateway.start(config, { logger: quietLogger });
  const address = cloud.listeners[0]?.address;
  assert.ok(address && 'port' in address);
  gate = await new LinkGate(address.port).listen();
  cloudClient = await connectClient(cloud.router, 'cloud');
});

after(async () => {
  await cloudClient?.close();
  await gate?.shutdown();
  await cloud?.stop();
  dir.remove();
});

interface Linked {
  gateway: Gateway;
  local: WampClient;
  status(): UplinkStatus;
  stop(): Promise<void>;
}

async function startLinked(name: string, buffer: Dict, forward: Dict[]): Promise<Linked> {
  const raw = {
    realms: [{ name: 'realm1' }],
    listeners: [],
    dataDir: dir.path,
    uplink: {
      url: `ws://127.0.0.1:${gate.port}/ws`,
      realm: 'cloud',
      gatewayId: name,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      statsIntervalMs: 0,
      buffer: { path: `${name}.sqlite`, ...buffer },
      forward,
    },
  };
  const { config, problems } = validateConfig(raw, { sections: [uplinkSection] });
  assert.deepEqual(problems, []);
  assert.ok(config);
  const gateway = await Gateway.start(config, { logger: quietLogger, parts: [uplinkPartFactory] });
  const part = gateway.parts.find((p) => p.name === 'uplink') as UplinkPart;
  const local = await connectClient(gateway.router, 'realm1');
  return {
    gateway,
    local,
    status: () => part.running!.status(),
    stop: async () => {
      await local.close();
      await gateway.stop();
    },
  };
}

async function record(topic: string): Promise<Array<{ topic: string; v: unknown }>> {
  const got: Array<{ topic: string; v: unknown }> = [];
  await cloudClient.subscribe(topic, (args, _k, details) => got.push({ topic: String(details.topic), v: args[0] }), { match: 'prefix' });
  return got;
}

async function publishAll(l: Linked, topic: string, values: unknown[]): Promise<void> {
  const before = l.status().counters.accepted + l.status().counters.refused;
  for (const v of values) await l.local.publish(topic, [v]);
  await waitFor(`${values.length} events handled`, () => l.status().counters.accepted + l.status().counters.refused >= before + values.length);
}

test('count limit: reject-newest and drop-oldest per rule, lower priorities evicted first; survivors arrive in order', async () => {
  gate.close();
  const l = await startLinked('cnt', { maxCount: 10 }, [
    { name: 'keep-old', direction: 'up', type: 'event', local: 'old.', remote: 'site.cnt.old.', dropPolicy: 'reject-newest' },
    { name: 'keep-new', direction: 'up', type: 'event', local: 'new.', remote: 'site.cnt.new.', dropPolicy: 'drop-oldest' },
    { name: 'alarms', direction: 'up', type: 'event', local: 'alarm.', remote: 'site.cnt.alarm.', priority: 1 },
  ]);
  try {
    await publishAll(l, 'old.v', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    let s = l.status();
    assert.equal(s.outbox.count, 10);
    assert.equal(s.outbox.drops['max-count'], 5, 'the newest 5 were rejected');
    await publishAll(l, 'new.v', [0, 1, 2, 3, 4]);
    await publishAll(l, 'alarm.v', [0, 1]);
    s = l.status();
    assert.equal(s.outbox.count, 10);
    assert.equal(s.outbox.drops['max-count'], 12);
    assert.deepEqual(s.outbox.dropsBySource, { 'keep-old': 12 }, 'every drop counted against its rule');

    const got = await record('site.cnt.');
    gate.open();
    await waitFor('the survivors upstream', () => got.length >= 10);
    assert.deepEqual(
      got.map((g) => `${g.topic.split('.')[2] ?? ''}${String(g.v)}`),
      ['old7', 'old8', 'old9', 'new0', 'new1', 'new2', 'new3', 'new4', 'alarm0', 'alarm1'],
    );
  } finally {
    await l.stop();
  }
});

test('byte limit and age limit drop as configured, and the drops are visible', async () => {
  gate.close();
  const rule = [{ name: 'r', direction: 'up', type: 'event', local: 'b.', remote: 'site.bytes.b.' }];
  const bytes = await startLinked('bytes', { maxBytes: 2000 }, rule);
  try {
    await publishAll(
      bytes,
      'b.v',
      Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(300, '.')),
    );
    const s = bytes.status();
    assert.ok(s.outbox.bytes <= 2000);
    assert.ok(s.outbox.count > 0 && s.outbox.count < 20);
    assert.equal(s.outbox.drops['max-bytes'], 20 - s.outbox.count);
  } finally {
    await bytes.stop();
  }
  const aged = await startLinked('aged', { maxAgeMs: 100, expireIntervalMs: 20 }, [{ ...rule[0], remote: 'site.aged.b.' }]);
  try {
    await publishAll(aged, 'b.v', [1, 2, 3, 4, 5]);
    await waitFor('the old entries expired', () => aged.status().outbox.drops['max-age'] === 5);
    assert.equal(aged.status().outbox.count, 0);
  } finally {
    await aged.stop();
  }
});

test('a full disk (max_page_count) is survived: drops counted, buffering resumes once acks free space', async () => {
  gate.close();
  const l = await startLinked('full', { maxFileBytes: 64 * 1024 }, [{ name: 'big', direction: 'up', type: 'event', local: 'big.', remote: 'site.full.big.' }]);
  try {
    await publishAll(
      l,
      'big.v',
      Array.from({ length: 100 }, (_, i) => `${i}:`.padEnd(2000, 'x')),
    );
    let s = l.status();
    assert.ok(s.outbox.drops['disk-full'] > 0, 'some appends refused for lack of space');
    assert.equal(s.outbox.diskFull, true);
    assert.equal(s.outbox.count + s.outbox.drops['disk-full'], 100);
    // Still serving: a call on the gateway works.
    assert.equal(((await l.local.call('wampgate.uplink.status')).args[0] as Dict).gatewayId, 'full');

    const got = await record('site.full.');
    gate.open();
    await waitFor('the buffer drained', () => l.status().outbox.count === 0 && l.status().inflight === 0);
    await publishAll(l, 'big.v', ['after']);
    s = l.status();
    assert.equal(s.outbox.diskFull, false);
    await waitFor('the new event upstream', () => got.some((g) => g.v === 'after'));
  } finally {
    await l.stop();
  }
});
