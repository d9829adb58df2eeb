// A core-benchmark client worker (its own process, driven over IPC by core-bench.ts). Speaks
// WAMP through raw `ws` with pre-encoded / hand-built frames, so the client costs far less per
// message than the router it measures, and the same frames go through the `ws` relay. Counts
// every event it receives; paces the publisher by a window over its slowest local subscriber
// so the router never has a reason to drop. Reports its own CPU so the orchestrator can show
// the client was not the bottleneck.

import WebSocket from 'ws';
import { serializerByName, type Serializer } from '../../src/serializers';
import { PAYLOAD, PROCEDURE, TOPIC, percentile, type FromWorker, type RunResult, type ToWorker, type WorkerRun, type WorkerSetup } from './common';

const send = (m: FromWorker): void => {
  process.send?.(m);
};

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function open(url: string, subprotocol: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [subprotocol], { perMessageDeflate: false, skipUTF8Validation: true, maxPayload: 64 * 1024 * 1024 });
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => undefined);
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket, serializer: Serializer): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const onClose = (code: number, reason: Buffer): void => reject(new Error(`closed during setup: ${code} ${reason.toString()}`));
    ws.once('close', onClose);
    ws.once('message', (data) => {
      ws.off('close', onClose);
      resolve(serializer.decode(toBuffer(data)) as unknown[]);
    });
  });
}

/** Raw socket under ws: corking it around a batch of sends makes the batch one writev. */
function rawSocket(ws: WebSocket): { cork(): void; uncork(): void } {
  return (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
}

const roles = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

async function wampSession(url: string, serializer: Serializer): Promise<WebSocket> {
  const ws = await open(url, serializer.subprotocol);
  ws.send(serializer.encode([1, 'realm1', { roles }]), { binary: serializer.binary });
  const welcome = await nextMessage(ws, serializer);
  if (welcome[0] !== 2) throw new Error(`expected WELCOME, got ${JSON.stringify(welcome)}`);
  return ws;
}

async function request(ws: WebSocket, serializer: Serializer, msg: unknown[], replyType: number): Promise<unknown[]> {
  ws.send(serializer.encode(msg), { binary: serializer.binary });
  const reply = await nextMessage(ws, serializer);
  if (reply[0] !== replyType) throw new Error(`expected message type ${replyType}, got ${JSON.stringify(reply)}`);
  return reply;
}

/** First bytes of the frames a subscriber counts: EVENT from the router, PUBLISH via the relay. */
function framePrefix(serializer: Serializer, type: number): Buffer {
  if (serializer.name === 'json') return Buffer.from(`[${type},`);
  if (serializer.name === 'msgpack') return Buffer.from([0x95, type]); // fixarray(5), positive fixint
  return type < 24 ? Buffer.from([0x85, type]) : Buffer.from([0x85, 0x18, type]); // array(5), uint
}

interface Runner {
  run(r: WorkerRun): Promise<Omit<RunResult, 'ev' | 'cpuMs' | 'ms'>>;
  close(): void;
}

// ---- pub/sub ------------------------------------------------------------------------------

async function setupPubSub(s: WorkerSetup): Promise<Runner> {
  const serializer = serializerByName(s.serializer) as Serializer;
  const relay = s.target === 'relay';
  const prefix = framePrefix(serializer, relay ? 16 : 36);
  const counts = new Array<number>(s.subscribers).fill(0);
  const sockets: WebSocket[] = [];
  let unexpected = 0;
  let expected = 0; // cumulative events each local subscriber must have
  let doneSubs = 0;
  let onAllDone: (() => void) | undefined;
  let kick: () => void = () => undefined;
  let scheduled = false;
  const scheduleTopUp = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      kick();
    });
  };

  for (let i = 0; i < s.subscribers; i++) {
    let ws: WebSocket;
    if (relay) ws = await open(`${s.url}?role=sub`, serializer.subprotocol);
    else {
      ws = await wampSession(s.url, serializer);
      await request(ws, serializer, [32, 1, {}, TOPIC], 33);
    }
    sockets.push(ws);
    ws.on('message', (data) => {
      const b = data as Buffer;
      if (b.length > prefix.length && b.compare(prefix, 0, prefix.length, 0, prefix.length) === 0) {
        if (++counts[i]! === expected) {
          if (++doneSubs === counts.length) onAllDone?.();
        }
      } else unexpected++;
      if (s.publisher) scheduleTopUp();
    });
  }

  let pub: WebSocket | undefined;
  let published = 0;
  let pubTarget = 0;
  const frame = serializer.encode([16, 1, {}, TOPIC, [PAYLOAD]]);
  const sendOptions = { binary: serializer.binary };
  if (s.publisher) {
    pub = relay ? await open(`${s.url}?role=pub`, serializer.subprotocol) : await wampSession(s.url, serializer);
    const sock = rawSocket(pub);
    const p = pub;
    kick = () => {
      let min = Infinity;
      for (const c of counts) if (c < min) min = c;
      if (counts.length === 0) min = published;
      const limit = Math.min(pubTarget, min + s.window);
      if (published >= limit) return;
      sock.cork();
      while (published < limit) {
        p.send(frame, sendOptions);
        published++;
      }
      sock.uncork();
    };
  }

  return {
    async run(r) {
      const sentBefore = published;
      const before = counts.reduce((a, b) => a + b, 0);
      const unexpectedBefore = unexpected;
      expected += r.count;
      pubTarget += s.publisher ? r.count : 0;
      doneSubs = counts.filter((c) => c >= expected).length;
      const complete = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), s.timeoutMs);
        onAllDone = () => {
          clearTimeout(timer);
          resolve(true);
        };
        if (doneSubs === counts.length) onAllDone();
        kick();
      });
      onAllDone = undefined;
      const received = counts.reduce((a, b) => a + b, 0) - before;
      // Exactly `expected` each: more would be duplicates, fewer lost.
      const exact = complete && counts.every((c) => c === expected);
      return { complete: exact, sent: published - sentBefore, received, unexpected: unexpected - unexpectedBefore };
    },
    close() {
      for (const ws of sockets) ws.terminate();
      pub?.terminate();
    },
  };
}

// ---- RPC ----------------------------------------------------------------------------------

async function setupRpc(s: WorkerSetup): Promise<Runner> {
  if (s.serializer !== 'json') throw new Error('the RPC phases hand-build JSON frames only');
  const serializer = serializerByName('json') as Serializer;
  const relay = s.target === 'relay';
  // Callee: INVOCATION [68,id,reg,{},args] (router) or the caller's own CALL [48,id,{},proc,args]
  // (relay) -> YIELD [70,id,{},args] (router) or RESULT-shaped [50,id,{},args] (relay).
  const callee = relay ? await open(`${s.url}?role=callee`, serializer.subprotocol) : await wampSession(s.url, serializer);
  if (!relay) await request(callee, serializer, [64, 1, {}, PROCEDURE], 65);
  const replyHead = relay ? '[50,' : '[70,';
  const calleeSock = rawSocket(callee);
  let calleeCorked = false;
  const uncorkCallee = (): void => {
    calleeCorked = false;
    calleeSock.uncork();
  };
  let unexpected = 0;
  callee.on('message', (data) => {
    const text = (data as Buffer).toString('latin1');
    const a = text.indexOf(',');
    const b = text.indexOf(',', a + 1);
    const args = text.lastIndexOf(',[');
    if (a < 0 || b < 0 || args < 0) {
      unexpected++;
      return;
    }
    if (!calleeCorked) {
      calleeCorked = true;
      calleeSock.cork();
      process.nextTick(uncorkCallee);
    }
    callee.send(replyHead + text.slice(a + 1, b) + ',{}' + text.slice(args), { binary: false });
  });

  const caller = relay ? await open(`${s.url}?role=caller`, serializer.subprotocol) : await wampSession(s.url, serializer);
  const callerSock = rawSocket(caller);
  let callerCorked = false;
  const uncorkCaller = (): void => {
    callerCorked = false;
    callerSock.uncork();
  };
  const callTail = `,{},"${PROCEDURE}",["${PAYLOAD}"]]`;
  const resultPrefix = Buffer.from('[50,');
  let nextId = 0;
  let sent = 0;
  let target = 0;
  let received = 0;
  let receivedTarget = 0;
  let onDone: (() => void) | undefined;
  let paced: { startNs: bigint; rate: number; firstId: number; sentAt: Float64Array; rtt: Float64Array; n: number } | undefined;
  const sendCall = (): void => {
    const id = ++nextId;
    if (paced) paced.sentAt[id - paced.firstId] = Number(process.hrtime.bigint() - paced.startNs);
    caller.send('[48,' + id + callTail, { binary: false });
    sent++;
  };
  caller.on('message', (data) => {
    const b = data as Buffer;
    if (b.length < 5 || b.compare(resultPrefix, 0, 4, 0, 4) !== 0) unexpected++;
    else if (paced) {
      const text = b.toString('latin1', 4, 24);
      const id = parseInt(text, 10);
      paced.rtt[paced.n++] = Number(process.hrtime.bigint() - paced.startNs) - (paced.sentAt[id - paced.firstId] ?? NaN);
    }
    received++;
    if (!paced && sent < target) {
      if (!callerCorked) {
        callerCorked = true;
        callerSock.cork();
        process.nextTick(uncorkCaller);
      }
      sendCall();
    }
    if (received === receivedTarget) onDone?.();
  });

  return {
    async run(r) {
      const sentBefore = sent;
      const receivedBefore = received;
      const unexpectedBefore = unexpected;
      target = sent + r.count;
      receivedTarget = received + r.count;
      let ticker: NodeJS.Timeout | undefined;
      if (r.rate !== undefined) {
        const p = {
          startNs: process.hrtime.bigint(),
          rate: r.rate,
          firstId: nextId + 1,
          sentAt: new Float64Array(r.count),
          rtt: new Float64Array(r.count),
          n: 0,
        };
        paced = p;
        const tick = (): void => {
          const due = Math.min(target, sentBefore + Math.floor((Number(process.hrtime.bigint() - p.startNs) / 1e9) * p.rate) + 1);
          while (sent < due) sendCall();
          if (sent < target) ticker = setTimeout(tick, 1);
        };
        tick();
      }
      const complete = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), s.timeoutMs);
        onDone = () => {
          clearTimeout(timer);
          resolve(true);
        };
        if (!paced) {
          callerSock.cork();
          while (sent < target && sent - received < s.outstanding) sendCall();
          callerSock.uncork();
        }
      });
      clearTimeout(ticker);
      onDone = undefined;
      const out: Omit<RunResult, 'ev' | 'cpuMs' | 'ms'> = {
        complete,
        sent: sent - sentBefore,
        received: received - receivedBefore,
        unexpected: unexpected - unexpectedBefore,
      };
      if (paced) {
        const rtt = paced.rtt.slice(0, paced.n).sort();
        const us = (ns: number): number => Math.round(ns / 100) / 10;
        out.latency = {
          p50: us(percentile(rtt, 50)),
          p99: us(percentile(rtt, 99)),
          p999: us(percentile(rtt, 99.9)),
          max: us(rtt[rtt.length - 1] ?? NaN),
          n: rtt.length,
        };
        paced = undefined;
      }
      return out;
    },
    close() {
      caller.terminate();
      callee.terminate();
    },
  };
}

// ---- IPC ------------------------------------------------------------------------------------

let runner: Runner | undefined;
process.on('message', (m: ToWorker) => {
  void (async () => {
    try {
      if (m.cmd === 'setup') {
        runner = m.mode === 'pubsub' ? await setupPubSub(m) : await setupRpc(m);
        send({ ev: 'ready' });
      } else if (m.cmd === 'run') {
        if (!runner) throw new Error('run before setup');
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await runner.run(m);
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        send({ ev: 'done', ms, cpuMs: (cpu.user + cpu.system) / 1000, ...r });
      } else if (m.cmd === 'close') {
        runner?.close();
        process.disconnect?.();
      }
    } catch (err) {
      send({ ev: 'error', message: (err as Error).stack ?? String(err) });
    }
  })();
});
process.on('disconnect', () => {
  runner?.close();
  setTimeout(() => process.exit(0), 100).unref();
});
