// Serial line mode end to end over socat ptys with the real serialport bindings: a "sensor"
// writes lines on one pty, the LineBridge reads the other and publishes; a WAMP client receives
// the events. Also unmatched lines, over-length lines, garbage, the write procedure, unplug and
// replug. Waits are event-driven with generous limits; nothing asserts on timing.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LineBridge } from '../../../src/bridges/serial/line-bridge';
import { resolveSerialPort, type SerialLineConfig } from '../../../src/bridges/serial/config';
import { assertServesFreshSession, collectEvents, connectClient, startRouter } from '../../helpers/local-router';
import { PtyPair, RawDevice, waitFor } from './serial-support';
import { localSessions } from '../../../src/gateway-part';

let dir = '';
const cleanups: Array<() => Promise<void> | void> = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-serial-line-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function setup(name: string, extra: Partial<SerialLineConfig> = {}) {
  const pty = new PtyPair(dir, name);
  await pty.plug();
  cleanups.push(() => pty.unplug());
  const { router, logs } = await startRouter();
  cleanups.push(() => router.close());
  const config: SerialLineConfig = {
    name,
    path: pty.a,
    mode: 'line',
    realm: 'realm1',
    maxLineBytes: 64,
    reopen: { minMs: 100, maxMs: 400 },
    writeProcedure: `sensors.${name}.write`,
    rules: [
      { match: '^T=(?<value>-?\\d+(\\.\\d+)?)$', topic: 'sensors.{port}.temperature', args: ['{value:number}'], kwargs: { unit: 'C' } },
      { json: true, topic: 'sensors.{port}.{$.kind}', args: ['{$.value}'] },
    ],
    ...extra,
  };
  const bridge = new LineBridge(resolveSerialPort(config), { router: localSessions(router), logger: router.logger });
  cleanups.push(() => bridge.stop());
  await bridge.start();
  await waitFor('the port open', () => bridge.status().state === 'open');
  const client = await connectClient(router);
  cleanups.push(() => client.close());
  const device = await RawDevice.open(pty.b);
  cleanups.push(() => device.close());
  return { pty, router, logs, bridge, client, device };
}

test('lines map to WAMP events; unmatched lines go to the log topic; over-length and garbage are counted', async () => {
  const { router, bridge, client, device } = await setup('s1');
  const temps = await collectEvents(client, 'sensors.s1.temperature');
  const humid = await collectEvents(client, 'sensors.s1.humidity');
  const unmatched = await collectEvents(client, 'wampgate.serial.s1.unmatched');

  await device.write('T=21.5\r\n{"kind":"humidity","value":40}\nhello sensor\n');
  const t = await temps.waitFor(() => true, 10_000);
  assert.deepEqual(t.args, [21.5]);
  assert.deepEqual(t.kwargs, { unit: 'C' });
  assert.deepEqual((await humid.waitFor(() => true, 10_000)).args, [40]);
  const u = await unmatched.waitFor(() => true, 10_000);
  assert.deepEqual(u.args, ['hello sensor']);
  assert.deepEqual(u.kwargs, { port: 's1', reason: 'not JSON' });

  // A line over 64 bytes, binary garbage without a newline (over the limit too), garbage with
  // a newline (unmatched), then a good line: it still arrives.
  const garbage = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256).filter((b) => b !== 0x0a));
  await device.write('T=' + '9'.repeat(100) + '\n');
  await device.write(Buffer.concat([garbage, Buffer.from('\n'), Buffer.from([0x00, 0xff, 0xfe, 0x41, 0x0a]), Buffer.from('T=-4\n')]));
  await temps.waitFor((e) => e.args[0] === -4, 10_000);
  await unmatched.waitFor((e) => e.args[0] === '\u0000\ufffd\ufffdA', 10_000);
  const c = bridge.status().counters;
  assert.equal(c.overLength, 2);
  assert.equal(c.published, 3);
  assert.equal(c.unmatched, 2);
  assert.equal(c.lines, 5);
  assert.equal(temps.events.length, 2);

  // The write procedure sends one line to the device.
  const r = await client.call('sensors.s1.write', ['LED=1']);
  assert.deepEqual(r.args, [6]);
  await waitFor('the line at the device', () => device.received.toString() === 'LED=1\n');
  await assert.rejects(client.call('sensors.s1.write', ['two\nlines']), /invalid_argument/);
  assert.equal(bridge.status().counters.writes, 1);
  await assertServesFreshSession(router);
});

test('unplug and replug: the bridge says unplugged, reopens by itself and publishes again', async () => {
  const { pty, logs, bridge, client, device } = await setup('s2');
  const temps = await collectEvents(client, 'sensors.s2.temperature');
  await device.write('T=1\n');
  await temps.waitFor((e) => e.args[0] === 1, 10_000);

  await device.close();
  await pty.unplug();
  await waitFor('state unplugged', () => bridge.status().state === 'unplugged');
  await waitFor('a failed reopen attempt', () => bridge.status().nextRetryMs !== undefined);
  await assert.rejects(client.call('sensors.s2.write', ['x']), /wampgate\.error\.serial\.not_open/);

  await pty.plug();
  await waitFor('state open again', () => bridge.status().state === 'open');
  const again = await RawDevice.open(pty.b);
  cleanups.push(() => again.close());
  await again.write('T=2\n');
  await temps.waitFor((e) => e.args[0] === 2, 10_000);
  assert.equal(bridge.status().counters.opens, 2);
  assert.ok(logs.some((l) => l.level === 'warn' && l.msg === 'serial port unplugged' && l.component === 'wampgate.serial.s2'));
  assert.ok(logs.some((l) => l.msg === 'serial port reopened'));
});

test('a port path that does not exist never crashes; the bridge keeps retrying and reports it', async () => {
  const { router } = await startRouter();
  cleanups.push(() => router.close());
  const bridge = new LineBridge(
    resolveSerialPort({ name: 'ghost', path: path.join(dir, 'nothing-here'), mode: 'line', realm: 'realm1', rules: [], reopen: { minMs: 50, maxMs: 200 } }),
    { router: localSessions(router) },
  );
  cleanups.push(() => bridge.stop());
  await bridge.start();
  await waitFor('a retry at the longest delay', () => bridge.status().nextRetryMs === 200);
  const s = bridge.status();
  assert.equal(s.state, 'unplugged');
  assert.equal(s.session, 'joined');
  assert.match(s.lastError ?? '', /No such file|ENOENT|cannot open/i);
});
