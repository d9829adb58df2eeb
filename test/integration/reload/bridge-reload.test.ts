// Live reload of a bridge's rules under traffic, with Mosquitto as the broker and AutobahnJS as the
// application: the changed bridge restarts with its new rules, the unchanged one keeps its
// session, and the application's session on the gateway never notices.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../src/config/schema';
import type { GatewayConfig } from '../../../src/config/types';
import { Gateway } from '../../../src/gateway';
import { partFactories, configPlugins } from '../../../src/cli/wiring';
import { quietLogger } from '../../../src/util/logger';
import { device, freePort, startMosquitto, waitFor } from '../bridges/mqtt-helpers';
import { openAutobahn } from '../support/third-party';

function config(brokerUrl: string, wsPort: number, fieldTopics: unknown[]): GatewayConfig {
  const { config: c, problems } = validateConfig(
    {
      realms: [{ name: 'realm1' }],
      listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: wsPort }],
      status: { enabled: false },
      health: { enabled: false },
      bridges: {
        mqtt: [
          { name: 'field', realm: 'realm1', broker: { url: brokerUrl, protocolVersion: 4 }, topics: fieldTopics },
          {
            name: 'other',
            realm: 'realm1',
            broker: { url: brokerUrl, protocolVersion: 4 },
            topics: [{ mqtt: 'door/+', wamp: 'door.{1}', direction: 'mqtt-to-wamp', codec: 'json' }],
          },
        ],
      },
    },
    configPlugins,
  );
  assert.deepEqual(problems, [], 'the test config is valid');
  return c as GatewayConfig;
}

test("reload changes one MQTT bridge's rules under traffic: it restarts with them, the other bridge and the application session stay", async () => {
  const broker = await startMosquitto();
  const temperature = { mqtt: 'sensors/+/temperature', wamp: 'sensors.{1}.temperature', direction: 'mqtt-to-wamp', codec: 'json' };
  const humidity = { mqtt: 'sensors/+/humidity', wamp: 'sensors.{1}.humidity', direction: 'mqtt-to-wamp', codec: 'json' };
  let gateway: Gateway | undefined;
  const sensor = await device(broker.url, 4);
  try {
    // A fixed free port in both configs: a listener whose config says port 0 differs from one
    // that names the port it got, and would be restarted.
    const port = await freePort();
    gateway = await Gateway.start(config(broker.url, port, [temperature]), { logger: quietLogger, parts: partFactories });
    const app = await openAutobahn({ url: `ws://127.0.0.1:${port}/ws` }, 'realm1');
    const got: string[] = [];
    await app.session.subscribe('sensors.', (_args, _kw, details) => void got.push(String(details.topic)), { match: 'prefix' });
    await app.session.subscribe('door.', (_args, _kw, details) => void got.push(String(details.topic)), { match: 'prefix' });
    await sensor.publishAsync('sensors/a/temperature', '[1]', { qos: 1 });
    await waitFor(() => got.includes('sensors.a.temperature'), { what: 'a reading before the reload' });
    await sensor.publishAsync('door/front', '[0]', { qos: 1 });
    await waitFor(() => got.includes('door.front'), { what: 'the other bridge before the reload' });
    const otherBefore = gateway.partStatus()['mqtt:other']?.since;

    // Traffic keeps flowing while the reload runs.
    let n = 0;
    const traffic = setInterval(() => void sensor.publishAsync('door/front', JSON.stringify([n++]), { qos: 1 }), 20);
    const report = await gateway.reload(config(broker.url, port, [temperature, humidity]));
    clearInterval(traffic);
    assert.equal(report.parts['mqtt:field'], 'restarted', 'the bridge whose rules changed restarts');
    assert.equal(report.parts['mqtt:other'], 'kept', 'the other bridge keeps running');
    assert.equal(report.listeners.ws, 'kept');
    assert.equal(gateway.partStatus()['mqtt:other']?.since, otherBefore, 'the kept bridge did not reconnect');
    await waitFor(() => gateway?.partStatus()['mqtt:field']?.state === 'connected', { what: 'the restarted bridge to connect' });

    await sensor.publishAsync('sensors/b/humidity', '[55]', { qos: 1 });
    await sensor.publishAsync('sensors/b/temperature', '[2]', { qos: 1 });
    await waitFor(() => got.includes('sensors.b.humidity') && got.includes('sensors.b.temperature'), { what: 'readings under the new rules' });
    await sensor.publishAsync('door/back', '[1]', { qos: 1 });
    await waitFor(() => got.includes('door.back'), { what: "the kept bridge's traffic to reach the application after the reload" });
    await app.close();
  } finally {
    await sensor.endAsync();
    await gateway?.stop();
    await broker.close();
  }
});
