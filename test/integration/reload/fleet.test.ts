// Fleet operations end to end with two real processes: a wampgate as the cloud and a gateway whose
// uplink offers the admin procedures there. An operator's AutobahnJS session on the cloud reads
// the gateway's status, is refused when not allowed, pushes a config that breaks the uplink and
// gets the gateway back by itself; an apply survives neither a SIGKILL nor a missing confirm.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, type RunningCli } from '../support/cli';
import { freePort, tempDir, until, within } from '../support/gateway';
import { openAutobahn, type AbClient, type AbSession } from '../support/third-party';

const GW_TICKET = 'gw-ticket-7d1f';
const ADMIN = 'site.gw1.admin.';
/** Long enough for one reconnect under a loaded CI machine, the validator's minimum is 10. */
const CONFIRM_S = 10;

let dir: ReturnType<typeof tempDir>;
let cloud: RunningCli;
let cloudUrl: string;
let gatewayPath: string;
let gateway: RunningCli | undefined;
let alice: AbClient;

function cloudConfig(port: number): unknown {
  const everything = { uri: '', match: 'prefix', allow: { publish: true, subscribe: true, call: true, register: true } };
  return {
    realms: [
      {
        name: 'cloud',
        roles: [
          { name: 'gateway', permissions: [everything] },
          // Crossbar's way too: the caller's permission says whether the callee learns who calls.
          { name: 'operator', permissions: [{ uri: 'site.', match: 'prefix', allow: { call: true, subscribe: true }, disclose: { caller: true } }] },
          { name: 'visitor', permissions: [{ uri: 'site.', match: 'prefix', allow: { call: true }, disclose: { caller: true } }] },
          { name: 'shy', permissions: [{ uri: 'site.', match: 'prefix', allow: { call: true } }] },
        ],
      },
    ],
    listeners: [
      {
        name: 'ws',
        type: 'websocket',
        host: '127.0.0.1',
        port,
        auth: {
          ticket: {
            principals: [
              { authid: 'gw1', role: 'gateway', ticket: GW_TICKET },
              { authid: 'alice', role: 'operator', ticket: 'alice-t' },
              { authid: 'mallory', role: 'visitor', ticket: 'mallory-t' },
              { authid: 'shy', role: 'shy', ticket: 'shy-t' },
            ],
          },
        },
      },
    ],
    limits: { keepaliveIntervalMs: 0 },
    status: { enabled: false },
    health: { enabled: false },
  };
}

function gatewayConfig(uplinkUrl: string, extraRealm?: string): unknown {
  return {
    realms: [{ name: 'realm1' }, ...(extraRealm ? [{ name: extraRealm }] : [])],
    listeners: [
      {
        name: 'ws',
        type: 'websocket',
        host: '127.0.0.1',
        port: 0,
        // A principal named like the uplink's secret: its "session joined" line carries the secret,
        // standing in for any log line that ever would (logs.tail must mask it).
        auth: { ticket: { principals: [{ authid: GW_TICKET, role: 'app', ticket: 'tech-t' }] }, anonymous: { role: 'app' } },
      },
    ],
    dataDir: join(dir.path, 'gw-data'),
    limits: { keepaliveIntervalMs: 0 },
    status: { enabled: false },
    health: { intervalMs: 60_000 },
    uplink: {
      url: uplinkUrl,
      realm: 'cloud',
      gatewayId: 'gw1',
      auth: { authid: 'gw1', authmethods: ['ticket'], ticket: GW_TICKET },
      reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
      forward: [],
    },
    admin: { allow: [{ authrole: 'operator' }], fleetIntervalS: 1 },
  };
}

function startGateway(): RunningCli {
  gateway = startCli(['start', '--config', gatewayPath]);
  return gateway;
}

/** Calls an admin procedure, retrying while it is not (yet, again) registered upstream. */
async function adminCall(session: AbSession, name: string, kwargs: Record<string, unknown> = {}, what = name, ms = 30_000): Promise<Record<string, unknown>> {
  let last: unknown;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = (await session.call(`${ADMIN}${name}`, [], kwargs)) as unknown;
      return (r && typeof r === 'object' && 'args' in (r as object) ? (r as { args: unknown[] }).args[0] : r) as Record<string, unknown>;
    } catch (err) {
      last = err;
      if ((err as { error?: string }).error !== 'wamp.error.no_such_procedure') throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${what}: ${ADMIN}${name} never answered within ${ms} ms (last: ${JSON.stringify(last)})`);
}

/** Polls config.get (the uplink may be restarting for the change) until `check` holds. */
async function untilConfig(check: (configJson: string) => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    try {
      last = JSON.stringify((await adminCall(alice.session, 'config.get', {}, what, 5000)).config);
      if (check(last)) return;
    } catch {
      // canceled while the uplink restarts
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; last config: ${last}`);
}

before(async () => {
  dir = tempDir('wampgate-fleet-');
  const port = await freePort();
  cloudUrl = `ws://127.0.0.1:${port}/ws`;
  const cloudPath = join(dir.path, 'cloud.json');
  writeFileSync(cloudPath, JSON.stringify(cloudConfig(port)));
  cloud = startCli(['start', '--config', cloudPath]);
  await cloud.waitFor(/ready/, 'the cloud wampgate to be ready');
  gatewayPath = join(dir.path, 'gateway.json');
  writeFileSync(gatewayPath, JSON.stringify(gatewayConfig(cloudUrl)));
  await startGateway().waitFor(/uplink online/, 'the gateway uplink to come online');
  alice = await openAutobahn({ url: cloudUrl }, 'cloud', { authmethods: ['ticket'], authid: 'alice', onchallenge: () => 'alice-t' });
});

after(async () => {
  await alice?.close().catch(() => undefined);
  await gateway?.stop();
  await cloud?.stop();
  dir?.remove();
});

test('an allowed operator reads the status and the config (without secrets) from the cloud; fleet health arrives', async () => {
  const health = new Promise<unknown>((resolve) => void alice.session.subscribe('site..health', (args) => resolve(args[0]), { match: 'wildcard' }));
  const status = await adminCall(alice.session, 'status');
  assert.equal(status.ready, true, "the status is /status.json's, and says ready");
  const got = await adminCall(alice.session, 'config.get');
  const text = JSON.stringify(got);
  const uplink = (got.config as { uplink: { auth: { ticket: unknown } } }).uplink;
  assert.equal(uplink.auth.ticket, '[redacted]', 'config.get never returns the uplink ticket');
  assert.ok(!text.includes('"tech-t"'), "nor a principal's ticket");
  const beat = (await within(health, 'a fleet health event on site..health')) as Record<string, unknown>;
  assert.equal(beat.gatewayId, 'gw1');
});

test('a cloud caller not allowed, or not disclosed, is refused every admin procedure', async () => {
  const mallory = await openAutobahn({ url: cloudUrl }, 'cloud', { authmethods: ['ticket'], authid: 'mallory', onchallenge: () => 'mallory-t' });
  const shy = await openAutobahn({ url: cloudUrl }, 'cloud', { authmethods: ['ticket'], authid: 'shy', onchallenge: () => 'shy-t' });
  try {
    await adminCall(alice.session, 'status', {}, 'the admin procedures to be registered');
    for (const name of ['status', 'config.get', 'config.check', 'config.apply', 'config.confirm', 'config.rollback', 'logs.tail', 'restart']) {
      for (const [who, session, why] of [
        ['mallory', mallory.session, /may not administer/],
        ['shy', shy.session, /did not disclose the caller/],
      ] as const) {
        await assert.rejects(session.call(`${ADMIN}${name}`, [], { config: {} }) as Promise<unknown>, (err: { error?: string; args?: unknown[] }) => {
          assert.equal(err.error, 'wamp.error.not_authorized', `${who} calling ${name}`);
          assert.match(String(err.args?.[0]), why);
          return true;
        });
      }
    }
  } finally {
    await mallory.close();
    await shy.close();
  }
});

test('logs.tail returns recent lines and never a secret the config holds', async () => {
  const gwUrl = /url=(ws:\/\/127\.0\.0\.1:\d+\/ws)/.exec(gateway?.output() ?? '')?.[1];
  assert.ok(gwUrl, 'the gateway logged its listener URL');
  const leaky = await openAutobahn({ url: gwUrl }, 'realm1', { authmethods: ['ticket'], authid: GW_TICKET, onchallenge: () => 'tech-t' });
  await leaky.close();
  await until(() => (gateway?.output() ?? '').includes(GW_TICKET), 'the gateway to log the authid (the premise of this test)');
  const tail = await adminCall(alice.session, 'logs.tail', { lines: 500 });
  const lines = tail.lines as string[];
  assert.ok(lines.length > 5, 'lines come back');
  assert.ok(!lines.some((l) => l.includes(GW_TICKET)), 'no line carries the ticket');
  assert.ok(
    lines.some((l) => l.includes('[redacted]')),
    'the line that held it is masked',
  );
});

test('a config that breaks the uplink, not confirmed, is rolled back by itself and the gateway comes back online', async () => {
  const changes: Array<Record<string, unknown>> = [];
  await alice.session.subscribe(`${ADMIN}on_change`, (args) => void changes.push(args[0] as Record<string, unknown>));
  const broken = gatewayConfig('ws://127.0.0.1:9/nowhere');
  const checked = await adminCall(alice.session, 'config.check', { config: { realms: 'nope' } });
  assert.equal(checked.ok, false, 'config.check reports problems without applying');
  const applied = await adminCall(alice.session, 'config.apply', { config: broken, confirmWithinS: CONFIRM_S });
  assert.equal(applied.applied, true);
  const startedAt = Date.now();
  await gateway?.waitFor(/uplink offline|config reloaded/, 'the gateway to apply the broken config');
  await gateway?.waitFor(/applied config rolled back/, 'the gateway to roll back by itself');
  const back = await adminCall(alice.session, 'config.get', {}, 'the gateway to come back online', (CONFIRM_S + 30) * 1000);
  const elapsed = Date.now() - startedAt;
  assert.equal(((back.config as Record<string, unknown>).uplink as Record<string, unknown>).url, cloudUrl, 'the old uplink URL runs again');
  assert.equal(back.pending, null, 'nothing waits for confirmation');
  assert.ok(elapsed >= CONFIRM_S * 1000 - 500, `not before the deadline (${elapsed} ms)`);
  await until(() => changes.some((c) => c.event === 'rollback'), 'the rollback event to reach the cloud once the link is back', 20_000);
  assert.ok(
    changes.some((c) => c.event === 'apply'),
    'the apply event reached the cloud',
  );
});

test('an apply interrupted by SIGKILL is rolled back at the next start once its deadline passed; a confirmed one stays', async () => {
  const applied = await adminCall(alice.session, 'config.apply', { config: gatewayConfig(cloudUrl, 'extra'), confirmWithinS: CONFIRM_S });
  assert.equal(applied.applied, true);
  await untilConfig((c) => c.includes('"extra"'), 'the applied config to run');
  gateway?.child.kill('SIGKILL');
  await gateway?.exited;
  await new Promise((r) => setTimeout(r, CONFIRM_S * 1000 + 500));
  await startGateway().waitFor(/not confirmed before its deadline: rolling back/, 'the restarted gateway to roll back on disk');
  await gateway?.waitFor(/uplink online/, 'the restarted gateway to come online');
  const after = await adminCall(alice.session, 'config.get', {}, 'config.get after the restart');
  assert.ok(!JSON.stringify(after.config).includes('"extra"'), 'the previous config runs again');

  // Confirmed: stays past the deadline.
  await adminCall(alice.session, 'config.apply', { config: gatewayConfig(cloudUrl, 'kept'), confirmWithinS: CONFIRM_S });
  await untilConfig((c) => c.includes('"kept"'), 'the second applied config to run');
  const confirmed = await adminCall(alice.session, 'config.confirm');
  assert.equal(confirmed.confirmed, true);
  await new Promise((r) => setTimeout(r, CONFIRM_S * 1000 + 500));
  const later = await adminCall(alice.session, 'config.get', {}, 'config.get after the deadline');
  assert.ok(JSON.stringify(later.config).includes('"kept"'), 'the confirmed config still runs after the deadline');
  assert.doesNotMatch(gateway?.output() ?? '', /applied config rolled back/, 'no rollback after a confirm');
});

test('restart from the cloud stops and starts the gateway in the same process, and it comes back online', async () => {
  const pid = gateway?.child.pid;
  const answer = await adminCall(alice.session, 'restart');
  assert.equal(answer.restarting, true);
  await gateway?.waitFor(/restarted in place/, 'the gateway to restart in place');
  const status = await adminCall(alice.session, 'status', {}, 'the restarted gateway to answer from the cloud');
  assert.equal(status.ready, true);
  assert.equal(gateway?.child.pid, pid, 'the same process');
  assert.equal(gateway?.child.exitCode, null, 'still running');
});
