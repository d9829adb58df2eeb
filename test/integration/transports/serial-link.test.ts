// Serial frame mode over real pseudo-terminals: socat joins two ptys, the link opens one end
// and the test plays the device on the other. Waits are event-driven with generous limits;
// nothing asserts on timing.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SerialPort } from 'serialport';
import { cborSerializer } from '../../../src/serializers/cbor';
import type { Message } from '../../../src/protocol/messages';
import type { Peer } from '../../../src/protocol/peer';
import type { SessionId } from '../../../src/protocol/ids';
import { SerialLink, type SerialLinkState } from '../../../src/transports/serial/serial-link';
import { FrameDecoder, encodeFrame } from '../../../src/transports/serial/frame-codec';

const WAIT_MS = 20_000;

async function waitFor<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let dir = '';
let socat: ChildProcess | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

async function startSocat(): Promise<void> {
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  socat = child;
  await waitFor('socat pty links', () => fs.existsSync(a) && fs.existsSync(b) && !child.killed);
}

async function stopSocat(): Promise<void> {
  const child = socat;
  socat = undefined;
  if (!child || child.exitCode !== null) return;
  // SIGTERM, not SIGKILL: socat then removes its links, like a USB device vanishing from /dev.
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}

/** The test's side of the line: a second serial port on the other pty, decoding frames. */
class Device {
  readonly messages: unknown[] = [];
  readonly decoder = new FrameDecoder();
  constructor(readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) this.messages.push(cborSerializer.decode(f));
    });
    port.on('error', () => undefined);
  }
  static async open(p: string): Promise<Device> {
    const port = new SerialPort({ path: p, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    const dev = new Device(port);
    cleanups.push(() => dev.close());
    return dev;
  }
  async write(bytes: Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.port.write(bytes, (err) => (err ? reject(err) : resolve()));
      this.port.drain(() => undefined);
    });
  }
  send(wire: unknown[]): Promise<void> {
    return this.write(encodeFrame(cborSerializer.encode(wire), { leadingDelimiter: true }));
  }
  async close(): Promise<void> {
    if (this.port.isOpen) await new Promise<void>((r) => this.port.close(() => r()));
  }
}

interface Harness {
  link: SerialLink;
  peers: Peer[];
  received: Message[][];
  closes: string[][];
  states: SerialLinkState[];
}

function openLink(): Harness {
  const h: Harness = { link: undefined as unknown as SerialLink, peers: [], received: [], closes: [], states: [] };
  h.link = new SerialLink({
    path: path.join(dir, 'a'),
    name: 'test-port',
    reopenMinMs: 100,
    reopenMaxMs: 800,
    onStateChange: (s) => h.states.push(s),
    onPeer: (peer) => {
      const inbox: Message[] = [];
      const closes: string[] = [];
      h.peers.push(peer);
      h.received.push(inbox);
      h.closes.push(closes);
      peer.setListener({
        // Own string keys only: the payload's saved bytes ride on a symbol key (transport data).
        onMessage: (m) => inbox.push(Object.fromEntries(Object.entries(m)) as Message),
        onProtocolViolation: (r) => closes.push(`violation: ${r}`),
        onClose: (r) => closes.push(r),
      });
    },
  });
  h.link.start();
  cleanups.push(() => h.link.close());
  return h;
}

const hello = [1, 'realm1', { roles: { publisher: {}, subscriber: {} } }];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-serial-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stopSocat();
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a framed HELLO and PUBLISH from the device reach the peer, and a WELCOME goes back framed', async () => {
  await startSocat();
  const h = openLink();
  const dev = await Device.open(path.join(dir, 'b'));
  const peer = await waitFor('the first peer', () => h.peers[0]);
  assert.deepEqual(peer.transport, { type: 'serial', serializer: 'cbor', peer: `serial:${path.join(dir, 'a')}`, loopback: true, listener: 'test-port' });

  await dev.send(hello);
  await dev.send([16, 7, { acknowledge: true }, 'sensor.temp', [21.5, 'C'], { unit: 'celsius' }]);
  const inbox = h.received[0]!;
  await waitFor('two messages', () => inbox.length >= 2);
  assert.deepEqual(inbox[0], { type: 1, realm: 'realm1', details: { roles: { publisher: {}, subscriber: {} } } });
  assert.deepEqual(inbox[1], { type: 16, request: 7, options: { acknowledge: true }, topic: 'sensor.temp', args: [21.5, 'C'], kwargs: { unit: 'celsius' } });

  peer.send({ type: 2, session: 9007199254740000 as SessionId, details: { roles: { broker: {} } } });
  peer.send({ type: 17, request: 7 as never, publication: 42 as never });
  await waitFor('framed replies at the device', () => dev.messages.length >= 2);
  assert.deepEqual(dev.messages, [
    [2, 9007199254740000, { roles: { broker: {} } }],
    [17, 7, 42],
  ]);
  const s = h.link.status();
  assert.equal(s.state, 'open');
  assert.equal(s.counters.frames, 2);
  assert.equal(s.counters.framesOut, 2);
});

test('corrupt frames are counted and dropped while the stream goes on', async () => {
  await startSocat();
  const h = openLink();
  const dev = await Device.open(path.join(dir, 'b'));
  await waitFor('the first peer', () => h.peers[0]);

  const good1 = encodeFrame(cborSerializer.encode([32, 1, {}, 'a.b']), { leadingDelimiter: true });
  const bad = Buffer.from(encodeFrame(cborSerializer.encode([32, 2, {}, 'c.d'])));
  bad[3] = bad[3]! ^ 0x40;
  const notCobs = Buffer.from([0x09, 0x01, 0x02, 0x00]); // code byte points past the delimiter
  const good2 = encodeFrame(cborSerializer.encode([32, 3, {}, 'e.f']));
  await dev.write(Buffer.concat([Buffer.from('boot noise'), good1, bad, notCobs, Buffer.from([1, 2, 3]), Buffer.from([0]), good2]));

  const inbox = h.received[0]!;
  await waitFor('the two good frames', () => inbox.length >= 2);
  assert.deepEqual(
    inbox.map((m) => (m as { request: number }).request),
    [1, 3],
  );
  await waitFor('the error counters', () => {
    const c = h.link.status().counters;
    return c.frames === 2 && c.crcErrors + c.cobsErrors >= 3;
  });
  assert.equal(h.link.status().counters.droppedBytes, 'boot noise'.length);
  assert.deepEqual(h.closes[0], []);
});

test('after the router closes a peer, the device speaking again starts a new peer', async () => {
  await startSocat();
  const h = openLink();
  const dev = await Device.open(path.join(dir, 'b'));
  const first = await waitFor('the first peer', () => h.peers[0]);
  await dev.send(hello);
  await waitFor('HELLO', () => h.received[0]!.length >= 1);
  first.send({ type: 3, details: {}, reason: 'wamp.error.no_such_realm' });
  first.close('aborted');
  await waitFor('ABORT at the device', () => dev.messages.length >= 1);
  assert.deepEqual(dev.messages[0], [3, {}, 'wamp.error.no_such_realm']);
  assert.equal(h.link.status().peerActive, false);

  await dev.send([1, 'realm2', { roles: { caller: {} } }]);
  const second = await waitFor('a second peer', () => h.peers[1]);
  await waitFor('HELLO on the second peer', () => h.received[1]!.length >= 1);
  assert.equal((h.received[1]![0] as { realm: string }).realm, 'realm2');
  assert.equal(second.closed, false);
  assert.equal(h.link.status().state, 'open');
});

test('unplug and replug: the link goes unplugged, reopens by itself, and a new peer works', async () => {
  await startSocat();
  const h = openLink();
  let dev = await Device.open(path.join(dir, 'b'));
  const first = await waitFor('the first peer', () => h.peers[0]);
  await dev.send(hello);
  await waitFor('HELLO', () => h.received[0]!.length >= 1);

  await dev.close();
  await stopSocat();
  await waitFor('state unplugged', () => h.link.status().state === 'unplugged');
  await waitFor('the old peer to be closed', () => first.closed);
  assert.equal(h.closes[0]!.length, 1);
  assert.match(h.closes[0]![0]!, /serial port lost/);
  assert.equal(first.bufferedBytes(), 0);
  // Sending on a dead peer is a no-op, never a throw.
  first.send({ type: 6, details: {}, reason: 'wamp.close.goodbye_and_out' });
  // While the path is absent the link keeps retrying without giving up.
  await waitFor('a failed reopen attempt', () => h.link.status().lastError !== undefined);
  assert.equal(h.link.status().state, 'unplugged');

  await startSocat();
  await waitFor('state open again', () => h.link.status().state === 'open');
  const second = await waitFor('a new peer', () => h.peers[1]);
  assert.notEqual(second, first);
  dev = await Device.open(path.join(dir, 'b'));
  await dev.send([1, 'realm1', { roles: { callee: {} } }]);
  await waitFor('HELLO on the new peer', () => h.received[1]!.length >= 1);
  second.send({ type: 2, session: 5 as SessionId, details: {} });
  await waitFor('WELCOME at the device', () => dev.messages.length >= 1);
  assert.deepEqual(dev.messages[0], [2, 5, {}]);
  assert.deepEqual(
    h.states.filter((s, i, a) => a[i - 1] !== s),
    ['opening', 'open', 'unplugged', 'open'],
  );
  assert.equal(h.link.status().counters.opens, 2);

  await h.link.close();
  assert.equal(h.link.status().state, 'closed');
  assert.equal(second.closed, true);
});

test('a path that never appears is retried without crashing, and close() stops the retries', async () => {
  const h = openLink();
  await waitFor('state unplugged', () => h.link.status().state === 'unplugged');
  await waitFor('a retry with a longer delay', () => (h.link.status().nextRetryMs ?? 0) >= 400);
  assert.equal(h.peers.length, 0);
  await h.link.close();
  assert.equal(h.link.status().state, 'closed');
});

// The device side in C (firmware-bridge, built as wampdev-host) against this link, with the
// test as a scripted router: proves the two framings and CBOR dialects interoperate.
test('the C firmware (wampdev-host) joins, publishes, subscribes, is invoked and calls through the link', async () => {
  const root = path.resolve(__dirname, '../../../..');
  // Its own build directory: the firmware unit test may be running make in parallel.
  const build = path.join(dir, 'fw-build');
  execFileSync('make', ['-C', path.join(root, 'firmware-bridge'), 'host', `BUILD=${build}`], { stdio: 'pipe' });
  await startSocat();
  const h = openLink();
  const peer = await waitFor('the first peer', () => h.peers[0]);
  const inbox = h.received[0]!;
  const host = spawn(
    path.join(build, 'wampdev-host'),
    [
      path.join(dir, 'b'),
      'realm1',
      '--prefix',
      'dev',
      '--count',
      '2',
      '--interval',
      '10',
      '--acknowledge',
      '--subscribe',
      'dev.cmd',
      '--call',
      'math.mul',
      '--args',
      '6,7',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  let buf = '';
  host.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((r) => host.once('exit', (code) => r(code)));
  cleanups.push(() => {
    if (host.exitCode === null) host.kill('SIGKILL');
  });

  // Large IDs travel as float64 from cbor-x: the device must read them as integers.
  const session = 4503599627370497;
  const registration = 2 ** 40;
  const seen = (type: number) => inbox.filter((m) => m.type === type);
  const done = new Set<Message>();
  let invoked = false;
  let nextPublication = 100;
  const routerStep = () => {
    for (const m of inbox) {
      if (done.has(m)) continue;
      done.add(m);
      if (m.type === 1) peer.send({ type: 2, session: session as SessionId, details: { roles: { broker: {}, dealer: {} } } });
      if (m.type === 32) peer.send({ type: 33, request: m.request, subscription: 7 as never });
      if (m.type === 64) peer.send({ type: 65, request: m.request, registration: registration as never });
      if (m.type === 16 && m.options.acknowledge === true) peer.send({ type: 17, request: m.request, publication: nextPublication++ as never });
      if (m.type === 48) peer.send({ type: 50, request: m.request, details: {}, args: [42] });
      if (m.type === 6) {
        peer.send({ type: 6, details: {}, reason: 'wamp.close.goodbye_and_out' });
        peer.close('goodbye');
      }
    }
    if (!invoked && lines.some((l) => l.startsWith('REGISTERED'))) {
      invoked = true;
      peer.send({ type: 36, subscription: 7 as never, publication: 99 as never, details: {}, args: ['on'], kwargs: { level: 3 } });
      peer.send({ type: 68, request: 1 as never, registration: registration as never, details: {}, args: [2, 3] });
      peer.send({ type: 68, request: 2 as never, registration: registration as never, details: {}, args: ['x'] });
    }
  };
  const timer = setInterval(routerStep, 10);
  cleanups.push(() => clearInterval(timer));

  await waitFor('the device to finish its script', () => lines.includes('WORK_DONE published=2'));
  await waitFor('the YIELD and the ERROR', () => seen(70).length >= 1 && seen(8).length >= 1);
  host.kill('SIGTERM');
  assert.equal(await exited, 0);
  clearInterval(timer);
  routerStep();

  const hello = seen(1)[0] as Message & { realm: string; details: { roles: Record<string, unknown> } };
  assert.equal(hello.realm, 'realm1');
  assert.deepEqual(Object.keys(hello.details.roles).sort(), ['callee', 'caller', 'publisher', 'subscriber']);
  assert.deepEqual(
    seen(16).map((m) => [(m as { topic: string }).topic, (m as { args?: unknown[] }).args, (m as { kwargs?: unknown }).kwargs]),
    [
      ['dev.counter', [1], { prefix: 'dev' }],
      ['dev.counter', [2], { prefix: 'dev' }],
    ],
  );
  assert.deepEqual((seen(64)[0] as { procedure: string }).procedure, 'dev.add');
  assert.deepEqual((seen(48)[0] as { procedure: string; args?: unknown[] }).args, [6, 7]);
  assert.deepEqual(seen(70)[0], { type: 70, request: 1, options: {}, args: [5] });
  assert.deepEqual(seen(8)[0], { type: 8, requestType: 68, request: 2, details: {}, error: 'wamp.error.invalid_argument', args: ['add expects two integers'] });
  assert.equal(seen(6).length, 1);

  assert.ok(lines.includes(`JOINED session=${session} realm=realm1`), lines.join('\n'));
  assert.ok(lines.includes('SUBSCRIBED topic=dev.cmd subscription=7'));
  assert.ok(lines.includes(`REGISTERED procedure=dev.add registration=${registration}`));
  assert.ok(lines.includes('PUBLISHED request=3 publication=100'), lines.join('\n'));
  assert.ok(lines.includes('EVENT topic=dev.cmd subscription=7 args=["on"] kwargs={"level":3}'));
  assert.ok(lines.includes('INVOCATION procedure=dev.add request=1 args=[2,3] kwargs={} result=5'));
  assert.ok(lines.includes('RESULT procedure=math.mul args=[42] kwargs={}'));
  assert.ok(lines.includes('DONE'));
  assert.match(lines.find((l) => l.startsWith('STATS')) ?? '', /crc_errors=0 cobs_errors=0 oversized=0 bad_messages=0/);
  const c = h.link.status().counters;
  assert.equal(c.crcErrors + c.cobsErrors + c.oversized, 0);
});
