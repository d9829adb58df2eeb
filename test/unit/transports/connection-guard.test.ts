// The admission rules of ConnectionGuard on their own: the pending caps, the reserve only
// addresses with a recent WELCOME may take, and how long and how many addresses stay known.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionGuard, type AdmissionTicket } from '../../../src/transports/connection-guard';

function guardWith(limits: ConstructorParameters<typeof ConnectionGuard>[0], clock = { t: 0 }): ConnectionGuard {
  return new ConnectionGuard(limits, undefined, undefined, () => clock.t);
}

const admitted = (g: ConnectionGuard, peer: string): AdmissionTicket => {
  const t = g.admit(peer);
  assert.notEqual(typeof t, 'string', `${peer} was refused: ${String(t)}`);
  return t as AdmissionTicket;
};

test('a full pending cap refuses new addresses but admits known ones up to the reserve', () => {
  const g = guardWith({ maxPendingConnections: 4, maxPendingConnectionsPerAddress: 4, knownAddressPendingReserve: 2 });
  admitted(g, '10.0.0.1:1000').authenticate(1);
  for (let i = 0; i < 4; i++) admitted(g, `10.0.0.9:${2000 + i}`);
  assert.equal(g.admit('10.0.0.2:1000'), 'pending_limit', 'an address never authenticated gets no reserve');
  admitted(g, '10.0.0.1:1001');
  admitted(g, '10.0.0.1:1002');
  assert.equal(g.stats.admittedFromReserve, 2);
  assert.equal(g.admit('10.0.0.1:1003'), 'pending_limit', 'the reserve is bounded too');
  assert.equal(g.stats.closed.pending_limit, 2);
});

test('the per-address cap applies to known addresses as well', () => {
  const g = guardWith({ maxPendingConnections: 2, maxPendingConnectionsPerAddress: 1, knownAddressPendingReserve: 8 });
  admitted(g, '10.0.0.1:1').authenticate();
  admitted(g, '10.0.0.8:1');
  admitted(g, '10.0.0.9:1');
  admitted(g, '10.0.0.1:2');
  assert.equal(g.admit('10.0.0.1:3'), 'pending_limit_per_address');
});

test('an address is known for knownAddressTtlMs after its last WELCOME', () => {
  const clock = { t: 0 };
  const g = guardWith({ knownAddressTtlMs: 1000 }, clock);
  admitted(g, '10.0.0.1:1').authenticate();
  clock.t = 1000;
  assert.equal(g.isKnown('10.0.0.1'), true);
  clock.t = 1001;
  assert.equal(g.isKnown('10.0.0.1'), false);
});

test('at most knownAddressesMax addresses are remembered, the least recently authenticated forgotten first', () => {
  const g = guardWith({ knownAddressesMax: 2, maxPendingConnections: 10 });
  admitted(g, '10.0.0.1:1').authenticate();
  admitted(g, '10.0.0.2:1').authenticate();
  admitted(g, '10.0.0.1:2').authenticate(); // 10.0.0.1 is the most recent again
  admitted(g, '10.0.0.3:1').authenticate();
  assert.equal(g.isKnown('10.0.0.2'), false);
  assert.equal(g.isKnown('10.0.0.1'), true);
  assert.equal(g.isKnown('10.0.0.3'), true);
});

test('knownAddressPendingReserve 0 turns the reserve off', () => {
  const g = guardWith({ maxPendingConnections: 1, knownAddressPendingReserve: 0 });
  admitted(g, '10.0.0.1:1').authenticate();
  admitted(g, '10.0.0.9:1');
  assert.equal(g.admit('10.0.0.1:2'), 'pending_limit');
});
