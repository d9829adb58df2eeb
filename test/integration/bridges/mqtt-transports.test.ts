// The MQTT bridge over every way it reaches a broker, against one real Mosquitto: TLS with a
// client certificate (mqtts://), WebSocket (ws://) and username/password (mqtt://), each with
// MQTT 5 and 3.1.1, a message each way. Then the refusals: wrong or missing password, no
// client certificate, a broker certificate the bridge's CA does not vouch for — the bridge
// reports them, keeps retrying and stays alive.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { MqttBridge } from '../../../src/bridges/mqtt/mqtt-bridge';
import type { MqttBrokerConfig } from '../../../src/bridges/mqtt/config';
import { resolveMqttBridge } from '../../../src/bridges/mqtt/config';
import type { Router } from '../../../src/core/router';
import { quietLogger } from '../../../src/util/logger';
import { collect, device, startRouter, waitFor, wampClient } from './mqtt-helpers';
import { startSecureMosquitto, type SecureMosquitto } from './mqtt-tls-helpers';
import { localSessions } from '../../../src/gateway-part';

const fastRetry = { reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, connectTimeoutMs: 5000 };

function bridgeFor(router: Router, name: string, broker: MqttBrokerConfig): MqttBridge {
  return new MqttBridge(
    resolveMqttBridge({
      name,
      realm: 'realm1',
      broker: { ...fastRetry, ...broker },
      topics: [
        { mqtt: `${name}/up/+`, wamp: `${name}.up.{1}`, qos: 1 },
        { mqtt: `${name}/down/+`, wamp: `${name}.down.{1}`, direction: 'wamp-to-mqtt', qos: 1 },
      ],
    }),
    { router: localSessions(router), logger: quietLogger },
  );
}

/** Starts the bridge, then moves one message MQTT -> WAMP and one WAMP -> MQTT through it. */
async function assertBothWays(broker: SecureMosquitto, router: Router, bridge: MqttBridge, version: 4 | 5): Promise<void> {
  const name = bridge.name;
  const wamp = await wampClient(router, `app-${name}`);
  // The device sits on the plain listener: the bridge's own transport is the only secured hop.
  const dev = await device(broker.plainUrl, version);
  try {
    await bridge.start();
    await waitFor(() => bridge.status().state === 'connected' && bridge.status().subscribed, { what: `${name} connected and subscribed` });

    const events: unknown[][] = [];
    await wamp.subscribe(`${name}.up.t1`, (args) => events.push(args));
    await dev.publishAsync(`${name}/up/t1`, JSON.stringify([21.5, 'ok']), { qos: 1 });
    await waitFor(() => events.length === 1, { what: `${name}: MQTT -> WAMP` });
    assert.deepEqual(events[0], [21.5, 'ok']);

    const inbox = collect(dev);
    await dev.subscribeAsync(`${name}/down/+`, { qos: 1 });
    await wamp.publish(`${name}.down.valve`, ['open', 2], {}, { acknowledge: true });
    await waitFor(() => inbox.length === 1, { what: `${name}: WAMP -> MQTT` });
    assert.equal(inbox[0]!.topic, `${name}/down/valve`);
    assert.deepEqual(JSON.parse(inbox[0]!.payload.toString()), ['open', 2]);

    const s = bridge.status();
    assert.equal(s.state, 'connected');
    assert.equal(s.counters.connects, 1);
    assert.equal(s.counters.connectFailures, 0);
    assert.equal(s.lastError, undefined);
  } finally {
    await bridge.stop();
    await dev.endAsync();
    await wamp.close();
  }
}

/** The bridge cannot get in: start() still resolves, status says why, retries go on, nothing crashes. */
async function assertRefused(t: TestContext, bridge: MqttBridge, lastError: RegExp): Promise<void> {
  try {
    await bridge.start();
    await waitFor(() => bridge.status().counters.connectFailures >= 3, { timeoutMs: 15_000, what: `${bridge.name}: repeated failed attempts` });
    const s = bridge.status();
    assert.notEqual(s.state, 'connected');
    assert.equal(s.subscribed, false);
    assert.equal(s.counters.connects, 0);
    t.diagnostic(`lastError: ${s.lastError ?? '(none)'}`);
    assert.match(s.lastError ?? '(no lastError)', lastError);
    // Still alive and trying: the failure count keeps growing.
    const failures = s.counters.connectFailures;
    await waitFor(() => bridge.status().counters.connectFailures > failures, { timeoutMs: 15_000, what: `${bridge.name}: another attempt` });
    assert.equal(bridge.status().counters.connects, 0);
    assert.equal(bridge.status().wamp, 'joined');
  } finally {
    await bridge.stop();
  }
  assert.equal(bridge.status().state, 'stopped');
}

test('mqtt bridge transports against mosquitto: TLS + client certificate, WebSocket, username/password', async (t: TestContext) => {
  const broker = await startSecureMosquitto();
  let router: Router | undefined;
  try {
    router = await startRouter();
    const r = router;
    const { pki } = broker;
    const clientTls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };

    for (const version of [5, 4] as const) {
      await t.test(`mqtts:// with CA and client certificate, MQTT ${version === 5 ? 5 : '3.1.1'}: both ways`, () =>
        assertBothWays(broker, r, bridgeFor(r, `tls${version}`, { url: broker.tlsUrl, protocolVersion: version, tls: clientTls }), version),
      );
      await t.test(`ws:// (mosquitto websockets listener), MQTT ${version === 5 ? 5 : '3.1.1'}: both ways`, () =>
        assertBothWays(broker, r, bridgeFor(r, `ws${version}`, { url: broker.wsUrl, protocolVersion: version }), version),
      );
      await t.test(`mqtt:// with username/password, MQTT ${version === 5 ? 5 : '3.1.1'}: both ways`, () =>
        assertBothWays(
          broker,
          r,
          bridgeFor(r, `auth${version}`, { url: broker.authUrl, protocolVersion: version, username: broker.username, password: broker.password }),
          version,
        ),
      );
    }

    await t.test('the TLS servername option: connecting by IP while verifying the certificate as "localhost"', () =>
      assertBothWays(broker, r, bridgeFor(r, 'sni', { url: broker.tlsUrl, tls: { ...clientTls, servername: 'localhost' } }), 5),
    );

    for (const version of [5, 4] as const) {
      await t.test(`wrong password, MQTT ${version === 5 ? 5 : '3.1.1'}: not connected, lastError names the refusal, keeps retrying`, async (t2) => {
        const bridge = bridgeFor(r, `badpw${version}`, { url: broker.authUrl, protocolVersion: version, username: broker.username, password: 'wrong' });
        await assertRefused(t2, bridge, /Bad User Name or Password|Not authorized/i);
        // The password never shows in the status.
        assert.doesNotMatch(JSON.stringify(bridge.status()), /wrong/);
      });
    }

    await t.test('no credentials on the password listener: refused the same way', (t2) =>
      assertRefused(t2, bridgeFor(r, 'anon', { url: broker.authUrl }), /Not authorized|Bad User Name or Password/i),
    );

    await t.test('password in the URL: works, and the status redacts it', async () => {
      const url = new URL(broker.authUrl);
      url.username = broker.username;
      url.password = broker.password;
      const bridge = bridgeFor(r, 'urlpw', { url: url.toString() });
      await assertBothWays(broker, r, bridge, 5);
      assert.doesNotMatch(bridge.status().broker, /s3cret/);
    });

    await t.test('no client certificate on the require_certificate listener: refused, keeps retrying', (t2) =>
      assertRefused(t2, bridgeFor(r, 'nocert', { url: broker.tlsUrl, tls: { ca: pki.ca } }), /certificate|alert|handshake|ECONNRESET|socket/i),
    );

    await t.test('a broker certificate the configured CA does not trust is refused (rejectUnauthorized)', (t2) =>
      assertRefused(
        t2,
        bridgeFor(r, 'untrusted', { url: broker.tlsUrl, tls: { ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey } }),
        /self[- ]signed|unable to (get|verify)|certificate/i,
      ),
    );

    await t.test('no CA configured: the system CAs do not vouch for the test CA either', (t2) =>
      assertRefused(
        t2,
        bridgeFor(r, 'sysca', { url: broker.tlsUrl, tls: { cert: pki.clientCert, key: pki.clientKey } }),
        /self[- ]signed|unable to (get|verify)|certificate/i,
      ),
    );

    await t.test('a certificate for another host name is refused (servername mismatch)', (t2) =>
      assertRefused(
        t2,
        bridgeFor(r, 'wrongname', { url: broker.tlsUrl, tls: { ...clientTls, servername: 'broker.example' } }),
        /altnames|Hostname|does not match/i,
      ),
    );

    await t.test('rejectUnauthorized false (test benches only) accepts the broker the CA does not vouch for', () =>
      assertBothWays(
        broker,
        r,
        bridgeFor(r, 'insecure', { url: broker.tlsUrl, tls: { ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey, rejectUnauthorized: false } }),
        5,
      ),
    );

    await t.test('an unreadable client key: start() rejects naming the file and leaves no WAMP session behind', async () => {
      const sessionsBefore = r.sessions.size;
      const missing = join(dirname(pki.clientKey), 'missing.key');
      const bridge = bridgeFor(r, 'nokey', { url: broker.tlsUrl, tls: { ...clientTls, key: missing } });
      await assert.rejects(bridge.start(), /missing\.key/);
      assert.equal(bridge.status().state, 'stopped');
      assert.equal(bridge.status().wamp, 'closed');
      assert.equal(r.sessions.size, sessionsBefore);
      await bridge.stop();
    });
  } finally {
    await router?.close();
    await broker.close();
  }
});
