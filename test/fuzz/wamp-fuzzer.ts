// A seeded black-box fuzzer for the router over real sockets: valid WAMP requests with mutated
// fields (exotic values: BigInt, deep nesting, huge strings, wrong types) and raw frames with
// flipped, cut or appended bytes, before and after HELLO, over WebSocket and RawSocket with each
// serializer. After every batch it checks what a client is owed: each request the router
// accepted answered exactly once (a reply or ERROR), or an ABORT; and the internal_error counter
// still 0. Used by the bounded test in `npm test` and by `npm run fuzz` (≥ 100k frames each).

import fc from 'fast-check';
import * as net from 'node:net';
import WebSocket from 'ws';
import type { Gateway } from '../../src/gateway';
import { MessageType } from '../../src/protocol/message-types';
import { serializerByName, type Serializer } from '../../src/serializers';

export type FuzzTransport = 'websocket' | 'rawsocket';
export type FuzzSerializer = 'json' | 'msgpack' | 'cbor';

export interface FuzzOptions {
  gateway: Gateway;
  wsUrl: string;
  tcpPort: number;
  transport: FuzzTransport;
  serializer: FuzzSerializer;
  seed: number;
  /** Frames to send in all (fuzzed ones; HELLOs and sentinels come on top). */
  frames: number;
  /** Fuzzed frames per connection. */
  batch?: number;
}

export interface FuzzReport {
  frames: number;
  connections: number;
  aborts: number;
  answered: number;
  /** Each names a request the router accepted but never answered, or answered twice. */
  failures: string[];
}

/** Requests that must get exactly one answer, by message type: the answer types. */
const answers: Record<number, number[]> = {
  [MessageType.PUBLISH]: [MessageType.PUBLISHED],
  [MessageType.SUBSCRIBE]: [MessageType.SUBSCRIBED],
  [MessageType.UNSUBSCRIBE]: [MessageType.UNSUBSCRIBED],
  [MessageType.CALL]: [MessageType.RESULT],
  [MessageType.REGISTER]: [MessageType.REGISTERED],
  [MessageType.UNREGISTER]: [MessageType.UNREGISTERED],
};

const SENTINEL = 2 ** 40;

const exotic: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant('x'.repeat(3000)),
  fc.integer({ min: 1, max: 3000 }).map((depth) => {
    let v: unknown = 'bottom';
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  }),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.bigInt()), { maxKeys: 4 }),
  fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
);

const uri = fc.oneof(fc.constantFrom('com.example.a', 'com.example.b', 'wamp.session.count', 'wamp.registration.list', 'com.example'), exotic);
const id = fc.oneof(fc.integer({ min: 1, max: 2 ** 31 }), exotic);
const dict = fc.oneof(
  fc.record({ acknowledge: fc.constant(true) }),
  fc.record({ acknowledge: fc.constant(true), match: fc.oneof(fc.constantFrom('prefix', 'wildcard', 'exact'), exotic) }),
  fc.record({ acknowledge: fc.constant(true), invoke: exotic, exclude: exotic, eligible: exotic, disclose_me: exotic }),
  fc.dictionary(fc.string({ maxLength: 10 }), exotic, { maxKeys: 3 }),
  exotic,
);

/** A client-to-router message with some of its fields replaced by exotic values. */
const request: fc.Arbitrary<unknown[]> = fc.oneof(
  fc.tuple(
    fc.constant(MessageType.PUBLISH),
    id,
    dict,
    uri,
    fc.array(exotic, { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), exotic, { maxKeys: 2 }),
  ),
  fc.tuple(fc.constant(MessageType.SUBSCRIBE), id, dict, uri),
  fc.tuple(fc.constant(MessageType.UNSUBSCRIBE), id, id),
  fc.tuple(fc.constant(MessageType.CALL), id, dict, uri, fc.array(exotic, { maxLength: 3 })),
  fc.tuple(fc.constant(MessageType.REGISTER), id, dict, uri),
  fc.tuple(fc.constant(MessageType.UNREGISTER), id, id),
  fc.tuple(fc.constant(MessageType.CANCEL), id, dict),
  fc.tuple(fc.constant(MessageType.YIELD), id, dict, fc.array(exotic, { maxLength: 2 })),
  fc.tuple(fc.constantFrom(MessageType.HELLO, MessageType.GOODBYE, MessageType.ERROR, MessageType.EVENT, 99, 0), exotic, exotic),
  fc.array(exotic, { maxLength: 6 }),
);

const hello: fc.Arbitrary<unknown[]> = fc.oneof(
  fc.constant<unknown[]>([MessageType.HELLO, 'realm1', { roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} } }]),
  fc.tuple(
    fc.constant(MessageType.HELLO),
    fc.oneof(fc.constant('realm1'), exotic),
    fc.record(
      { roles: fc.oneof(fc.constant({ publisher: {} }), exotic), authid: exotic, agent: exotic, authextra: exotic, authmethods: exotic },
      { requiredKeys: [] },
    ),
  ),
);

/** How a frame is damaged after encoding, for raw-frame cases. */
const damage = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

interface Case {
  helloFirst: boolean;
  hello: unknown[];
  frames: Array<{ msg: unknown[]; damage?: { kind: 'flip'; at: number; bits: number } | { kind: 'cut'; at: number } | { kind: 'append'; bytes: Uint8Array } }>;
}

function caseArb(batch: number): fc.Arbitrary<Case> {
  return fc.record({
    helloFirst: fc.boolean(),
    hello,
    frames: fc.array(fc.record({ msg: request, damage: fc.option(damage, { freq: 4, nil: undefined }) }, { requiredKeys: ['msg'] }), {
      minLength: 1,
      maxLength: batch,
    }),
  });
}

function applyDamage(frame: Buffer, d: NonNullable<Case['frames'][number]['damage']>): Buffer {
  const out = Buffer.from(frame);
  if (d.kind === 'flip') {
    if (out.length > 0) out[d.at % out.length] = ((out[d.at % out.length] as number) ^ d.bits) & 0xff;
    return out;
  }
  if (d.kind === 'cut') return out.subarray(0, d.at % Math.max(1, out.length));
  return Buffer.concat([out, Buffer.from(d.bytes)]);
}

/** One connection speaking raw frames; decodes what the router sends. */
interface Conn {
  send(frame: Buffer): void;
  inbox: unknown[][];
  closed: Promise<void>;
  isClosed(): boolean;
  onMessage(cb: () => void): void;
  close(): void;
}

async function openConn(options: FuzzOptions, serializer: Serializer): Promise<Conn> {
  const inbox: unknown[][] = [];
  const watchers: Array<() => void> = [];
  let closedFlag = false;
  const push = (frame: Buffer): void => {
    try {
      inbox.push(serializer.decode(frame) as unknown[]);
    } catch {
      inbox.push(['undecodable']);
    }
    for (const w of watchers.splice(0)) w();
  };
  if (options.transport === 'websocket') {
    const ws = new WebSocket(options.wsUrl, [serializer.subprotocol], { perMessageDeflate: false });
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => push(data));
    const closed = new Promise<void>((resolve) =>
      ws.once('close', () => {
        closedFlag = true;
        for (const w of watchers.splice(0)) w();
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('close', () => reject(new Error('closed during the upgrade')));
    });
    return {
      send: (f) => ws.send(f, { binary: serializer.binary }),
      inbox,
      closed,
      isClosed: () => closedFlag,
      onMessage: (cb) => watchers.push(cb),
      close: () => ws.terminate(),
    };
  }
  const socket = net.connect({ host: '127.0.0.1', port: options.tcpPort });
  socket.on('error', () => undefined);
  let buf = Buffer.alloc(0);
  let handshaken = false;
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('close', () => reject(new Error('closed during the handshake')));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!handshaken) {
        if (buf.length < 4) return;
        handshaken = true;
        buf = buf.subarray(4);
        resolve();
      }
      while (buf.length >= 4) {
        const len = buf.readUIntBE(1, 3);
        if (buf.length < 4 + len) break;
        if ((buf[0] as number) === 0) push(buf.subarray(4, 4 + len));
        buf = buf.subarray(4 + len);
      }
    });
  });
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closedFlag = true;
      for (const w of watchers.splice(0)) w();
      resolve();
    }),
  );
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(Buffer.from([0x7f, 0xf0 | serializer.rawSocketId, 0, 0]));
  await ready;
  return {
    send: (f) => {
      const h = Buffer.alloc(4);
      h.writeUIntBE(f.length, 1, 3);
      socket.write(Buffer.concat([h, f]));
    },
    inbox,
    closed,
    isClosed: () => closedFlag,
    onMessage: (cb) => watchers.push(cb),
    close: () => socket.destroy(),
  };
}

/** Waits until `done()` holds or the connection closes; false on timeout. */
function waitFor(conn: Conn, done: () => boolean, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const check = (): void => {
      if (done() || conn.isClosed()) {
        clearTimeout(timer);
        resolve(true);
      } else conn.onMessage(check);
    };
    check();
  });
}

function encodeOrUndefined(serializer: Serializer, msg: unknown[]): Buffer | undefined {
  try {
    return serializer.encode(msg);
  } catch {
    return undefined;
  }
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const serializer = serializerByName(options.serializer) as Serializer;
  const report: FuzzReport = { frames: 0, connections: 0, aborts: 0, answered: 0, failures: [] };
  const batch = options.batch ?? 20;
  // More cases than needed (a fuzzed HELLO often ends a case early); the loop stops at `frames`.
  const cases = fc.sample(caseArb(batch), { seed: options.seed, numRuns: options.frames });
  const internalBefore = options.gateway.router.stats.internalErrors;
  for (const [n, c] of cases.entries()) {
    if (report.frames >= options.frames) break;
    const where = `${options.transport}/${options.serializer} seed ${options.seed} case ${n}`;
    const conn = await openConn(options, serializer);
    report.connections++;
    try {
      if (c.helloFirst) {
        const frame = encodeOrUndefined(serializer, c.hello);
        if (frame) {
          conn.send(frame);
          report.frames++;
          // A HELLO is owed a WELCOME, a CHALLENGE or an ABORT, at once (not the hello timeout).
          const ok = await waitFor(conn, () => conn.inbox.length > 0, 3000);
          if (!ok) report.failures.push(`${where}: HELLO ${describe(c.hello)} got no answer`);
        }
      } else {
        conn.send(serializer.encode([MessageType.HELLO, 'realm1', { roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} } }]));
        await waitFor(conn, () => conn.inbox.length > 0, 3000);
      }
      const welcomed = conn.inbox[0]?.[0] === MessageType.WELCOME;
      if (!welcomed || conn.isClosed()) continue;
      /** request id -> answers seen: "exactly one" per accepted request */
      const owed = new Map<number, { type: number; msg: unknown[] }>();
      for (const f of c.frames) {
        let frame = encodeOrUndefined(serializer, f.msg);
        if (!frame) continue;
        if (f.damage) frame = applyDamage(frame, f.damage);
        else {
          const [type, request, options] = f.msg as [number, unknown, unknown];
          const acked =
            type !== MessageType.PUBLISH || (typeof options === 'object' && options !== null && (options as Record<string, unknown>).acknowledge === true);
          if (
            typeof type === 'number' &&
            answers[type] &&
            typeof request === 'number' &&
            Number.isSafeInteger(request) &&
            request > 0 &&
            acked &&
            !owed.has(request)
          ) {
            owed.set(request, { type, msg: f.msg });
          }
        }
        conn.send(frame);
        report.frames++;
      }
      conn.send(serializer.encode([MessageType.PUBLISH, SENTINEL, { acknowledge: true }, 'com.example.sentinel', []]));
      const sentinelDone = (): boolean => conn.inbox.some((m) => m[0] === MessageType.PUBLISHED && m[1] === SENTINEL);
      const finished = await waitFor(conn, () => sentinelDone() || conn.inbox.some((m) => m[0] === MessageType.ABORT), 5000);
      const aborted = conn.inbox.some((m) => m[0] === MessageType.ABORT || m[0] === MessageType.GOODBYE);
      if (aborted || (conn.isClosed() && !sentinelDone())) {
        report.aborts++;
        continue;
      }
      if (!finished) {
        report.failures.push(`${where}: neither the sentinel's PUBLISHED nor an ABORT arrived`);
        continue;
      }
      // INVOCATIONs of procedures this connection registered are answered so calls complete.
      for (const [request, { type, msg }] of owed) {
        const replies = conn.inbox.filter(
          (m) => (m[0] === MessageType.ERROR && m[1] === type && m[2] === request) || ((answers[type] ?? []).includes(m[0] as number) && m[1] === request),
        );
        const calledItself = type === MessageType.CALL && conn.inbox.some((m) => m[0] === MessageType.INVOCATION);
        if (replies.length === 1 || (replies.length === 0 && calledItself)) report.answered++;
        else report.failures.push(`${where}: ${describe(msg)} got ${replies.length} answers`);
      }
    } finally {
      conn.close();
      await conn.closed;
    }
    const internal = options.gateway.router.stats.internalErrors - internalBefore;
    if (internal > 0) {
      report.failures.push(`${where}: internal_error rose by ${internal}`);
      break;
    }
  }
  return report;
}

function describe(msg: unknown): string {
  try {
    const text = JSON.stringify(msg, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return '[undescribable]';
  }
}
