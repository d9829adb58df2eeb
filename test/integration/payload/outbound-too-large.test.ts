// Never a silent loss on the way out (issue 9): a message the router would send over the
// maximum length a RawSocket peer announced in its handshake is not sent, and someone hears of
// it. A raw TCP client written here announces 512 bytes (LLLL = 0); AutobahnJS over WebSocket
// is the third-party peer on the other side of each call and publication.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Gateway } from '../../../src/gateway';
import { createLogger } from '../../../src/util/logger';
import { Inbox, tempDir, testConfig, until, within } from '../support/gateway';
import { openAutobahn, type AbError } from '../support/third-party';

/** AutobahnJS's own error class: a callee that throws it sends ERROR with that URI and args. */
const autobahnError = (require('autobahn') as { Error: new (error: string, args?: unknown[]) => Error }).Error;

interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}
const lines: LogLine[] = [];
let gateway: Gateway;
let dir: ReturnType<typeof tempDir>;
let url: string;
let rawPort: number;

before(async () => {
  dir = tempDir('wampgate-too-large-');
  const logger = createLogger({ level: 'warn', sink: (level, _component, msg, fields) => lines.push({ level, msg, fields: fields ?? {} }) });
  gateway = await Gateway.start(testConfig(join(dir.path, 'wamp.sock')), { logger });
  url = `ws://127.0.0.1:${(gateway.listeners[0]?.address as { port: number }).port}/ws`;
  rawPort = (gateway.listeners[1]?.address as { port: number }).port;
});
after(async () => {
  await gateway.stop();
  dir.remove();
});

/** A RawSocket client speaking JSON, byte by byte per the spec ("RawSocket Transport"): its
 * handshake announces a maximum message length of 2^(9 + lengthExp) bytes. */
class TinyRawSocketClient {
  readonly received: unknown[][] = [];
  private buffer = Buffer.alloc(0);
  session = 0;
  private constructor(private readonly socket: Socket) {}

  static async open(port: number, lengthExp = 0): Promise<TinyRawSocketClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await within(new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 'the RawSocket TCP connection');
    socket.write(Buffer.from([0x7f, (lengthExp << 4) | 1, 0, 0]));
    const reply = await within(new Promise<Buffer>((resolve) => socket.once('data', resolve)), 'the RawSocket handshake reply');
    assert.equal(reply[0], 0x7f, 'handshake reply magic');
    assert.equal((reply[1] as number) & 0x0f, 1, 'the router accepts JSON');
    const client = new TinyRawSocketClient(socket);
    if (reply.length > 4) client.feed(reply.subarray(4));
    socket.on('data', (data: Buffer) => client.feed(data));
    return client;
  }

  private feed(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUIntBE(1, 3);
      if (this.buffer.length < 4 + length) return;
      const kind = (this.buffer[0] as number) & 0x07;
      const payload = this.buffer.subarray(4, 4 + length);
      this.buffer = this.buffer.subarray(4 + length);
      // The frame the router sends can never exceed what we announced.
      assert.ok(length <= 512, `a ${length}-byte frame arrived over the announced 512 bytes`);
      if (kind === 1)
        this.write(2, payload); // PING -> PONG
      else if (kind === 0) this.received.push(JSON.parse(payload.toString('utf8')) as unknown[]);
    }
  }

  private write(kind: number, payload: Buffer): void {
    const header = Buffer.alloc(4);
    header.writeUIntBE(payload.length, 1, 3);
    header[0] = kind;
    this.socket.write(Buffer.concat([header, payload]));
  }

  send(msg: unknown[]): void {
    this.write(0, Buffer.from(JSON.stringify(msg)));
  }

  async next(type: number, what: string, from = 0): Promise<unknown[]> {
    await until(() => this.received.slice(from).some((m) => m[0] === type), what);
    return this.received.slice(from).find((m) => m[0] === type) as unknown[];
  }

  count(type: number): number {
    return this.received.filter((m) => m[0] === type).length;
  }

  async join(): Promise<void> {
    this.send([1, 'realm1', { roles: { caller: {}, callee: {}, subscriber: {}, publisher: {} } }]);
    const welcome = await this.next(2, 'WELCOME for the 512-byte RawSocket client');
    this.session = welcome[1] as number;
  }

  close(): void {
    this.socket.destroy();
  }
}

function warnsFor(session: number, text: RegExp): LogLine[] {
  return lines.filter((l) => l.level === 'warn' && l.fields.session === session && text.test(l.msg));
}

function dropsLine(reason: string): RegExp {
  return new RegExp(`wampgate_messages_dropped_total\\{reason="${reason}"\\} ([0-9]+)`);
}

function metrics(): string {
  const { renderPrometheus } = require('../../../src/ops/prometheus') as { renderPrometheus: (s: unknown) => string };
  const { routerStatus } = require('../../../src/ops/router-status') as typeof import('../../../src/ops/router-status');
  const { routerView } = require('../../../src/core/router-view') as typeof import('../../../src/core/router-view');
  return renderPrometheus({ router: routerStatus(routerView(gateway.router)) });
}

test("an INVOCATION over the callee's announced RawSocket length: the AutobahnJS caller gets ERROR payload_size_exceeded with the sizes at once, the callee is never invoked, counted and logged", async () => {
  const callee = await TinyRawSocketClient.open(rawPort);
  const caller = await openAutobahn({ url, serializer: 'json' });
  try {
    await callee.join();
    callee.send([64, 1, {}, 'com.small.echo']);
    await callee.next(65, 'REGISTERED');
    const before = gateway.router.stats.messagesTooLarge;
    const err = await within(
      caller.session.call('com.small.echo', ['x'.repeat(2000)]).then(
        () => assert.fail('the call should have failed'),
        (e: AbError) => e,
      ),
      'the ERROR for the oversized INVOCATION',
    );
    assert.equal(err.error, 'wamp.error.payload_size_exceeded');
    assert.equal(err.kwargs.limit_bytes, 512);
    assert.ok((err.kwargs.message_bytes as number) > 2000, `message_bytes ${String(err.kwargs.message_bytes)}`);
    assert.match(String(err.args[0]), /INVOCATION message is \d+ bytes, over the 512-byte maximum message length the callee's transport announced/);
    assert.equal(gateway.router.stats.messagesTooLarge, before + 1);
    // The callee was not invoked: a small call that follows is the first INVOCATION it sees.
    const small = caller.session.call('com.small.echo', ['ok']);
    const inv = await callee.next(68, 'the small INVOCATION');
    assert.equal(callee.count(68), 1, 'the oversized INVOCATION never reached the callee');
    callee.send([70, inv[1], {}, inv[4]]);
    assert.equal(await within(small, 'the small call'), 'ok');
    const warn = warnsFor(callee.session, /message not sent: over the maximum message length/);
    assert.equal(warn.length, 1);
    assert.equal(warn[0]?.fields.type, 'INVOCATION');
    assert.equal(warn[0]?.fields.limit, 512);
    assert.match(metrics(), dropsLine('too_large_call'));
  } finally {
    callee.close();
    await caller.close();
  }
});

test("a RESULT over the caller's announced RawSocket length: the caller gets an ERROR that fits, with the sizes; a callee's ERROR keeps its URI", async () => {
  const caller = await TinyRawSocketClient.open(rawPort);
  const callee = await openAutobahn({ url, serializer: 'json' });
  try {
    await caller.join();
    await callee.session.register('com.big.result', (args) => 'y'.repeat(args[0] as number));
    await callee.session.register('com.big.error', () => {
      throw new autobahnError('com.example.failed', ['z'.repeat(2000)]);
    });
    const before = gateway.router.stats.messagesTooLarge;
    caller.send([48, 1, {}, 'com.big.result', [2000]]);
    const error = await caller.next(8, 'the ERROR for the oversized RESULT');
    assert.deepEqual(error.slice(0, 3), [8, 48, 1]);
    assert.equal(error[4], 'wamp.error.payload_size_exceeded');
    assert.equal((error[6] as Record<string, number>).limit_bytes, 512);
    assert.ok(((error[6] as Record<string, number>).message_bytes as number) > 2000);
    assert.match(String((error[5] as string[])[0]), /RESULT message is \d+ bytes, over the 512-byte maximum message length your transport announced/);
    // A small result still arrives, the session goes on.
    const mark = caller.received.length;
    caller.send([48, 2, {}, 'com.big.result', [10]]);
    assert.deepEqual((await caller.next(50, 'the small RESULT', mark)).slice(0, 2), [50, 2]);
    // The callee's ERROR: its URI stays, its payload gives way to the sizes.
    const mark2 = caller.received.length;
    caller.send([48, 3, {}, 'com.big.error', []]);
    const calleeError = await caller.next(8, "the callee's ERROR", mark2);
    assert.equal(calleeError[4], 'com.example.failed');
    assert.equal((calleeError[6] as Record<string, number>).limit_bytes, 512);
    assert.equal(gateway.router.stats.messagesTooLarge, before + 2);
    const warns = warnsFor(caller.session, /message not sent: over the maximum message length/);
    assert.deepEqual(
      warns.map((w) => w.fields.type),
      ['RESULT', 'ERROR'],
    );
  } finally {
    caller.close();
    await callee.close();
  }
});

test("an EVENT over the subscriber's announced RawSocket length is dropped for that subscriber only: counted as too_large_event every time, one WARN line per session", async () => {
  const small = await TinyRawSocketClient.open(rawPort);
  const other = await openAutobahn({ url, serializer: 'json' });
  const pub = await openAutobahn({ url, serializer: 'json' });
  try {
    await small.join();
    small.send([32, 1, {}, 'com.big.event']);
    await small.next(33, 'SUBSCRIBED');
    const inbox = new Inbox<unknown[]>();
    await other.session.subscribe('com.big.event', (args) => inbox.push(args));
    const before = gateway.router.stats.eventsTooLarge;
    for (const size of [2000, 3000, 5]) {
      await within(pub.session.publish('com.big.event', ['e'.repeat(size)], {}, { acknowledge: true }) as Promise<unknown>, `PUBLISHED for ${size}`);
    }
    // The other subscriber gets all three; the small one only the last.
    for (const size of [2000, 3000, 5]) assert.equal(((await inbox.next(`the ${size}-byte event`))[0] as string).length, size);
    const event = await small.next(36, 'the small EVENT');
    assert.equal(((event[4] as string[])[0] as string).length, 5);
    assert.equal(small.count(36), 1);
    assert.equal(gateway.router.stats.eventsTooLarge, before + 2);
    const warns = warnsFor(small.session, /event dropped: over the maximum message length/);
    assert.equal(warns.length, 1, 'one WARN line for the session');
    assert.equal(warns[0]?.fields.limit, 512);
    assert.ok((warns[0]?.fields.bytes as number) > 2000);
    assert.equal(Number(dropsLine('too_large_event').exec(metrics())?.[1]), before + 2);
  } finally {
    small.close();
    await Promise.all([other.close(), pub.close()]);
  }
});
