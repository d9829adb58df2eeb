// Bounded memory before authentication, over real sockets against a real gateway: the small
// pre-auth message limit (lifted by WELCOME), the caps on connections waiting to authenticate
// (overall and per address), the process-wide budget for partially received messages, the
// WELCOME that fits a 512-byte RawSocket peer, and one counted WARN line per refused connection.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import WebSocket from 'ws';
import { MessageType } from '../../../src/protocol/message-types';
import type { LimitsConfig } from '../../../src/config/types';
import { captureLogger, type LogEntry } from '../../helpers/local-router';
import { assertServes, startTestGateway, until, within, type TestGateway } from '../support/gateway';
import { HELLO, openRawTcp, openRawWs, rawFrame } from '../support/raw';
import { wsReceiver } from '../../../src/transports/websocket/connection';

const limits: Partial<LimitsConfig> = {
  preAuthMaxMessageBytes: 4096,
  maxPendingConnections: 6,
  maxPendingConnectionsPerAddress: 3,
  preAuthBufferBytes: 10 * 1024,
  inboundBufferBytes: 200 * 1024,
  maxMessageBytes: 256 * 1024,
  hardMaxMessageBytes: 256 * 1024,
  helloTimeoutMs: 5_000,
};

let tg: TestGateway;
let entries: LogEntry[];
before(async () => {
  const captured = captureLogger();
  entries = captured.entries;
  tg = await startTestGateway(limits, undefined, { logger: captured.logger });
});
after(async () => {
  await tg.stop();
});

const closedFor = (reason: string): number => tg.gateway.router.stats.connectionsClosed[reason] ?? 0;
const warnsFor = (reason: string): LogEntry[] => entries.filter((e) => e.level === 'warn' && e.fields?.reason === reason);

/** A PUBLISH (acknowledged) whose JSON text is about `bytes` long. */
function publishOf(bytes: number, request = 1): string {
  return JSON.stringify([MessageType.PUBLISH, request, { acknowledge: true }, 'com.example.big', ['x'.repeat(bytes)]]);
}

/** Waits until no connection of an earlier test is still pending, so each test starts clean. */
async function settled(): Promise<void> {
  await until(() => tg.gateway.guard.stats.pending === 0 && tg.gateway.guard.stats.heldBytes === 0, 'no pending connections and no held bytes');
}

describe('pre-authentication message limit', () => {
  test('WebSocket: a message over preAuthMaxMessageBytes before WELCOME closes with 1009, one WARN, counted', async () => {
    await settled();
    const before = closedFor('pre_auth_message_too_large');
    const c = await openRawWs(tg.wsUrl);
    c.sendText(publishOf(8000));
    const { code } = await within(c.closed, 'the WebSocket to close');
    assert.equal(code, 1009);
    await until(() => closedFor('pre_auth_message_too_large') === before + 1, 'the close to be counted');
    const warn = warnsFor('pre_auth_message_too_large').at(-1);
    assert.ok(warn, 'a WARN line names the close');
    assert.match(String(warn.fields?.peer), /^127\.0\.0\.1:\d+$/);
    assert.equal(warn.fields?.limit, 4096);
    assert.ok(Number(warn.fields?.bytes) > 4096, 'the line carries the message size');
    await assertServes(tg, 'websocket');
  });

  test('WebSocket: after WELCOME the same message passes (the limit is lifted to maxMessageBytes)', async () => {
    await settled();
    const c = await openRawWs(tg.wsUrl);
    c.sendText(JSON.stringify(HELLO));
    assert.equal(((await c.nextJson('WELCOME')) as unknown[])[0], MessageType.WELCOME);
    c.sendText(publishOf(100_000, 7));
    const published = (await c.nextJson('PUBLISHED')) as unknown[];
    assert.deepEqual(published.slice(0, 2), [MessageType.PUBLISHED, 7]);
    c.close();
  });

  test('RawSocket: a frame over the pre-auth limit is refused at its header; the WARN names the message type', async () => {
    await settled();
    const before = closedFor('pre_auth_message_too_large');
    const c = await openRawTcp({ port: tg.tcpPort });
    await c.handshake(1, 24);
    c.send(Buffer.from(publishOf(8000)));
    await within(c.closed, 'the RawSocket connection to close');
    await until(() => closedFor('pre_auth_message_too_large') === before + 1, 'the close to be counted');
    const warn = warnsFor('pre_auth_message_too_large').at(-1);
    assert.equal(warn?.fields?.messageType, 'PUBLISH');
    assert.equal(warn?.fields?.limit, 4096);
    assert.ok(Number(warn?.fields?.bytes) > 8000);
    await assertServes(tg, 'rawsocket-tcp');
  });

  test('RawSocket: after WELCOME a 100 kB PUBLISH passes', async () => {
    await settled();
    const c = await openRawTcp({ port: tg.tcpPort });
    await c.handshake(1, 24);
    c.sendJson(HELLO);
    assert.equal(((await c.nextJson('WELCOME')) as unknown[])[0], MessageType.WELCOME);
    c.send(Buffer.from(publishOf(100_000, 9)));
    assert.deepEqual(((await c.nextJson('PUBLISHED')) as unknown[]).slice(0, 2), [MessageType.PUBLISHED, 9]);
    c.destroy();
  });
});

/** A TCP connection from `localAddress` that sends nothing. */
function stalled(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return within(
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress });
      s.on('error', () => undefined);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    }),
    'a TCP connection',
  );
}

/** Everything the router sends on a fresh connection until it closes it. */
function answerOf(s: net.Socket): Promise<Buffer> {
  let data = Buffer.alloc(0);
  s.on('data', (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
  return within(new Promise<Buffer>((resolve) => s.once('close', () => resolve(data))), 'the router to close the refused connection');
}

describe('caps on connections waiting to authenticate', () => {
  const wsPort = (): number => Number(new URL(tg.wsUrl).port);

  test('per address: the 4th stalled connection from one address is refused at once (503, RawSocket error 4); a joined session keeps working', async () => {
    await settled();
    const joined = await tg.client('websocket', 'json');
    const before = closedFor('pending_limit_per_address');
    const held = [await stalled(wsPort()), await stalled(tg.tcpPort), await stalled(wsPort())];
    await until(() => tg.gateway.guard.stats.pending === 3, 'three pending connections');
    const refusedWs = await stalled(wsPort());
    assert.match((await answerOf(refusedWs)).toString('latin1'), /^HTTP\/1\.1 503 /);
    const refusedRaw = await stalled(tg.tcpPort);
    // Spec: error reply 0x7F, error code 4 ("maximum connection count reached") in the high nibble.
    assert.deepEqual([...(await answerOf(refusedRaw)).subarray(0, 2)], [0x7f, 0x40]);
    assert.equal(closedFor('pending_limit_per_address'), before + 2);
    assert.ok(warnsFor('pending_limit_per_address').length > 0, 'refusals are logged');
    // The session that authenticated before is not pending and not refused.
    await joined.publish('com.example.still', ['works'], {}, { acknowledge: true });
    for (const s of held) s.destroy();
    await settled();
    await assertServes(tg, 'websocket');
    await joined.close();
  });

  test('regression: a WebSocket refused at accept whose upgrade request (and a frame) arrives anyway is counted once, never upgraded', async () => {
    await settled();
    const before = closedFor('pending_limit_per_address');
    const held = [await stalled(wsPort()), await stalled(wsPort()), await stalled(wsPort())];
    await until(() => tg.gateway.guard.stats.pending === 3, 'three pending connections');
    const refused = await stalled(wsPort());
    const answer = answerOf(refused);
    // The client does not wait for the answer: its upgrade and a first frame are on the way.
    refused.write(
      'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n',
    );
    // Room again before the request is read: a second look at it must not admit it now.
    for (const s of held) s.destroy();
    const text = (await answer).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 503 /);
    assert.doesNotMatch(text, /101 Switching Protocols/);
    assert.equal(closedFor('pending_limit_per_address'), before + 1, 'one refusal, counted once');
    await settled();
  });

  test('overall: with 6 pending from three addresses, a 7th from a fourth address is refused', async () => {
    await settled();
    const before = closedFor('pending_limit');
    const held: net.Socket[] = [];
    for (const addr of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) for (let i = 0; i < 2; i++) held.push(await stalled(tg.tcpPort, addr));
    await until(() => tg.gateway.guard.stats.pending === 6, 'six pending connections');
    const refused = await stalled(tg.tcpPort, '127.0.0.4');
    assert.deepEqual([...(await answerOf(refused)).subarray(0, 2)], [0x7f, 0x40]);
    assert.equal(closedFor('pending_limit'), before + 1);
    for (const s of held) s.destroy();
    await settled();
  });
});

describe('the reserve for known addresses', () => {
  test('with the pending cap full from elsewhere, an address that authenticated before still joins; a new one is refused', async () => {
    await settled();
    // 127.0.0.1 becomes known by joining once.
    const first = await tg.client('websocket', 'json');
    await first.close();
    const held: net.Socket[] = [];
    for (const addr of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) for (let i = 0; i < 2; i++) held.push(await stalled(tg.tcpPort, addr));
    await until(() => tg.gateway.guard.stats.pending === 6, 'six pending connections');
    const fromReserve = tg.gateway.guard.stats.admittedFromReserve;
    const before = closedFor('pending_limit');
    const refused = await stalled(tg.tcpPort, '127.0.0.5');
    assert.deepEqual([...(await answerOf(refused)).subarray(0, 2)], [0x7f, 0x40], 'a never-seen address is refused');
    assert.equal(closedFor('pending_limit'), before + 1);
    // The known address joins over both transports while the cap stays full.
    await assertServes(tg, 'websocket');
    await assertServes(tg, 'rawsocket-tcp');
    assert.equal(tg.gateway.guard.stats.admittedFromReserve, fromReserve + 2, 'both were admitted from the reserve');
    for (const s of held) s.destroy();
    await settled();
  });
});

describe('the budget for partially received messages', () => {
  test('before WELCOME: connections holding partial frames beyond preAuthBufferBytes are closed (1013 / TCP close), counted', async () => {
    await settled();
    const before = closedFor('buffer_budget_full');
    // Three connections each send 3500 bytes of a 4090-byte frame: the third takes the held
    // bytes over the 10 KiB pre-auth share.
    const frame = Buffer.from(publishOf(4000).slice(0, 4050));
    const sockets = [];
    for (let i = 0; i < 3; i++) {
      const c = await openRawTcp({ port: tg.tcpPort });
      await c.handshake(1, 24);
      const header = rawFrame(Buffer.alloc(4090)).subarray(0, 4);
      c.write(Buffer.concat([header, frame.subarray(0, 3500)]));
      sockets.push(c);
      if (i < 2) await until(() => tg.gateway.guard.stats.preAuthHeldBytes >= 3500 * sockets.length, 'the partial frame to be held');
    }
    await until(() => closedFor('buffer_budget_full') === before + 1, 'one connection closed for the budget');
    assert.ok(tg.gateway.guard.stats.preAuthHeldBytes <= 10 * 1024, 'the pre-auth share is never exceeded');
    const warn = warnsFor('buffer_budget_full').at(-1);
    assert.equal(warn?.fields?.limit, 200 * 1024);
    for (const c of sockets) c.destroy();
    await settled();
    await assertServes(tg, 'rawsocket-tcp');
  });

  test('after WELCOME: a WebSocket message that would take the process over inboundBufferBytes is closed with 1013', async () => {
    await settled();
    const before = closedFor('buffer_budget_full');
    const c = await openRawWs(tg.wsUrl);
    c.sendText(JSON.stringify(HELLO));
    await c.nextJson('WELCOME');
    // Fragments of one message, 64 kB each, never finished: 4 of them go over 200 KiB.
    const part = Buffer.alloc(64_000, 0x20);
    for (let i = 0; i < 4; i++) c.ws.send(part, { fin: false, binary: false });
    const { code } = await within(c.closed, 'the WebSocket to close');
    assert.equal(code, 1013);
    assert.equal(closedFor('buffer_budget_full'), before + 1);
    await settled();
    await assertServes(tg, 'websocket');
  });
});

describe('small RawSocket peers', () => {
  test('a peer announcing 512 bytes gets a WELCOME that fits, and its session works', async () => {
    await settled();
    const c = await openRawTcp({ port: tg.tcpPort });
    await c.handshake(1, 9);
    c.sendJson(HELLO);
    const f = await c.frames.next('WELCOME');
    assert.ok(f.payload.length <= 512, `WELCOME is ${f.payload.length} bytes`);
    const welcome = JSON.parse(f.payload.toString('utf8')) as [number, number, { roles: Record<string, unknown> }];
    assert.equal(welcome[0], MessageType.WELCOME);
    assert.deepEqual(Object.keys(welcome[2].roles).sort(), ['broker', 'dealer']);
    c.sendJson([MessageType.PUBLISH, 3, { acknowledge: true }, 'com.example.small', ['hi']]);
    assert.deepEqual(((await c.nextJson('PUBLISHED')) as unknown[]).slice(0, 2), [MessageType.PUBLISHED, 3]);
    c.destroy();
  });
});

test('ws internals the per-connection limits rely on exist (guards a ws upgrade)', async () => {
  const c = await openRawWs(tg.wsUrl);
  assert.ok(wsReceiver(c.ws as WebSocket), 'ws Receiver has _maxPayload, _bufferedBytes, _fragments');
  c.close();
});
