// A device's HELLO retry that crosses the WELCOME (a loaded gateway, or a WELCOME lost on the
// line) must not cost it the session: over a real pty, the frame port answers a HELLO identical
// to the one that started the session, before anything else from the device, with the same
// WELCOME instead of passing it to the router (where it would be a protocol violation).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cborSerializer } from '../../../src/serializers/cbor';
import { FrameDecoder, encodeFrame } from '../../../src/transports/serial/frame-codec';
import { serialPartFactory, type SerialPart } from '../../../src/bridges/serial/part';
import type { FramePortStatus } from '../../../src/bridges/serial/frame-port';
import type { SerialFrameConfig } from '../../../src/bridges/serial/config';
import { defaultConfig } from '../../../src/config/defaults';
import { withSection } from '../../../src/config/section';
import { bridgesSection } from '../../../src/bridges/config';
import { localSessions, type PartContext } from '../../../src/gateway-part';
import { assertServesFreshSession, startRouter } from '../../helpers/local-router';
import { routerView } from '../../../src/core/router-view';
import { frameWelcomeBytes } from '../../../src/bridges/serial/welcome-size';
import { PtyPair, RawDevice, waitFor } from './serial-support';

let dir = '';
const cleanups: Array<() => Promise<void> | void> = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-serial-hello-'));
});
after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  fs.rmSync(dir, { recursive: true, force: true });
});

const hello = cborSerializer.encode([1, 'realm1', { roles: { publisher: {}, subscriber: {} }, agent: 'test-device' }]);
const frame = (msg: unknown[]) => Buffer.from(encodeFrame(cborSerializer.encode(msg), { leadingDelimiter: true }));

/** What the device end of the pty has received, decoded. */
function received(device: RawDevice): unknown[][] {
  return frames(device).map((f) => cborSerializer.decode(f) as unknown[]);
}
function frames(device: RawDevice): Buffer[] {
  return new FrameDecoder({ maxPayload: 4096 }).push(device.received);
}

test('a repeated HELLO crossing the WELCOME gets the same WELCOME again, not an ABORT; after other traffic a HELLO still does', async () => {
  const pty = new PtyPair(dir, 'hello');
  await pty.plug();
  cleanups.push(() => pty.unplug());
  const { router, logs } = await startRouter();
  cleanups.push(() => router.close());
  const portConfig: SerialFrameConfig = { name: 'rep', path: pty.a, mode: 'frame', realm: 'realm1', authid: 'device-r', authrole: 'device' };
  const config = withSection(defaultConfig(), bridgesSection, { serial: [portConfig] });
  const part = serialPartFactory(config)[0]!;
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

  const device = await RawDevice.open(pty.b);
  cleanups.push(() => device.close());
  // The HELLO and its retry back to back: the retry reaches the gateway after the WELCOME left
  // it and before the device read it, as when the device's retry timer fires on a slow line.
  const helloFrame = Buffer.from(encodeFrame(hello, { leadingDelimiter: true }));
  await device.write(Buffer.concat([helloFrame, helloFrame]));
  await waitFor('two WELCOMEs at the device', () => received(device).filter((m) => m[0] === 2).length === 2);
  const [w1, w2] = received(device).filter((m) => m[0] === 2);
  assert.equal(w1![1], w2![1], 'the same session both times');
  const session = w1![1];
  assert.equal(status().session, session);
  assert.equal(status().counters.repeatedHellos, 1);
  assert.equal(logs.filter((l) => l.msg.startsWith('repeated HELLO')).length, 1);
  // The config check's WELCOME size (wampgate check refuses a smaller maxFrameBytes) is the
  // real one: its longest session ID takes 9 bytes, a real one 9 or (below 2^32) 5.
  const welcomeBytes = frames(device)[0]!.length;
  const expected = frameWelcomeBytes({ realm: 'realm1', authid: 'device-r', authrole: 'device' });
  assert.ok(welcomeBytes <= expected && welcomeBytes >= expected - 4, `WELCOME ${welcomeBytes} B, check says ${expected}`);

  // The session works: SUBSCRIBE -> SUBSCRIBED, no ABORT anywhere.
  await device.write(frame([32, 1, {}, 'dev.cmd']));
  await waitFor('SUBSCRIBED', () => received(device).some((m) => m[0] === 33 && m[1] === 1));
  assert.ok(!received(device).some((m) => m[0] === 3), JSON.stringify(received(device)));
  assert.equal(status().session, session);

  // After other traffic the same HELLO is a new session attempt on an established one (a device
  // that rebooted): ABORT, as before, which makes a wampdev device rejoin.
  await device.write(helloFrame);
  await waitFor('the ABORT', () => received(device).some((m) => m[0] === 3));
  const abort = received(device).find((m) => m[0] === 3)!;
  assert.equal(abort[2], 'wamp.error.protocol_violation');
  assert.equal(status().counters.repeatedHellos, 1);
  // ... and the device's next HELLO starts a fresh session.
  await device.write(helloFrame);
  await waitFor('a third WELCOME, for a new session', () => received(device).filter((m) => m[0] === 2).length === 3);
  const w3 = received(device).filter((m) => m[0] === 2)[2]!;
  assert.notEqual(w3[1], session);
  await waitFor('the new session in the port status', () => status().session === w3[1]);
  await assertServesFreshSession(router);
});
