// Pre-authentication memory: what connections that never authenticate cost the router. Each
// scenario starts a fresh router process (bench/hostile/router-process.ts with the systemd
// unit's NODE_OPTIONS) and opens 1,000 connections of one kind that then stall — a stalled
// WebSocket upgrade, a stalled RawSocket handshake, a declared 16 MiB WebSocket frame, a frame just
// under the pre-auth limit, a frame just under maxMessageBytes (WebSocket and RawSocket) — and
// reports the router's RSS growth (target < 20 MiB) and its RSS after they are dropped. Then
// 10,000 such connections against a router in a memory cgroup with the unit's MemoryMax while a
// legitimate client keeps publishing and calling. Attackers come from 127.0.0.2… (several
// loopback addresses, so the per-address cap does not hide the overall one).
// Last, a legitimate reconnect burst of devices behind one NAT address (the per-address cap).
// Options: --connections N (default 1000), --flood N (default 10000), --devices N (default 200),
// --limits JSON (over the defaults, also for the flood), --verbose, --only NAME, --no-flood, --no-burst, --no-raised (skip the runs with the pending caps raised
// to hold every connection).

import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { GatewayConfig } from '../src/config/types';
import { defaultConfig } from '../src/config/defaults';
import { WampClient } from '../src/client/wamp-client';
import { serializerByName, type Serializer } from '../src/serializers';
import { connectWebSocket } from '../src/transports/websocket/client';
import { defaultTransportLimits } from '../src/transports/limits';
import { hashSecret } from '../src/auth/principals';
import { startRouterChild, type RouterChild } from './hostile/router-child';
import type { RouterMemory } from './hostile/router-process';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The unit's memory settings: MemoryMax= and NODE_OPTIONS, read from systemd/wampgate.service. */
function unitMemory(): { memoryMax: number; nodeArgs: string[]; text: string } {
  const unit = readFileSync(path.join(__dirname, '..', '..', 'systemd', 'wampgate.service'), 'utf8');
  const max = /^MemoryMax=(\d+)([KMG]?)$/m.exec(unit);
  const scale: Record<string, number> = { '': 1, K: 1024, M: 2 ** 20, G: 2 ** 30 };
  const memoryMax = max ? Number(max[1]) * (scale[max[2] ?? ''] ?? 1) : 256 * 2 ** 20;
  const opts = /^Environment="NODE_OPTIONS=([^"]*)"$/m.exec(unit);
  const nodeArgs = (opts?.[1] ?? '').split(/\s+/).filter((a) => a.length > 0);
  return { memoryMax, nodeArgs, text: `MemoryMax=${max ? `${max[1]}${max[2] ?? ''}` : '256M'}, NODE_OPTIONS=${nodeArgs.join(' ')}` };
}

type Kind = 'ws-upgrade-stall' | 'rs-handshake-stall' | 'ws-declared-16mib' | 'ws-under-preauth' | 'rs-under-preauth' | 'ws-under-max' | 'rs-under-max';
const kinds: Record<Kind, string> = {
  'ws-upgrade-stall': 'stalled WebSocket upgrade (half an HTTP request)',
  'rs-handshake-stall': 'stalled RawSocket handshake (2 of 4 bytes)',
  'ws-declared-16mib': 'WebSocket frame header declaring 16 MiB, 1 KiB sent',
  'ws-under-preauth': `WebSocket frame of ${defaultTransportLimits.preAuthMaxMessageBytes - 1} B (just under the pre-auth limit), all but its last byte`,
  'rs-under-preauth': `RawSocket frame of ${defaultTransportLimits.preAuthMaxMessageBytes - 1} B, all but its last byte`,
  'ws-under-max': `WebSocket frame of ${defaultTransportLimits.maxMessageBytes - 1} B (just under maxMessageBytes), 64 KiB sent`,
  'rs-under-max': `RawSocket frame of ${defaultTransportLimits.maxMessageBytes - 1} B, 64 KiB sent`,
};

type Outcome = 'held' | 'refused' | 'closed' | 'error';
type Outcomes = Record<Outcome, number> & { openAtMeasurement?: number };

/** A WebSocket frame header from a client (masked), binary, for `length` payload bytes. */
function wsFrameHeader(length: number): Buffer {
  let head: Buffer;
  if (length < 126) head = Buffer.from([0x82, 0x80 | length]);
  else if (length < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x82;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x82;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([head, crypto.randomBytes(4)]);
}

interface Target {
  wsPort: number;
  rsPort: number;
}

/**
 * Opens one attacking connection of `kind` from `localAddress`; resolves once it has sent what it
 * sends (then it stalls) or the router ended it. The socket stays open until `drop`.
 */
function attack(kind: Kind, target: Target, localAddress: string, sockets: Set<net.Socket>): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const ws = kind.startsWith('ws');
    const socket = net.connect({ host: '127.0.0.1', port: ws ? target.wsPort : target.rsPort, localAddress });
    sockets.add(socket);
    let settled = false;
    let received = Buffer.alloc(0);
    let rawSocketRefused = false;
    const done = (o: Outcome): void => {
      if (!settled) {
        settled = true;
        resolve(o);
      }
    };
    socket.on('error', () => done('error'));
    socket.on('close', () => {
      sockets.delete(socket);
      // A refusal is an answer before anything was accepted: HTTP 503 or RawSocket error 4.
      const text = received.toString('latin1');
      if (text.startsWith('HTTP/1.1 503') || rawSocketRefused) done('refused');
      else done('closed');
    });
    const sendPayload = (): void => {
      const filler = (n: number): Buffer => Buffer.alloc(n, 0x61);
      switch (kind) {
        case 'ws-declared-16mib':
          socket.write(Buffer.concat([wsFrameHeader(16 * 2 ** 20), filler(1024)]));
          break;
        case 'ws-under-preauth': {
          const n = defaultTransportLimits.preAuthMaxMessageBytes - 1;
          socket.write(Buffer.concat([wsFrameHeader(n), filler(n - 1)]));
          break;
        }
        case 'ws-under-max':
          socket.write(Buffer.concat([wsFrameHeader(defaultTransportLimits.maxMessageBytes - 1), filler(65536)]));
          break;
        case 'rs-under-preauth': {
          const n = defaultTransportLimits.preAuthMaxMessageBytes - 1;
          const h = Buffer.alloc(4);
          h.writeUIntBE(n, 1, 3);
          socket.write(Buffer.concat([h, filler(n - 1)]));
          break;
        }
        case 'rs-under-max': {
          const h = Buffer.alloc(4);
          h.writeUIntBE(Math.min(defaultTransportLimits.maxMessageBytes - 1, 2 ** 24 - 1), 1, 3);
          socket.write(Buffer.concat([h, filler(65536)]));
          break;
        }
        default:
          break;
      }
      // Give the router a moment to read it, then count the connection as stalled.
      setTimeout(() => done('held'), 50);
    };
    socket.once('connect', () => {
      if (kind === 'ws-upgrade-stall') {
        socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
        setTimeout(() => done('held'), 50);
      } else if (kind === 'rs-handshake-stall') {
        socket.write(Buffer.from([0x7f, 0xf1]));
        setTimeout(() => done('held'), 50);
      } else if (ws) {
        const key = crypto.randomBytes(16).toString('base64');
        socket.write(
          `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n',
        );
      } else {
        socket.write(Buffer.from([0x7f, 0xf1, 0, 0]));
      }
    });
    socket.on('data', (chunk: Buffer) => {
      if (received.length < 4096) received = Buffer.concat([received, chunk]);
      if (settled) return;
      if (ws && kind !== 'ws-upgrade-stall') {
        const text = received.toString('latin1');
        if (text.startsWith('HTTP/1.1 101') && text.includes('\r\n\r\n')) {
          received = Buffer.alloc(0);
          sendPayload();
        }
      } else if (!ws && kind !== 'rs-handshake-stall' && received.length >= 4 && received[0] === 0x7f) {
        // RawSocket error reply: 0x7F, the error code in the upper nibble, serializer 0. An
        // attacker sends its frame regardless.
        if (((received[1] as number) & 0x0f) === 0) rawSocketRefused = true;
        received = received.subarray(4);
        sendPayload();
      }
    });
  });
}

/** Opens `count` attacking connections, `parallel` at a time, spread over `addresses`. */
async function openMany(kind: Kind | Kind[], count: number, target: Target, addresses: string[], sockets: Set<net.Socket>, parallel = 100): Promise<Outcomes> {
  const outcomes: Outcomes = { held: 0, refused: 0, closed: 0, error: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      const k = Array.isArray(kind) ? (kind[n % kind.length] as Kind) : kind;
      outcomes[await attack(k, target, addresses[n % addresses.length] as string, sockets)]++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, () => worker()));
  return outcomes;
}

function benchConfig(limits: Partial<GatewayConfig['limits']> = {}): GatewayConfig {
  const config = defaultConfig();
  config.realms = [{ name: 'realm1' }];
  config.listeners = [
    { name: 'websocket', type: 'websocket', host: '127.0.0.1', port: 0, path: '/ws' },
    { name: 'rawsocket', type: 'rawsocket', host: '127.0.0.1', port: 0 },
  ];
  config.limits = { ...config.limits, ...limits };
  config.log = { level: 'error' };
  return config;
}

function targetOf(router: RouterChild): Target {
  return { wsPort: (router.addresses[0] as { port: number }).port, rsPort: (router.addresses[1] as { port: number }).port };
}

const loopbacks = (n: number, from = 2): string[] => Array.from({ length: n }, (_, i) => `127.0.${Math.floor((i + from) / 250)}.${((i + from) % 250) + 1}`);

interface ScenarioResult {
  kind: Kind;
  outcomes: Outcomes;
  baseline: RouterMemory;
  loaded: RouterMemory;
  dropped: RouterMemory;
  closed: Record<string, number>;
  peakHeld: number;
}

async function scenario(kind: Kind, count: number, nodeArgs: string[], limits: Partial<GatewayConfig['limits']>): Promise<ScenarioResult> {
  const router = await startRouterChild({ config: benchConfig(limits), nodeArgs: [...nodeArgs, '--expose-gc'] });
  try {
    await sleep(500);
    const baseline = (await router.stats(true)).memory;
    const sockets = new Set<net.Socket>();
    const outcomes = await openMany(kind, count, targetOf(router), loopbacks(40), sockets);
    await sleep(1500);
    const s = await router.stats();
    outcomes.openAtMeasurement = sockets.size;
    for (const socket of sockets) socket.destroy();
    await sleep(2000);
    const dropped = (await router.stats(true)).memory;
    return { kind, outcomes, baseline, loaded: s.memory, dropped, closed: s.closed, peakHeld: s.peakHeldBytes };
  } finally {
    await router.stop();
  }
}

const memLine = (m: RouterMemory): string =>
  `RSS ${mib(m.rss)} MiB (heap ${mib(m.heapUsed)}/${mib(m.heapTotal)}, external ${mib(m.external)}, array buffers ${mib(m.arrayBuffers)}, native ${mib(m.native)}), peak ${mib(m.hwm)}`;

function printScenario(r: ScenarioResult): void {
  const growth = r.loaded.hwm - r.baseline.rss;
  const verdict = growth < 20 * 2 ** 20 ? '✓' : '✗';
  const o = r.outcomes;
  const closed = Object.entries(r.closed)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `  ${r.kind.padEnd(20)} refused ${o.refused}, closed ${o.closed + o.error}, open ${o.openAtMeasurement ?? '?'} | RSS ${mib(r.baseline.rss)} → ${mib(r.loaded.rss)} MiB, peak +${mib(growth)} MiB ${verdict} (< 20) | after drop ${mib(r.dropped.rss)} MiB (heap ${mib(r.dropped.heapUsed)}) | peak held ${mib(r.peakHeld)} MiB | router closed: ${closed || 'none'}`,
  );
}

/** The legitimate client: publishes and calls in a loop, timing each; counts what fails. */
async function legitimate(wsUrl: string, serializer: Serializer): Promise<{ stop(): Promise<{ ok: number; failed: number; latencies: number[] }> }> {
  const callee = await WampClient.connect(await connectWebSocket({ url: wsUrl, serializer }), { realm: 'realm1', timeoutMs: 10_000 });
  await callee.register('bench.echo', (args) => args);
  const client = await WampClient.connect(await connectWebSocket({ url: wsUrl, serializer }), { realm: 'realm1', timeoutMs: 10_000 });
  let running = true;
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const t0 = process.hrtime.bigint();
      try {
        if (i % 2 === 0) await client.publish('bench.legit', [i], undefined, { acknowledge: true });
        else await client.call('bench.echo', [i]);
        ok++;
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch {
        failed++;
      }
      await sleep(10);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await Promise.allSettled([client.close(), callee.close()]);
      return { ok, failed, latencies };
    },
  };
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

async function flood(count: number, limits: Partial<GatewayConfig['limits']>): Promise<boolean> {
  const unit = unitMemory();
  const router = await startRouterChild({ config: benchConfig(limits), nodeArgs: unit.nodeArgs, memoryMax: unit.memoryMax });
  const where = router.cgroup
    ? `in a memory cgroup (v${router.cgroup.version}) with ${unit.text}`
    : `WITHOUT a memory cgroup (none could be created here), ${unit.text}`;
  console.log(
    `\n== ${count} pre-auth connections (all kinds, 64 loopback addresses) against one router ${where}; a legitimate client publishes and calls every 10 ms`,
  );
  let died: string | undefined;
  void router.exited.then(({ code, signal }) => {
    died = `router exited (${code ?? signal})`;
  });
  const target = targetOf(router);
  const serializer = serializerByName('json') as Serializer;
  const legit = await legitimate(`ws://127.0.0.1:${target.wsPort}/ws`, serializer);
  const baseline = await router.stats();
  const sockets = new Set<net.Socket>();
  // Fresh legitimate connections during the flood: can a device still join?
  let joins = 0;
  let joinFailures = 0;
  let flooding = true;
  const joiner = (async () => {
    while (flooding) {
      try {
        const c = await WampClient.connect(await connectWebSocket({ url: `ws://127.0.0.1:${target.wsPort}/ws`, serializer }), {
          realm: 'realm1',
          timeoutMs: 5000,
        });
        joins++;
        await c.close();
      } catch {
        joinFailures++;
      }
      await sleep(250);
    }
  })();
  const t0 = Date.now();
  const all = Object.keys(kinds) as Kind[];
  const outcomes = await openMany(all, count, target, loopbacks(64), sockets, 400);
  const openSeconds = (Date.now() - t0) / 1000;
  await sleep(3000);
  flooding = false;
  await joiner;
  const loaded = died ? undefined : await router.stats().catch(() => undefined);
  const legitResult = await legit.stop();
  for (const socket of sockets) socket.destroy();
  await sleep(2000);
  const after = died ? undefined : await router.stats().catch(() => undefined);
  const aliveAtEnd = died === undefined;
  const cgroupPeak = router.cgroup?.peak() ?? -1;
  const oom = router.cgroup?.oomKills() ?? -1;
  await router.stop();
  const sorted = legitResult.latencies.sort((a, b) => a - b);
  console.log(
    `  attackers: ${sockets.size} still open at the end, ${outcomes.refused} refused at accept, ${outcomes.closed + outcomes.error} closed by the router, opened in ${openSeconds.toFixed(1)} s`,
  );
  console.log(
    `  router: ${aliveAtEnd ? 'alive, same process' : died}; RSS ${mib(baseline.memory.rss)} → ${loaded ? mib(loaded.memory.rss) : '?'} MiB, peak ${loaded ? mib(loaded.memory.hwm) : '?'} MiB; after drop ${after ? mib(after.memory.rss) : '?'} MiB; cgroup peak ${cgroupPeak >= 0 ? mib(cgroupPeak) : '?'} MiB, OOM kills ${oom}`,
  );
  if (loaded)
    console.log(
      `  router closed: ${Object.entries(loaded.closed)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  console.log(
    `  legitimate client: ${legitResult.ok} publishes+calls ok, ${legitResult.failed} failed; latency p50 ${pct(sorted, 0.5).toFixed(2)} ms, p99 ${pct(sorted, 0.99).toFixed(2)} ms, max ${(sorted[sorted.length - 1] ?? NaN).toFixed(1)} ms; fresh sessions during the flood: ${joins} joined, ${joinFailures} refused or failed${loaded ? `; ${loaded.admittedFromReserve} admitted from the known-address reserve` : ''}`,
  );
  return aliveAtEnd && legitResult.failed === 0;
}

/**
 * A legitimate reconnect burst: `devices` clients behind one NAT address (all from 127.0.0.1)
 * reconnect at once after a gateway restart, with ticket authentication (a salted PBKDF2 ticket,
 * as `wampgate init` writes) and the backoff a device uses (1 s doubling to 30 s, up to half of
 * each delay taken off at random). Reports how many connections were refused and how long until
 * every device had joined.
 */
async function reconnectBurst(devices: number, limits: Partial<GatewayConfig['limits']>, title: string): Promise<void> {
  const config = benchConfig(limits);
  const ticket = 'device-ticket-secret';
  config.listeners = [
    {
      name: 'lan',
      type: 'websocket',
      host: '127.0.0.1',
      port: 0,
      path: '/ws',
      auth: { ticket: { principals: [{ authid: 'device', role: 'device', ticket: hashSecret(ticket) }] }, rateLimit: false },
    } as GatewayConfig['listeners'][number],
  ];
  config.realms = [
    { name: 'realm1', roles: [{ name: 'device', permissions: [{ uri: 'sensors.', match: 'prefix', allow: { publish: true } }] }] },
  ] as GatewayConfig['realms'];
  const router = await startRouterChild({ config, nodeArgs: unitMemory().nodeArgs });
  const wsUrl = `ws://127.0.0.1:${(router.addresses[0] as { port: number }).port}/ws`;
  const serializer = serializerByName('json') as Serializer;
  let attempts = 0;
  let refused = 0;
  const joinTimes: number[] = [];
  const clients: WampClient[] = [];
  const t0 = Date.now();
  const device = async (): Promise<void> => {
    let delay = 1000;
    for (;;) {
      attempts++;
      try {
        const c = await WampClient.connect(await connectWebSocket({ url: wsUrl, serializer }), {
          realm: 'realm1',
          authid: 'device',
          authmethods: ['ticket'],
          onChallenge: () => ticket,
          timeoutMs: 20_000,
        });
        clients.push(c);
        joinTimes.push(Date.now() - t0);
        return;
      } catch {
        refused++;
        await sleep(delay * (1 - Math.random() * 0.5));
        delay = Math.min(delay * 2, 30_000);
      }
    }
  };
  await Promise.all(Array.from({ length: devices }, () => device()));
  const stats = await router.stats();
  await Promise.allSettled(clients.map((c) => c.close()));
  await router.stop();
  joinTimes.sort((a, b) => a - b);
  const closed = Object.entries(stats.closed)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(
    `  ${title}: ${devices} devices joined after ${attempts} attempts (${refused} refused or failed); half joined by ${(pct(joinTimes, 0.5) / 1000).toFixed(1)} s, all by ${((joinTimes[joinTimes.length - 1] ?? NaN) / 1000).toFixed(1)} s; router closed: ${closed || 'none'}`,
  );
}

async function main(): Promise<void> {
  const count = Number(arg('connections') ?? 1000);
  const floodCount = Number(arg('flood') ?? 10_000);
  const only = arg('only');
  const unit = unitMemory();
  console.log(
    `pre-auth memory: router processes with the unit's ${unit.text.split(', ')[1]} (node ${process.version}); the machine is shared, figures are indicative`,
  );
  let ok = true;
  const extra = JSON.parse(arg('limits') ?? '{}') as Partial<GatewayConfig['limits']>;
  const configs: Array<{ title: string; limits: Partial<GatewayConfig['limits']> }> = [
    {
      title: `${arg('limits') ? `${arg('limits')} over the ` : ''}default limits (at most ${defaultTransportLimits.maxPendingConnections} pending, ${defaultTransportLimits.maxPendingConnectionsPerAddress} per address; attackers from 40 addresses)`,
      limits: extra,
    },
  ];
  if (!process.argv.includes('--no-raised'))
    configs.push({
      title: `pending caps raised to ${count + 24} so every connection is held (only the byte budgets bound memory)`,
      limits: { maxPendingConnections: count + 24, maxPendingConnectionsPerAddress: count + 24 },
    });
  for (const { title, limits } of configs) {
    console.log(`\n== ${count} connections of each kind, ${title}`);
    for (const kind of Object.keys(kinds) as Kind[]) {
      if (only && only !== kind) continue;
      const r = await scenario(kind, count, unit.nodeArgs, limits);
      printScenario(r);
      if (process.argv.includes('--verbose'))
        for (const [name, m] of [
          ['baseline', r.baseline],
          ['loaded', r.loaded],
          ['dropped', r.dropped],
        ] as const)
          console.log(`    ${name}: ${memLine(m)}`);
      if (r.loaded.hwm - r.baseline.rss >= 20 * 2 ** 20) ok = false;
    }
  }
  console.log('\n  kinds:');
  for (const [k, what] of Object.entries(kinds)) console.log(`    ${k.padEnd(20)} ${what}`);
  if (!process.argv.includes('--no-burst')) {
    const devices = Number(arg('devices') ?? 200);
    console.log(`\n== reconnect burst: ${devices} devices behind one NAT address, ticket auth (PBKDF2), backoff 1 s doubling, up to half jitter`);
    await reconnectBurst(devices, {}, 'default limits');
    await reconnectBurst(devices, { maxPendingConnectionsPerAddress: defaultTransportLimits.maxPendingConnections }, 'per-address cap = overall cap');
  }
  if (!process.argv.includes('--no-flood')) ok = (await flood(floodCount, extra)) && ok;
  process.exit(ok ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
