// A device over TCP: the sensor example (the same sensor.c as on the simulated Uno and Cortex-M3)
// built for Linux with the machine's gcc (firmware-bridge/targets/posix-tcp) joins a Gateway's
// real RawSocket listener as a ticket principal: handshake with max-length negotiation, HELLO
// with ticket, CHALLENGE -> AUTHENTICATE -> WELCOME, readings, a procedure AutobahnJS calls, a
// call of AutobahnJS's procedure, PING answered with PONG; a wrong ticket gets its ABORT.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Gateway } from '../../../src/gateway';
import { validateConfig } from '../../../src/config/schema';
import { configPlugins } from '../../../src/cli/wiring';
import { quietLogger } from '../../../src/util/logger';
import { Simulator, closeApp, makeFirmware, openApp, requireTools, waitFor, type AppSession } from './device-support';

let dir = '';
const cleanups: Array<() => Promise<void> | void> = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-tcp-sensor-'));
});
after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  fs.rmSync(dir, { recursive: true, force: true });
});

const TICKET = 'kitchen-ticket-7d1f';
const PREFIX = 'sensor.tcp';
// The listener's PING cadence and deadline: a PING goes out at most 300 ms after each reading
// (one per second) and must be answered within 700 ms, before the next reading would prove the
// device alive anyway. So the session outliving several seconds proves the PONGs.
const KEEPALIVE_INTERVAL_MS = 300;
const KEEPALIVE_TIMEOUT_MS = 700;

async function startGateway(): Promise<{ gateway: Gateway; wsUrl: string; rawPort: number }> {
  const raw = {
    realms: [{ name: 'iot' }],
    listeners: [
      { name: 'ws', type: 'websocket', host: '127.0.0.1', port: 0 },
      {
        name: 'devices',
        type: 'rawsocket',
        host: '127.0.0.1',
        port: 0,
        serializers: ['cbor'],
        auth: { ticket: { principals: [{ authid: 'esp32-kitchen', role: 'device', ticket: TICKET }] } },
      },
    ],
    // 64 KiB: the router answers the handshake with L = 7 (2^(9+7)).
    limits: { keepaliveIntervalMs: KEEPALIVE_INTERVAL_MS, keepaliveTimeoutMs: KEEPALIVE_TIMEOUT_MS, maxMessageBytes: 65536, hardMaxMessageBytes: 65536 },
  };
  const { config, problems } = validateConfig(raw, configPlugins);
  assert.deepEqual(problems, []);
  const gateway = await Gateway.start(config!, { logger: quietLogger });
  const port = (name: string) => (gateway.listeners.find((l) => l.config.name === name)!.address as { port: number }).port;
  return { gateway, wsUrl: `ws://127.0.0.1:${port('ws')}/ws`, rawPort: port('devices') };
}

async function call(app: AppSession, proc: string, args: unknown[] = []): Promise<{ args: unknown[]; kwargs: Record<string, unknown> }> {
  const r = await app.session.call(proc, args);
  if (r && typeof r === 'object' && 'args' in r) return { args: r.args ?? [], kwargs: r.kwargs ?? {} };
  return { args: [r], kwargs: {} };
}

function lineMatching(sim: Simulator, re: RegExp): RegExpExecArray | undefined {
  for (const l of sim.lines) {
    const m = re.exec(l);
    if (m) return m;
  }
  return undefined;
}

test(
  'sensor over TCP (gcc, POSIX sockets): RawSocket handshake, ticket auth, publishes, is called, calls, answers PING; a wrong ticket is aborted',
  { timeout: 180_000 },
  async (t) => {
    requireTools({ gcc: 'gcc', make: 'make' });
    const build = path.join(dir, 'build');
    makeFirmware('tcp', build);
    const exe = path.join(build, 'tcp', 'sensor-tcp');

    const gw = await startGateway();
    cleanups.push(() => gw.gateway.stop());
    const app = await openApp(gw.wsUrl, [`${PREFIX}.reading`, `${PREFIX}.called`]);
    cleanups.push(() => closeApp(app));
    const scaleCalls: unknown[][] = [];
    await app.session.register('app.scale', (args: unknown[]) => {
      scaleCalls.push(args);
      return (args[0] as number) * 2;
    });

    const dev = Simulator.start(exe, ['--authid', 'esp32-kitchen', '--ticket', TICKET, '--reading', '2150', '127.0.0.1', String(gw.rawPort)]);
    cleanups.push(() => dev.stop());
    const joined = await waitFor(`the device to join (output: ${JSON.stringify(dev.lines)})`, () => lineMatching(dev, /^JOINED session=(\d+)/));
    const session = Number(joined[1]);
    // Max-length negotiation: the device offered 2^(9+1) = 1 KiB (its 1 KiB rx buffer), CBOR;
    // the router answered with its own limit, 64 KiB, which the device now keeps to.
    assert.ok(lineMatching(dev, /^HANDSHAKE sent=7f130000$/), JSON.stringify(dev.lines));
    assert.ok(lineMatching(dev, /^HANDSHAKE received=7f730000 send_limit=65536$/), JSON.stringify(dev.lines));
    // CHALLENGE -> AUTHENTICATE -> WELCOME: the router knows the session as the ticket principal.
    const info = (await call(app, 'wamp.session.get', [session])).args[0] as Record<string, unknown>;
    assert.equal(info.authid, 'esp32-kitchen');
    assert.equal(info.authrole, 'device');
    assert.equal(info.authmethod, 'ticket');

    // Readings: [value, seq], seq consecutive.
    const readings = app.events[`${PREFIX}.reading`]!;
    await waitFor(`two readings on ${PREFIX}.reading`, () => readings.length >= 2);
    assert.equal(readings[0]!.args[0], 2150);
    assert.equal(readings[1]!.args[1], (readings[0]!.args[1] as number) + 1);
    // AutobahnJS calls the device.
    assert.deepEqual((await call(app, `${PREFIX}.add`, [2, 3])).args, [5]);
    assert.deepEqual((await call(app, `${PREFIX}.add`, [-40000, 70000])).args, [30000]);
    await assert.rejects(call(app, `${PREFIX}.add`, ['x']), (e: { error?: string }) => e.error === 'wamp.error.invalid_argument');
    // The device calls AutobahnJS's procedure and publishes the result.
    const called = app.events[`${PREFIX}.called`]!;
    await waitFor(`the device's call of app.scale to come back as ${PREFIX}.called`, () => called.length >= 1);
    assert.deepEqual(scaleCalls, [[2150]]);
    assert.deepEqual(called[0]!.args, [4300]);

    // PING/PONG: the router pings every 300 ms; the device answers each one, and the session
    // outlives many keepalive deadlines.
    const pings = () => lastPings(dev);
    await waitFor('the device to answer 6 PINGs', () => pings() >= 6, 30_000);
    const stats = (await call(app, `${PREFIX}.stats`)).kwargs;
    assert.ok((stats.pings as number) >= 6, JSON.stringify(stats));
    assert.equal(stats.oversized, 0);
    assert.equal(stats.bad_messages, 0);
    assert.equal(stats.joins, 1);
    assert.ok(!dev.lines.some((l) => l.startsWith('DISCONNECTED') || l.startsWith('LEFT')), JSON.stringify(dev.lines));
    assert.deepEqual((await call(app, `${PREFIX}.add`, [20, 22])).args, [42]);
    t.diagnostic(`device stats ${JSON.stringify(stats)}`);

    // A wrong ticket: ABORT wamp.error.authentication_failed, no session, the router closes.
    const failuresBefore = gw.gateway.router.stats.authFailures;
    const wrong = Simulator.start(exe, ['--authid', 'esp32-kitchen', '--ticket', 'not-the-ticket', '127.0.0.1', String(gw.rawPort)]);
    cleanups.push(() => wrong.stop());
    await waitFor(`the wrong ticket's ABORT (output: ${JSON.stringify(wrong.lines)})`, () =>
      lineMatching(wrong, /^LEFT reason=wamp\.error\.authentication_failed$/),
    );
    await waitFor('the router to close the refused connection', () => lineMatching(wrong, /^DISCONNECTED$/));
    assert.ok(!lineMatching(wrong, /^JOINED/), JSON.stringify(wrong.lines));
    assert.equal(gw.gateway.router.stats.authFailures, failuresBefore + 1);
    await wrong.stop();

    // The good device was not disturbed; it leaves cleanly on SIGTERM.
    assert.deepEqual((await call(app, `${PREFIX}.add`, [1, 1])).args, [2]);
    await dev.stop();
    assert.equal(await dev.exited, 0);
    assert.ok(lineMatching(dev, /^STATS .* oversized=0 bad_messages=0 tx_overflow=0 /), JSON.stringify(dev.lines));
  },
);

function lastPings(sim: Simulator): number {
  let n = 0;
  for (const l of sim.lines) {
    const m = /^PONG pings=(\d+)$/.exec(l);
    if (m) n = Number(m[1]);
  }
  return n;
}
