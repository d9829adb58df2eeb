// Authentication and authorization configured the way a user does it: a config object through
// validateConfig (as `wampgate check` does) into Gateway.start, a real WebSocket listener, and
// AutobahnJS as the client.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway } from '../../../src/gateway';
import { validateConfig } from '../../../src/config/schema';
import { configPlugins } from '../../../src/cli/wiring';
import { ConfigError } from '../../../src/config/problem';
import { quietLogger } from '../../../src/util/logger';

/* eslint-disable @typescript-eslint/no-explicit-any -- AutobahnJS ships no types */
const autobahn = require('autobahn') as any;

interface Opened {
  session: any;
  connection: any;
  authrole: string;
}

const rawConfig = (extra: Record<string, unknown> = {}) => ({
  realms: [
    {
      name: 'realm1',
      roles: [
        { name: 'device', permissions: [{ uri: 'sensors.', match: 'prefix', allow: { publish: true, subscribe: true } }] },
        { name: 'app', permissions: [{ uri: '', match: 'prefix', allow: { publish: true, subscribe: true, call: true, register: true } }] },
      ],
    },
  ],
  listeners: [
    {
      name: 'ws',
      type: 'websocket',
      host: '127.0.0.1',
      port: 0,
      auth: { ticket: { principals: [{ authid: 'dev1', role: 'device', ticket: { env: 'WAMPGATE_TEST_DEV1_TICKET' } }] }, anonymous: { role: 'app' } },
    },
  ],
  ...extra,
});

function open(url: string, options: Record<string, unknown>): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0, ...options });
    connection.onopen = (session: any, details: { authrole: string }) => resolve({ session, connection, authrole: details.authrole });
    connection.onclose = (reason: string, details: { reason?: string }) => {
      reject(new Error(`${reason}: ${String(details.reason)}`));
      return true;
    };
    connection.open();
  });
}

test('a ticket principal from the config joins with its role; its permissions hold; a wrong ticket is refused without saying why', async () => {
  process.env.WAMPGATE_TEST_DEV1_TICKET = 's3cret';
  const { config, problems } = validateConfig(rawConfig(), configPlugins);
  assert.deepEqual(problems, []);
  const gateway = await Gateway.start(config!, { logger: quietLogger });
  try {
    const address = gateway.listeners[0]!.address as { port: number };
    const url = `ws://127.0.0.1:${address.port}/ws`;
    const device = await open(url, { authmethods: ['ticket'], authid: 'dev1', onchallenge: () => 's3cret' });
    assert.equal(device.authrole, 'device');
    const app = await open(url, {});
    assert.equal(app.authrole, 'app');

    const got: unknown[] = [];
    await app.session.subscribe('sensors.t1', (args: unknown[]) => got.push(args[0]));
    await device.session.publish('sensors.t1', [21.5], {}, { acknowledge: true });
    await assert.rejects(
      device.session.publish('com.other', [1], {}, { acknowledge: true }),
      (err: { error: string }) => err.error === 'wamp.error.not_authorized',
    );
    await assert.rejects(device.session.call('wamp.session.count'), (err: { error: string }) => err.error === 'wamp.error.not_authorized');
    // The device session goes on after a denial.
    await device.session.publish('sensors.t1', [22], {}, { acknowledge: true });
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, [21.5, 22]);

    await assert.rejects(open(url, { authmethods: ['ticket'], authid: 'dev1', onchallenge: () => 'wrong' }), /wamp\.error\.authentication_failed/);
    await assert.rejects(open(url, { authmethods: ['ticket'], authid: 'nobody', onchallenge: () => 's3cret' }), /wamp\.error\.authentication_failed/);
    device.connection.close();
    app.connection.close();
  } finally {
    await gateway.stop();
    delete process.env.WAMPGATE_TEST_DEV1_TICKET;
  }
});

test('a secret whose environment variable is unset stops the gateway from starting with a config error naming it', async () => {
  delete process.env.WAMPGATE_TEST_DEV1_TICKET;
  const { config } = validateConfig(rawConfig(), configPlugins);
  await assert.rejects(
    Gateway.start(config!, { logger: quietLogger }),
    (err: unknown) => err instanceof ConfigError && /WAMPGATE_TEST_DEV1_TICKET/.test(err.message),
  );
});

test('check refuses remote anonymous access to a realm without roles unless the user says so explicitly', () => {
  const exposed = {
    listeners: [{ name: 'lan', type: 'websocket', host: '0.0.0.0', port: 0, auth: { anonymous: { allowRemoteAnonymous: true } } }],
  };
  const { problems } = validateConfig(exposed, configPlugins);
  assert.ok(
    problems.some((p) => p.path === 'listeners[0].auth.anonymous' && /no roles/.test(p.message)),
    JSON.stringify(problems),
  );
  const explicit = {
    listeners: [
      { name: 'lan', type: 'websocket', host: '0.0.0.0', port: 0, auth: { anonymous: { allowRemoteAnonymous: true, allowAnonymousAllowAll: true } } },
    ],
  };
  assert.deepEqual(validateConfig(explicit, configPlugins).problems, []);
});
