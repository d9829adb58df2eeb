// A seeded black-box fuzzer for the router over real sockets. Each connection is one case: a
// session that sends hundreds of mostly well-formed requests with mild mutations (odd URIs, option
// values of the wrong kind, exotic payloads, cancels, call timeouts, meta API calls), so the
// broker's and dealer's deeper paths run, and now and then a harsh one (a field replaced by an
// exotic value, a damaged frame, a fuzzed HELLO, bytes before HELLO) that usually ends the
// session. It answers its INVOCATIONs like a callee. It checks what a client is owed: every
// request the router accepted answered exactly once (a reply or ERROR) unless the session was
// ABORTed, and each HELLO answered at once. Used by the bounded test in `npm test` and by
// `npm run fuzz` (≥ 100k frames per serializer and transport).

import * as net from 'node:net';
import WebSocket from 'ws';
import { MessageType } from '../../src/protocol/message-types';
import { serializerByName, type Serializer } from '../../src/serializers';

export type FuzzTransport = 'websocket' | 'rawsocket';
export type FuzzSerializer = 'json' | 'msgpack' | 'cbor';

export interface FuzzOptions {
  wsUrl: string;
  tcpPort: number;
  transport: FuzzTransport;
  serializer: FuzzSerializer;
  seed: number;
  /** Frames to send in all (HELLOs and the pacing sentinels not counted). */
  frames: number;
  /** Connections fuzzing at the same time (they call each other's procedures). Default 4. */
  concurrency?: number;
  /** The router's internal_error counter (read after every case; a rise is a failure). */
  internalErrors(): number | Promise<number>;
  /** Run only these case numbers (replaying a failure). */
  only?: number[];
}

export interface FuzzReport {
  frames: number;
  connections: number;
  /** Requests the fuzzer counted as owed an answer (the session was not ABORTed before it). */
  owed: number;
  /** Of those, answered exactly once. */
  answered: number;
  /** Owed requests that got a reply (not an ERROR): the deeper paths ran. */
  replies: number;
  /** ERROR answers by URI. */
  errors: Record<string, number>;
  /** Sessions ended by the router (ABORT or GOODBYE from the router, or a close), by reason. */
  aborts: Record<string, number>;
  /** Owed requests without an answer. */
  unanswered: number;
  internalErrorsRise: number;
  /** Each names the case (seed and number, to replay with `only`) and what went wrong. */
  failures: string[];
}

/** Requests owed exactly one answer, by message type: the reply types. */
const replyType: Record<number, number> = {
  [MessageType.PUBLISH]: MessageType.PUBLISHED,
  [MessageType.SUBSCRIBE]: MessageType.SUBSCRIBED,
  [MessageType.UNSUBSCRIBE]: MessageType.UNSUBSCRIBED,
  [MessageType.CALL]: MessageType.RESULT,
  [MessageType.REGISTER]: MessageType.REGISTERED,
  [MessageType.UNREGISTER]: MessageType.UNREGISTERED,
};
const requestOfReply = new Map<number, number>(Object.entries(replyType).map(([req, rep]) => [rep, Number(req)]));

const ROLES = {
  publisher: {},
  subscriber: {},
  caller: { features: { call_canceling: true, progressive_call_results: true } },
  callee: { features: { call_canceling: true } },
};

/** mulberry32: small, fast, seeded; one per case so any case replays alone. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

function caseSeed(seed: number, n: number, tag: string): number {
  let h = (seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < tag.length; i++) h = Math.imul(h ^ tag.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function nested(depth: number, bottom: unknown): unknown {
  let v = bottom;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Values that break naive code: what a harsh mutation puts into a field. */
function exotic(r: Rng): unknown {
  switch (r.int(12)) {
    case 0:
      return BigInt(r.int(2 ** 30)) * 2n ** 40n * (r.chance(0.5) ? -1n : 1n);
    case 1:
      return nested(1 + r.int(3000), 'bottom');
    case 2:
      return 'x'.repeat(1 + r.int(3000));
    case 3:
      return r.pick([NaN, Infinity, -0, 1e308, -1.5, 2 ** 53 + 2, -(2 ** 53) - 2]);
    case 4:
      return r.pick([null, true, false, 0, -1, '', [], {}]);
    case 5:
      return Buffer.from([r.int(256), r.int(256), 0]);
    case 6:
      return { [r.pick(['__proto__', 'constructor', 'toString', ''])]: r.pick([1, 'x', null]) };
    case 7:
      return r.pick(['\u0000', '\ud800', 'com.\u202e.x', '🙂'.repeat(50)]);
    case 8:
      return [1, [2, [3, { a: [4] }]]];
    case 9:
      return 2n ** 64n + BigInt(r.int(1000));
    case 10:
      return r.int(2 ** 31);
    default:
      return { acknowledge: true, match: r.pick(['prefix', 'wildcard', 'bogus']), nested: nested(r.int(50), {}) };
  }
}

/** A payload value: the router never reads these, so anything encodable goes. */
function payloadValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 5 : 9)) {
    case 0:
      return r.int(1000) - 500;
    case 1:
      return r.pick(['', 'a', 'hello', 'ü€😀', 'x'.repeat(200)]);
    case 2:
      return r.pick([true, false, null, 1.5, -0.25]);
    case 3:
      return r.pick([2n ** 53n + 1n, -(2n ** 63n), 2n ** 64n - 1n, 9007199254740993n]);
    case 4:
      return Buffer.from([1, 2, 3, r.int(256)]);
    case 5:
      return Array.from({ length: r.int(4) }, () => payloadValue(r, depth + 1));
    case 6:
      return Object.fromEntries(Array.from({ length: r.int(4) }, (_, i) => [`k${i}`, payloadValue(r, depth + 1)]));
    case 7:
      return nested(1 + r.int(60), r.int(10));
    default:
      return r.chance(0.1) ? 'y'.repeat(4000 + r.int(20_000)) : r.int(2 ** 31);
  }
}

const META = [
  'wamp.session.count',
  'wamp.session.list',
  'wamp.session.get',
  'wamp.subscription.list',
  'wamp.subscription.lookup',
  'wamp.subscription.match',
  'wamp.subscription.get',
  'wamp.subscription.list_subscribers',
  'wamp.subscription.count_subscribers',
  'wamp.registration.list',
  'wamp.registration.lookup',
  'wamp.registration.match',
  'wamp.registration.get',
  'wamp.registration.list_callees',
  'wamp.registration.count_callees',
  'wamp.session.add_testament',
  'wamp.session.flush_testaments',
];
const ODD_URIS = ['', 'com..x', 'com.example.', '.com', 'Com Example!', 'wamp.fz.reserved', 'fz.\u00e4.x', 'x'.repeat(300), 'fz.t.#', 'fz'];

function topic(r: Rng): string {
  if (r.chance(0.08)) return r.pick(ODD_URIS);
  return r.chance(0.1) ? `fz.t.${r.int(5)}.sub${r.int(3)}` : `fz.t.${r.int(5)}`;
}
function procedure(r: Rng): string {
  if (r.chance(0.06)) return r.pick(ODD_URIS);
  if (r.chance(0.15)) return r.pick(META);
  return r.chance(0.1) ? `fz.p.${r.int(8)}.sub${r.int(3)}` : `fz.p.${r.int(8)}`;
}
/** A value of the right kind most of the time, the wrong kind some of the time. */
function mild<T>(r: Rng, good: () => T): unknown {
  return r.chance(0.06) ? r.pick<unknown>(['x', 7, -1, null, [], {}, true, 2 ** 53 + 10]) : good();
}
function payload(r: Rng): unknown[] {
  const out: unknown[] = [];
  const args = r.int(4);
  const hasKw = r.chance(0.3);
  if (args === 0 && !hasKw) return out;
  out.push(Array.from({ length: args }, () => payloadValue(r)));
  if (hasKw) out.push({ a: payloadValue(r), [r.pick(['b', 'c', ''])]: payloadValue(r) });
  return out;
}

/** What a case's session knows, so requests refer to real IDs. */
interface SessionState {
  session: number;
  subscriptions: number[];
  registrations: number[];
  /** request ids of calls not yet answered, for CANCEL */
  openCalls: number[];
  nextRequest: number;
}

/** A mostly well-formed request; `harsh` replaces one field with an exotic value. */
function request(r: Rng, s: SessionState): unknown[] {
  const id = s.nextRequest++;
  const pickId = (ids: number[]): number => (ids.length > 0 && r.chance(0.8) ? r.pick(ids) : 1 + r.int(2 ** 31));
  switch (r.int(14)) {
    case 0:
    case 1:
    case 2: {
      const options: Record<string, unknown> = { acknowledge: r.chance(0.9) };
      if (r.chance(0.3)) options.exclude_me = mild(r, () => r.chance(0.5));
      if (r.chance(0.1)) options.retain = mild(r, () => r.chance(0.5));
      if (r.chance(0.1)) options.disclose_me = mild(r, () => true);
      if (r.chance(0.08)) options.exclude = mild(r, () => [s.session, r.int(100)]);
      if (r.chance(0.08)) options.eligible = mild(r, () => [s.session]);
      if (r.chance(0.05)) options[r.pick(['exclude_authid', 'eligible_authid', 'exclude_authrole', 'eligible_authrole'])] = mild(r, () => ['anonymous', 'x']);
      return [MessageType.PUBLISH, id, options, topic(r), ...payload(r)];
    }
    case 3:
    case 4: {
      const options: Record<string, unknown> = {};
      if (r.chance(0.25)) options.match = mild(r, () => r.pick(['prefix', 'wildcard', 'exact', 'bogus']));
      if (r.chance(0.1)) options.get_retained = mild(r, () => true);
      return [MessageType.SUBSCRIBE, id, options, options.match === 'wildcard' && r.chance(0.5) ? 'fz..0' : topic(r)];
    }
    case 5:
      return [MessageType.UNSUBSCRIBE, id, pickId(s.subscriptions)];
    case 6:
    case 7: {
      const options: Record<string, unknown> = {};
      if (r.chance(0.25)) options.match = mild(r, () => r.pick(['prefix', 'wildcard', 'exact', 'bogus']));
      if (r.chance(0.3)) options.invoke = mild(r, () => r.pick(['single', 'roundrobin', 'random', 'first', 'last', 'bogus']));
      if (r.chance(0.05)) options.force_reregister = mild(r, () => true);
      return [MessageType.REGISTER, id, options, procedure(r)];
    }
    case 8:
      return [MessageType.UNREGISTER, id, pickId(s.registrations)];
    case 9:
    case 10:
    case 11: {
      const options: Record<string, unknown> = {};
      if (r.chance(0.2)) options.timeout = mild(r, () => r.int(30));
      if (r.chance(0.2)) options.receive_progress = mild(r, () => true);
      if (r.chance(0.1)) options.disclose_me = mild(r, () => true);
      const proc = procedure(r);
      let args = payload(r);
      if (proc.startsWith('wamp.') && r.chance(0.7)) {
        const arg = r.pick<unknown>([s.session, s.subscriptions[0] ?? 1, s.registrations[0] ?? 1, 'fz.t.1', 'fz.p.1', r.int(2 ** 31)]);
        args = [[arg, ...(r.chance(0.3) ? [{ match: r.pick(['prefix', 'exact', 'x']) }] : [])]];
      }
      s.openCalls.push(id);
      return [MessageType.CALL, id, options, proc, ...args];
    }
    case 12: {
      // CANCEL is not answered itself: the call it names gets one ERROR (or its RESULT).
      s.nextRequest--;
      const call = s.openCalls.length > 0 && r.chance(0.8) ? r.pick(s.openCalls) : 1 + r.int(2 ** 31);
      return [MessageType.CANCEL, call, r.chance(0.7) ? { mode: mild(r, () => r.pick(['skip', 'kill', 'killnowait', 'bogus'])) } : {}];
    }
    default: {
      // Messages a client may send that are not requests: a YIELD or ERROR for an invocation
      // that does not exist (the router ignores it), a second HELLO (protocol violation).
      const which = r.int(3);
      if (which === 2) return [MessageType.PUBLISH, id, { acknowledge: true }, 'fz.t.0', [r.int(10)], { k: payloadValue(r) }];
      s.nextRequest--;
      return which === 0 ? [MessageType.YIELD, 1 + r.int(2 ** 31), {}, [1]] : [MessageType.ERROR, MessageType.INVOCATION, 1 + r.int(2 ** 31), {}, 'fz.error'];
    }
  }
}

/** A harsh mutation: one field (never the type) replaced by an exotic value. */
function harsh(r: Rng, msg: unknown[]): unknown[] {
  if (r.chance(0.1)) return [r.pick([MessageType.HELLO, MessageType.WELCOME, MessageType.EVENT, MessageType.RESULT, 99, 0, -1, 'x']), exotic(r), exotic(r)];
  const out = [...msg];
  const at = 1 + r.int(out.length);
  out[at] = exotic(r);
  return out;
}

function damage(r: Rng, frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  switch (r.int(3)) {
    case 0:
      if (out.length > 0) {
        const at = r.int(out.length);
        out[at] = ((out[at] as number) ^ (1 + r.int(255))) & 0xff;
      }
      return out;
    case 1:
      return out.subarray(0, r.int(out.length));
    default:
      return Buffer.concat([out, Buffer.from([r.int(256), r.int(256)])]);
  }
}

function fuzzedHello(r: Rng): unknown[] {
  const details: Record<string, unknown> = { roles: r.chance(0.7) ? ROLES : exotic(r) };
  for (const key of ['authid', 'agent', 'authextra', 'authmethods', 'authrole']) if (r.chance(0.4)) details[key] = exotic(r);
  return [MessageType.HELLO, r.chance(0.8) ? 'realm1' : exotic(r), r.chance(0.9) ? details : exotic(r)];
}

/** One connection speaking raw frames; decodes what the router sends. */
interface Conn {
  send(frames: Buffer[]): void;
  onMessage: (msg: unknown[]) => void;
  closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

async function openConn(options: FuzzOptions, serializer: Serializer): Promise<Conn> {
  let closedFlag = false;
  const conn = {
    onMessage: (_msg: unknown[]): void => undefined,
    isClosed: () => closedFlag,
  } as Conn;
  const push = (frame: Buffer): void => {
    let msg: unknown[];
    try {
      msg = serializer.decode(frame) as unknown[];
    } catch {
      msg = ['undecodable'];
    }
    conn.onMessage(msg);
  };
  if (options.transport === 'websocket') {
    const ws = new WebSocket(options.wsUrl, [serializer.subprotocol], { perMessageDeflate: false });
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => push(data));
    conn.closed = new Promise<void>((resolve) =>
      ws.once('close', () => {
        closedFlag = true;
        conn.onMessage(['closed']);
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('close', () => reject(new Error('closed during the upgrade')));
    });
    conn.send = (frames) => {
      for (const f of frames) if (ws.readyState === WebSocket.OPEN) ws.send(f, { binary: serializer.binary });
    };
    conn.close = () => ws.terminate();
    return conn;
  }
  const socket = net.connect({ host: '127.0.0.1', port: options.tcpPort });
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  let chunks: Buffer[] = [];
  let buffered = 0;
  let handshaken = false;
  conn.closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closedFlag = true;
      conn.onMessage(['closed']);
      resolve();
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('close', () => reject(new Error('closed during the handshake')));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      buffered += chunk.length;
      if (buffered < 4) return;
      let buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      if (!handshaken) {
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
      chunks = buf.length > 0 ? [buf] : [];
      buffered = buf.length;
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
  socket.write(Buffer.from([0x7f, 0xf0 | serializer.rawSocketId, 0, 0]));
  await ready;
  conn.send = (frames) => {
    const parts: Buffer[] = [];
    for (const f of frames) {
      const h = Buffer.alloc(4);
      h.writeUIntBE(f.length, 1, 3);
      parts.push(h, f);
    }
    if (!socket.destroyed) socket.write(Buffer.concat(parts));
  };
  conn.close = () => socket.destroy();
  return conn;
}

function encodeOrUndefined(serializer: Serializer, msg: unknown[]): Buffer | undefined {
  try {
    return serializer.encode(msg);
  } catch {
    return undefined;
  }
}

/** ABORT/GOODBYE reason, or how the connection ended. */
function endReason(msg: unknown[]): string {
  const reason = msg[2];
  return typeof reason === 'string' ? reason : String(msg[0]);
}

const SENTINEL_BASE = 2 ** 50;
const CHUNK = 40;

/** Runs one case: a connection, its session, its requests; updates the report. */
async function runCase(options: FuzzOptions, serializer: Serializer, n: number, budget: () => number, report: FuzzReport): Promise<void> {
  const where = `${options.transport}/${options.serializer} seed ${options.seed} case ${n}`;
  const r = new Rng(caseSeed(options.seed, n, `${options.transport}/${options.serializer}`));
  let conn: Conn;
  try {
    conn = await openConn(options, serializer);
  } catch (err) {
    report.failures.push(`${where}: could not connect: ${(err as Error).message}`);
    return;
  }
  report.connections++;
  const s: SessionState = { session: 0, subscriptions: [], registrations: [], openCalls: [], nextRequest: 1 };
  /** request id -> owed request and answers seen */
  const owed = new Map<number, { type: number; msg: unknown[]; answers: number }>();
  let ended: string | undefined;
  let waiter: { check: () => boolean; resolve: (ok: boolean) => void } | undefined;
  const wait = (check: () => boolean, ms: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      if (check() || ended !== undefined) return resolve(true);
      const timer = setTimeout(() => {
        waiter = undefined;
        resolve(false);
      }, ms);
      waiter = {
        check,
        resolve: (ok) => {
          clearTimeout(timer);
          waiter = undefined;
          resolve(ok);
        },
      };
    });
  /** Set once a harsh or damaged frame went out. */
  let roughSent = false;
  let welcomed = false;
  let helloAnswered = false;
  let lastSentinel = 0;
  const sentinelsSeen = new Set<number>();
  const send = (frames: Buffer[]): void => {
    if (frames.length > 0 && !conn.isClosed()) conn.send(frames);
  };
  /** FUZZ_TRACE=1 prints every frame of the case (with `npm run fuzz -- --only … --case N`). */
  const trace = process.env.FUZZ_TRACE === '1';
  conn.onMessage = (msg) => {
    if (trace) console.log('<<', describe(msg));
    const type = msg[0];
    if (type === 'closed') ended ??= 'connection closed';
    else if (type === MessageType.WELCOME) {
      welcomed = true;
      helloAnswered = true;
      s.session = typeof msg[1] === 'number' ? msg[1] : 0;
    } else if (type === MessageType.ABORT || type === MessageType.GOODBYE || type === MessageType.CHALLENGE) {
      helloAnswered = true;
      ended ??= endReason(msg);
      if (type === MessageType.CHALLENGE) conn.close();
    } else if (type === MessageType.INVOCATION) {
      // Answer like a callee: mostly YIELD (echoing args), sometimes an application ERROR.
      const request = msg[1];
      const reply = r.chance(0.9)
        ? [MessageType.YIELD, request, {}, ...(Array.isArray(msg[4]) ? [msg[4]] : [])]
        : [MessageType.ERROR, MessageType.INVOCATION, request, {}, 'fz.error.app'];
      const frame = encodeOrUndefined(serializer, reply);
      if (frame) send([frame]);
    } else if (type === MessageType.ERROR || (typeof type === 'number' && requestOfReply.has(type))) {
      const isError = type === MessageType.ERROR;
      const request = (isError ? msg[2] : msg[1]) as number;
      const forType = isError ? (msg[1] as number) : requestOfReply.get(type as number);
      if (!isError && type === MessageType.PUBLISHED && request >= SENTINEL_BASE) sentinelsSeen.add(request);
      if (type === MessageType.RESULT && (msg[2] as { progress?: unknown } | undefined)?.progress === true) return;
      if (type === MessageType.SUBSCRIBED && typeof msg[2] === 'number') s.subscriptions.push(msg[2]);
      if (type === MessageType.REGISTERED && typeof msg[2] === 'number') s.registrations.push(msg[2]);
      if (forType === MessageType.CALL) s.openCalls = s.openCalls.filter((c) => c !== request);
      const entry = owed.get(request);
      if (entry && entry.type === forType) {
        entry.answers++;
        if (entry.answers === 1) {
          if (isError) {
            const uri = typeof msg[4] === 'string' ? msg[4] : '?';
            report.errors[uri] = (report.errors[uri] ?? 0) + 1;
          } else report.replies++;
        }
        // A damaged frame can decode to a request with an ID already used (one flipped bit):
        // a second answer is then the router answering that frame, not a double answer.
        if (entry.answers === 2 && !roughSent) report.failures.push(`${where}: ${describe(entry.msg)} answered twice (second: ${describe(msg)})`);
      }
    }
    if (waiter && (ended !== undefined || waiter.check())) waiter.resolve(true);
  };
  try {
    // The HELLO: mostly a plain one; sometimes frames before it, or a fuzzed one.
    const kind = r.next();
    if (kind < 0.03) {
      const pre = encodeOrUndefined(serializer, harsh(r, request(r, s)));
      if (pre) send([r.chance(0.5) ? damage(r, pre) : pre]);
      report.frames++;
    }
    const hello = kind > 0.93 ? fuzzedHello(r) : [MessageType.HELLO, 'realm1', { roles: ROLES, agent: 'wampgate-fuzzer' }];
    const helloFrame = encodeOrUndefined(serializer, hello);
    if (!helloFrame) return;
    send([helloFrame]);
    if (kind > 0.93) report.frames++;
    // A HELLO is owed a WELCOME, a CHALLENGE or an ABORT at once (not the HELLO timeout).
    if (!(await wait(() => helloAnswered, 5000)) && !conn.isClosed()) report.failures.push(`${where}: HELLO ${describe(hello)} got no answer`);
    if (!welcomed || ended !== undefined) {
      if (ended !== undefined) report.aborts[ended] = (report.aborts[ended] ?? 0) + 1;
      return;
    }
    // The session: up to a few hundred frames in chunks, each chunk closed by an acknowledged
    // PUBLISH so the router is never flooded faster than it answers.
    const total = Math.min(budget(), 20 + r.int(400));
    // A quarter of the sessions also get harsh frames (which mostly end them with ABORT); the
    // rest only mild mutations, so their requests reach the broker and dealer.
    const harshRate = r.chance(0.25) ? 0.02 : 0;
    let sent = 0;
    while (sent < total && ended === undefined) {
      const frames: Buffer[] = [];
      for (let i = 0; i < CHUNK && sent < total; i++) {
        let msg = request(r, s);
        const rough = r.next();
        const mutated = rough < harshRate * 0.6;
        if (mutated) msg = harsh(r, msg);
        let frame = encodeOrUndefined(serializer, msg);
        if (!frame) continue;
        const damaged = !mutated && rough < harshRate;
        if (damaged) frame = damage(r, frame);
        if (mutated || damaged) roughSent = true;
        const [type, requestId, opts] = msg as [unknown, unknown, unknown];
        if (
          !damaged &&
          typeof type === 'number' &&
          replyType[type] !== undefined &&
          typeof requestId === 'number' &&
          Number.isSafeInteger(requestId) &&
          requestId > 0 &&
          requestId < SENTINEL_BASE &&
          !owed.has(requestId) &&
          (type !== MessageType.PUBLISH || (typeof opts === 'object' && opts !== null && (opts as Record<string, unknown>).acknowledge === true))
        ) {
          owed.set(requestId, { type, msg, answers: 0 });
        }
        if (trace) console.log('>>', mutated ? 'HARSH' : damaged ? 'DAMAGED' : '', describe(msg));
        frames.push(frame);
        sent++;
      }
      lastSentinel = SENTINEL_BASE + sent;
      const sentinel = lastSentinel;
      frames.push(serializer.encode([MessageType.PUBLISH, sentinel, { acknowledge: true }, 'fz.sentinel', []]));
      send(frames);
      report.frames += frames.length - 1;
      if (!(await wait(() => sentinelsSeen.has(sentinel), 10_000))) {
        report.failures.push(`${where}: no PUBLISHED for the pacing sentinel after ${sent} frames, and no ABORT`);
        return;
      }
    }
    // Every request before the last sentinel has been read; calls may still be in flight
    // (callees on other connections, call timeouts, the meta API's own session).
    const allAnswered = (): boolean => [...owed.values()].every((o) => o.answers > 0);
    await wait(allAnswered, 5000);
    if (ended !== undefined) {
      report.aborts[ended] = (report.aborts[ended] ?? 0) + 1;
      return;
    }
    for (const o of owed.values()) {
      report.owed++;
      if (o.answers === 1) report.answered++;
      else if (o.answers === 0) {
        report.unanswered++;
        report.failures.push(`${where}: ${describe(o.msg)} got no answer`);
      }
    }
    if (r.chance(0.2)) {
      send([serializer.encode([MessageType.GOODBYE, {}, 'wamp.close.close_realm'])]);
      await wait(() => ended !== undefined, 2000);
    }
  } finally {
    conn.close();
    await conn.closed;
  }
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const serializer = serializerByName(options.serializer) as Serializer;
  const report: FuzzReport = {
    frames: 0,
    connections: 0,
    owed: 0,
    answered: 0,
    replies: 0,
    errors: {},
    aborts: {},
    unanswered: 0,
    internalErrorsRise: 0,
    failures: [],
  };
  const internalBefore = await options.internalErrors();
  let next = 0;
  let stop = false;
  const budget = (): number => Math.max(1, options.frames - report.frames);
  const worker = async (): Promise<void> => {
    while (!stop) {
      let n: number;
      if (options.only) {
        if (next >= options.only.length) return;
        n = options.only[next++] as number;
      } else {
        if (report.frames >= options.frames) return;
        n = next++;
      }
      await runCase(options, serializer, n, budget, report);
      const rise = (await options.internalErrors()) - internalBefore;
      if (rise > report.internalErrorsRise) {
        report.internalErrorsRise = rise;
        report.failures.push(`${options.transport}/${options.serializer} seed ${options.seed} case ${n}: internal_error rose to ${rise}`);
      }
      if (report.failures.length > 50) stop = true;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, () => worker()));
  return report;
}

function describe(msg: unknown): string {
  try {
    const text = JSON.stringify(msg, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : Buffer.isBuffer(v) ? `<${v.length} bytes>` : v));
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return '[undescribable]';
  }
}
