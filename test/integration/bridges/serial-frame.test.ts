// Serial frame mode end to end: the C firmware's host build (wampdev-host) on one end of a socat
// pty pair, the serial bridge part (FramePort over SerialLink) on the other, a real Router, and
// a WAMP client over the local transport. The device joins with the identity the port config
// names, publishes, subscribes, is called and calls; corrupt frames injected on the line are
// counted while the session goes on; unplug/replug makes the bridge reopen and the device rejoin.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cborSerializer } from '../../../src/serializers/cbor';
import { encodeFrame } from '../../../src/transports/serial/frame-codec';
import { serialPartFactory, type SerialPart } from '../../../src/bridges/serial/part';
import type { FramePortStatus } from '../../../src/bridges/serial/frame-port';
import { resolveSerialPort, type SerialFrameConfig } from '../../../src/bridges/serial/config';
import type { GatewayConfig } from '../../../src/config/types';
import { ConfigSections } from '../../../src/config/section';
import { bridgesSection } from '../../../src/bridges/config';
import { localSessions, type PartContext } from '../../../src/gateway-part';
import { assertServesFreshSession, collectEvents, connectClient, startRouter } from '../../helpers/local-router';
import { bridgeStatus } from '../../../src/ops/gateway-status';
import { routerView } from '../../../src/core/router-view';
import { HostProcess, PtyPair, buildWampdevHost, injectBytes, waitFor } from './serial-support';

let dir = '';
let host = '';
const cleanups: Array<() => Promise<void> | void> = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-serial-frame-'));
  host = buildWampdevHost(path.join(dir, 'fw-build'));
});
after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  fs.rmSync(dir, { recursive: true, force: true });
});

function bridgeSections(port: SerialFrameConfig): ConfigSections {
  const sections = new ConfigSections();
  sections.set(bridgesSection, { mqtt: [], serial: [resolveSerialPort(port)] }, { serial: [port] });
  return sections;
}

test('a firmware device joins as the configured identity, publishes, is called, calls, survives corrupt frames and rejoins after replug', async () => {
  const pty = new PtyPair(dir, 'dev');
  await pty.plug();
  cleanups.push(() => pty.unplug());
  const { router, logs } = await startRouter();
  cleanups.push(() => router.close());

  const portConfig: SerialFrameConfig = {
    name: 'dev7',
    path: pty.a,
    mode: 'frame',
    realm: 'realm1',
    authid: 'device-7',
    authrole: 'device',
    reopen: { minMs: 100, maxMs: 400 },
  };
  const config = { realms: [{ name: 'realm1' }], sections: bridgeSections(portConfig) } as unknown as GatewayConfig;
  const parts = serialPartFactory(config);
  assert.equal(parts.length, 1);
  const part = parts[0]!;
  assert.equal(part.name, 'serial:dev7');
  const ctx: PartContext = {
    sessions: localSessions(router),
    realms: [...router.realms.keys()],
    logger: router.logger,
    dataDir: dir,
    maxMessageBytes: 16 * 1024 * 1024,
    gateway: { router: routerView(router), listeners: () => [], parts: () => ({}) },
  };
  await part.start(ctx);
  cleanups.push(() => part.stop());
  const status = () => (part as SerialPart).portStatus() as FramePortStatus;
  await waitFor('the port open', () => status().state === 'open');

  const client = await connectClient(router);
  cleanups.push(() => client.close());
  const joins = await collectEvents(client, 'wamp.session.on_join');
  const counter = await collectEvents(client, 'dev.counter');
  const mulCalls: unknown[][] = [];
  await client.register('math.mul', (args) => {
    mulCalls.push(args);
    return (args[0] as number) * (args[1] as number);
  });

  const deviceArgs = [
    pty.b,
    'realm1',
    '--prefix',
    'dev',
    '--count',
    '3',
    '--interval',
    '20',
    '--subscribe',
    'dev.cmd',
    '--call',
    'math.mul',
    '--args',
    '6,7',
    '--authid',
    'spoofed',
  ];
  const dev = HostProcess.start(host, deviceArgs);
  cleanups.push(() => dev.kill());

  // Joined with the port's identity (the authid in HELLO is ignored), over the serial transport.
  const join = await joins.waitFor((e) => (e.args[0] as { transport: { type: string } }).transport.type === 'serial', 10_000);
  const info = join.args[0] as { session: number; authid: string; authrole: string; realm?: string };
  assert.equal(info.authid, 'device-7');
  assert.equal(info.authrole, 'device');
  await waitFor('the session in the port status', () => status().session === info.session);
  // The status page sees the part as a bridge.
  const shown = bridgeStatus(part.status());
  assert.deepEqual([shown?.name, shown?.kind, shown?.state], ['dev7', 'serial-frame', 'connected']);

  // Device publishes; a WAMP client receives.
  await counter.waitFor((e) => e.args[0] === 3, 10_000);
  assert.deepEqual(
    counter.events.map((e) => [e.args, e.kwargs]),
    [1, 2, 3].map((n) => [[n], { prefix: 'dev' }]),
  );
  // Device calls a procedure a WAMP client registered.
  await waitFor('the RESULT at the device', () => dev.line((l) => l === 'RESULT procedure=math.mul args=[42] kwargs={}'));
  assert.deepEqual(mulCalls, [[6, 7]]);
  await waitFor('WORK_DONE', () => dev.line((l) => l === 'WORK_DONE published=3'));
  // A WAMP client calls the device's procedure, and publishes to its subscription.
  assert.deepEqual((await client.call('dev.add', [2, 3])).args, [5]);
  await assert.rejects(client.call('dev.add', ['x']), /wamp\.error\.invalid_argument/);
  await client.publish('dev.cmd', ['on'], { level: 3 });
  await waitFor('the EVENT at the device', () => dev.line((l) => l.startsWith('EVENT topic=dev.cmd') && l.endsWith('args=["on"] kwargs={"level":3}')));

  // Corrupt frames on the line: counted and dropped, the session goes on.
  const bad = Buffer.from(encodeFrame(cborSerializer.encode([16, 99, {}, 'dev.counter', [666]]), { leadingDelimiter: true }));
  bad[4] = bad[4]! ^ 0x20;
  injectBytes(pty.b, Buffer.concat([Buffer.from([0]), Buffer.from('line noise \x01\x02\x03'), Buffer.from([0]), bad, Buffer.from([0x09, 0x01, 0x02, 0x00])]));
  await waitFor('the corrupt frames counted', () => {
    const c = status().counters;
    return c.crcErrors >= 1 && c.cobsErrors >= 2;
  });
  assert.deepEqual((await client.call('dev.add', [20, 22])).args, [42]);
  assert.equal(status().session, info.session);
  assert.ok(!counter.events.some((e) => e.args[0] === 666));

  // Unplug: the bridge reports it, the device session ends; replug: it reopens, the device rejoins.
  // Regression: with the device still holding its end, the gateway's hung-up pty reads as EOF,
  // which the serialport bindings retry forever without an error; ReopeningPort's presence
  // check is what notices.
  await pty.unplug();
  await waitFor('state unplugged', () => status().state === 'unplugged');
  assert.equal(status().session, undefined);
  await dev.exited; // the host program exits on hangup, as a USB device would vanish
  assert.ok(logs.some((l) => l.level === 'warn' && l.msg === 'serial port unplugged'));

  await pty.plug();
  await waitFor('state open again', () => status().state === 'open');
  const dev2 = HostProcess.start(host, [pty.b, 'realm1', '--prefix', 'dev', '--count', '1', '--interval', '10']);
  cleanups.push(() => dev2.kill());
  const rejoin = await joins.waitFor((e) => {
    const s = e.args[0] as { session: number; authid: string };
    return s.authid === 'device-7' && s.session !== info.session;
  }, 10_000);
  assert.equal((rejoin.args[0] as { authrole: string }).authrole, 'device');
  await waitFor('WORK_DONE after rejoin', () => dev2.line((l) => l === 'WORK_DONE published=1'));
  assert.deepEqual((await client.call('dev.add', [40, 2])).args, [42]);
  const s = status();
  assert.equal(s.counters.opens, 2);
  assert.equal(s.session, (rejoin.args[0] as { session: number }).session);
  assert.ok(logs.some((l) => l.msg === 'serial port reopened'));

  // Clean leave: GOODBYE through the bridge, and the device saw no bad frames from the router.
  dev2.child.kill('SIGTERM');
  assert.equal(await dev2.exited, 0);
  assert.match(dev2.line((l) => l.startsWith('STATS')) ?? '', /crc_errors=0 cobs_errors=0 oversized=0 bad_messages=0/);
  await assertServesFreshSession(router);
});

test('a frame port on a realm that is not configured fails its start with a clear message', async () => {
  const { router } = await startRouter();
  cleanups.push(() => router.close());
  const portConfig: SerialFrameConfig = { name: 'x', path: path.join(dir, 'none'), mode: 'frame', realm: 'nope', authid: 'a', authrole: 'b' };
  // Set directly, past validation (which would refuse the realm): the part's own check is under test.
  const config = { sections: bridgeSections(portConfig) } as unknown as GatewayConfig;
  const part = serialPartFactory(config)[0]!;
  await assert.rejects(
    part.start({
      sessions: localSessions(router),
      realms: [...router.realms.keys()],
      logger: router.logger,
      dataDir: dir,
      maxMessageBytes: 16 * 1024 * 1024,
      gateway: { router: routerView(router), listeners: () => [], parts: () => ({}) },
    }),
    /no realm "nope"/,
  );
  assert.equal(part.status().state, 'stopped');
});
