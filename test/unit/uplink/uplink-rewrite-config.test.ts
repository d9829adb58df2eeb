// URI rewriting (pure, with property tests) and the `uplink` config section: every problem with
// its path, defaults filled in, `{gatewayId}` expanded.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { resolveUplinkConfig, type UplinkConfig } from '../../../src/uplink/uplink-config';
import { parseUplinkUrl } from '../../../src/uplink/uplink-url';
import { validateUplink } from '../../../src/uplink/uplink-section';
import { expandGatewayId, rewritable, rewriteUri } from '../../../src/uplink/uri-rewrite';

test('prefix, exact and wildcard rewriting, and URIs outside the rule', () => {
  const prefix = { from: 'sensors.', to: 'site.gw1.sensors.', match: 'prefix' as const };
  assert.equal(rewriteUri(prefix, 'sensors.temp.kitchen'), 'site.gw1.sensors.temp.kitchen');
  assert.equal(rewriteUri(prefix, 'actuators.led'), null);
  assert.equal(rewriteUri({ from: 'a.b', to: 'x.y', match: 'exact' }, 'a.b'), 'x.y');
  assert.equal(rewriteUri({ from: 'a.b', to: 'x.y', match: 'exact' }, 'a.b.c'), null);
  const wild = { from: 'dev..temp', to: 'site.gw1.dev..celsius', match: 'wildcard' as const };
  assert.equal(rewriteUri(wild, 'dev.k7.temp'), 'site.gw1.dev.k7.celsius');
  assert.equal(rewriteUri(wild, 'dev.k7.humidity'), null);
  assert.equal(rewriteUri(wild, 'dev.k7.temp.x'), null);
  assert.equal(rewritable({ from: 'a..b', to: 'c.d', match: 'wildcard' }), false);
  assert.equal(expandGatewayId('site.{gatewayId}.sensors.', 'gw9'), 'site.gw9.sensors.');
});

const component = fc.stringMatching(/^[a-z0-9_]{1,8}$/);

test('property: a prefix rule rewritten up and back down is the identity', () => {
  fc.assert(
    fc.property(
      fc.array(component, { minLength: 1, maxLength: 3 }),
      fc.array(component, { minLength: 1, maxLength: 3 }),
      fc.array(component, { minLength: 1, maxLength: 4 }),
      (l, r, rest) => {
        const up = { from: `${l.join('.')}.`, to: `${r.join('.')}.`, match: 'prefix' as const };
        const down = { from: up.to, to: up.from, match: 'prefix' as const };
        const uri = `${up.from}${rest.join('.')}`;
        const remote = rewriteUri(up, uri);
        assert.ok(remote !== null);
        assert.equal(rewriteUri(down, remote), uri);
      },
    ),
  );
});

test('property: a wildcard rule carries every captured component to the same slot, and back', () => {
  fc.assert(
    fc.property(
      fc.array(fc.option(component, { nil: '' }), { minLength: 1, maxLength: 5 }),
      fc.array(component, { minLength: 5, maxLength: 5 }),
      (pattern, values) => {
        const from = pattern.join('.');
        if (!from.split('.').some((c) => c === '')) return;
        const to = `remote.${from}`;
        let k = 0;
        const uri = from
          .split('.')
          .map((c) => (c === '' ? (values[k++ % values.length] as string) : c))
          .join('.');
        const remote = rewriteUri({ from, to, match: 'wildcard' }, uri);
        assert.equal(remote, `remote.${uri}`);
        assert.equal(rewriteUri({ from: to, to: from, match: 'wildcard' }, remote as string), uri);
      },
    ),
  );
});

test('uplink urls: WebSocket, RawSocket over TCP, TLS and Unix sockets', () => {
  assert.deepEqual(parseUplinkUrl('wss://cloud.example.com/ws'), { kind: 'websocket', url: 'wss://cloud.example.com/ws', secure: true });
  assert.deepEqual(parseUplinkUrl('rawsocket://10.0.0.1:8081'), { kind: 'rawsocket', host: '10.0.0.1', port: 8081, secure: false });
  assert.deepEqual(parseUplinkUrl('rawsocket+tls://[::1]:443'), { kind: 'rawsocket', host: '::1', port: 443, secure: true });
  assert.deepEqual(parseUplinkUrl('rawsocket+unix:///run/cloud.sock'), { kind: 'rawsocket-unix', path: '/run/cloud.sock' });
  assert.equal(parseUplinkUrl('rawsocket://host'), null);
  assert.equal(parseUplinkUrl('http://host/ws'), null);
});

test('validateUplink reports every problem with its path', () => {
  const problems = validateUplink(
    {
      url: 'http://x',
      realm: 'cloud',
      serializr: 'cbor',
      gatewayId: 'a.b',
      auth: { authmethods: ['cryptosign', 'kerberos'] },
      buffer: { durability: 'sometimes', maxCount: 0, replayRatePerSecond: -1 },
      reconnect: { initialDelayMs: 5000, maxDelayMs: 10 },
      forward: [
        { name: 'a', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors' },
        { name: 'a', direction: 'sideways', type: 'event', local: 'x', remote: 'y', priority: 1 },
        { name: 'c', direction: 'down', type: 'event', local: 'wamp.session.on_join', remote: 'z' },
        { name: 'd', direction: 'up', type: 'event', local: 'sensors.', remote: 'other.', match: 'prefix' },
        { name: 'e', direction: 'up', type: 'event', local: 'a..b', remote: 'c.d', match: 'wildcard' },
      ],
    },
    'uplink',
  );
  const paths = problems.map((p) => p.path).sort();
  assert.deepEqual(paths, [
    'uplink.auth.authmethods[1]',
    'uplink.auth.cryptosignKey',
    'uplink.buffer.durability',
    'uplink.buffer.maxCount',
    'uplink.buffer.replayRatePerSecond',
    'uplink.forward[0].remote',
    'uplink.forward[1]',
    'uplink.forward[1].direction',
    'uplink.forward[1].name',
    'uplink.forward[2].local',
    'uplink.forward[3].local',
    'uplink.forward[4].remote',
    'uplink.gatewayId',
    'uplink.reconnect.maxDelayMs',
    'uplink.serializr',
    'uplink.url',
  ]);
  assert.deepEqual(validateUplink({ url: 'ws://cloud:8080/ws', realm: 'cloud' }, 'uplink'), []);
  assert.match(validateUplink({ url: 'ws://c/ws', realm: 'c', auth: { cryptosignKey: 'abc' } }, 'uplink')[0]?.message ?? '', /Ed25519/);
});

test('resolveUplinkConfig fills defaults, expands {gatewayId} and places the buffer in dataDir', () => {
  const raw: UplinkConfig = {
    url: 'ws://cloud:8080/ws',
    realm: 'cloud',
    gatewayId: 'gw7',
    offlineCallTimeoutMs: 3000,
    forward: [
      { name: 'up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors.' },
      { name: 'rpc', direction: 'down', type: 'procedure', local: 'cloud.time', remote: 'svc.time' },
    ],
  };
  const c = resolveUplinkConfig(raw, { dataDir: '/var/lib/wampgate', firstRealm: 'realm1', maxMessageBytes: 1 << 20, hostname: 'pi.local' });
  assert.equal(c.localRealm, 'realm1');
  assert.equal(c.serializer, 'cbor');
  assert.equal(c.buffer.path, '/var/lib/wampgate/uplink.sqlite');
  assert.equal(c.buffer.durability, 'full');
  assert.equal(c.buffer.inflightWindow, 100);
  assert.deepEqual(c.forward[0], {
    name: 'up',
    direction: 'up',
    type: 'event',
    local: 'sensors.',
    remote: 'site.gw7.sensors.',
    match: 'prefix',
    priority: 0,
    dropPolicy: 'drop-oldest',
    order: 'live-first',
    offlineCallTimeoutMs: 3000,
  });
  assert.equal(c.forward[1]?.match, 'exact');
  assert.equal(
    resolveUplinkConfig({ url: 'ws://c/ws', realm: 'c' }, { dataDir: '/d', firstRealm: 'r', maxMessageBytes: 1, hostname: 'pi-4.lan' }).gatewayId,
    'pi-4',
  );
});
