import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgesFromParts, toLinkState, uplinkFromParts } from '../../../src/ops/part-status';
import { redactUrl } from '../../../src/util/redact-url';

test('a part with a bridge kind becomes a bridge; others (ops, uplink) do not', () => {
  const bridges = bridgesFromParts({
    ops: { kind: 'ops', url: 'http://127.0.0.1:8089/' },
    uplink: { state: 'connected' },
    greenhouse: { kind: 'mqtt', state: 'reconnecting', since: '2024-01-02T03:04:05.000Z', lastError: 'ECONNREFUSED', counters: { received: 3, bogus: 'x' } },
    weather: { kind: 'serial-line', name: 'weather-station', state: 'connected', since: 1_700_000_000_000 },
  });
  assert.deepEqual(bridges, [
    {
      name: 'greenhouse',
      kind: 'mqtt',
      state: 'connecting',
      since: Date.parse('2024-01-02T03:04:05.000Z'),
      lastError: 'ECONNREFUSED',
      counters: { received: 3 },
    },
    { name: 'weather-station', kind: 'serial-line', state: 'connected', since: 1_700_000_000_000, lastError: null },
  ]);
});

test('a part running several bridges may report an array or { kind, bridges }', () => {
  const bridges = bridgesFromParts({
    serial: [{ kind: 'serial-frame', name: 'ttyUSB0', state: 'connected' }, { kind: 'serial-line', name: 'ttyUSB1', state: 'weird' }, 'garbage'],
    mqtt: {
      kind: 'mqtt',
      bridges: [
        { name: 'a', state: 'stopped' },
        { name: 'b', state: 'failed', lastError: new Error('boom') },
      ],
    },
  });
  assert.deepEqual(
    bridges.map((b) => [b.name, b.kind, b.state, b.lastError]),
    [
      ['ttyUSB0', 'serial-frame', 'connected', null],
      ['ttyUSB1', 'serial-line', 'disconnected', null],
      ['a', 'mqtt', 'stopped', null],
      ['b', 'mqtt', 'error', 'boom'],
    ],
  );
});

test('nothing malformed throws', () => {
  assert.deepEqual(bridgesFromParts({ a: null, b: 3, c: undefined, d: { kind: 7 }, e: [] }), []);
  assert.equal(uplinkFromParts({ uplink: 'up' }), undefined);
  assert.equal(uplinkFromParts({}), undefined);
  assert.equal(toLinkState(undefined), 'disconnected');
});

test('uplink: OutboxStatus shape passes through; the Outbox stats() shape is converted; credentials are stripped', () => {
  const a = uplinkFromParts({
    uplink: {
      state: 'connected',
      since: 5,
      url: 'wss://user:secret@cloud.example.com/ws',
      realm: 'cloud',
      buffer: { depth: 2, bytes: 10, oldestAgeSeconds: 1.5, drops: 0, capacityBytes: 100 },
    },
  });
  assert.deepEqual(a, {
    state: 'connected',
    since: 5,
    lastError: null,
    url: 'wss://cloud.example.com/ws',
    realm: 'cloud',
    buffer: { depth: 2, bytes: 10, oldestAgeSeconds: 1.5, drops: 0, capacityBytes: 100 },
  });
  const b = uplinkFromParts({
    uplink: { state: 'disconnected', outbox: { count: 7, bytes: 70, oldestAgeMs: 2500, drops: { 'max-count': 2, 'disk-full': 1 } } },
  });
  assert.deepEqual(b?.buffer, { depth: 7, bytes: 70, oldestAgeSeconds: 2.5, drops: 3 });
  assert.equal(redactUrl('not a url //u:p@host'), 'not a url //host');
});
