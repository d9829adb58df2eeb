// Shared fixtures for the router, interop and CLI integration tests: an in-process Gateway with
// one listener per transport (WebSocket and RawSocket TCP on 127.0.0.1 port 0, RawSocket on a
// Unix socket in a temp dir), our own client over each, waiting helpers, and a free-port probe.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WampClient } from '../../../src/client/wamp-client';
import { defaultConfig } from '../../../src/config/defaults';
import type { GatewayConfig, LimitsConfig } from '../../../src/config/types';
import { Gateway } from '../../../src/gateway';
import type { Peer } from '../../../src/protocol/peer';
import { serializerByName, type Serializer } from '../../../src/serializers';
import { connectRawSocket } from '../../../src/transports/rawsocket/client';
import { connectWebSocket } from '../../../src/transports/websocket/client';
import { quietLogger, type Logger } from '../../../src/util/logger';

export const WAIT_MS = 10_000;
export const transportNames = ['websocket', 'rawsocket-tcp', 'rawsocket-unix'] as const;
export type TransportName = (typeof transportNames)[number];
export const serializerNamesAll = ['json', 'msgpack', 'cbor'] as const;
export type SerializerNameAll = (typeof serializerNamesAll)[number];

/** Rejects if `promise` has not settled in a generous time: a hang becomes a failure, not a stall. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Collects values pushed by callbacks; `next()` awaits the next one in order. */
export class Inbox<T> {
  private readonly queue: T[] = [];
  private readonly waiting: Array<(v: T) => void> = [];
  readonly all: T[] = [];
  push = (v: T): void => {
    this.all.push(v);
    const w = this.waiting.shift();
    if (w) w(v);
    else this.queue.push(v);
  };
  next(what = 'an inbox item', ms = WAIT_MS): Promise<T> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift() as T);
    return within(new Promise<T>((resolve) => this.waiting.push(resolve)), what, ms);
  }
  get pending(): number {
    return this.queue.length;
  }
}

/** Polls `check` until it holds (state that has no event to await, e.g. a counter). */
export async function until(check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function tempDir(prefix = 'wampgate-it-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestGateway {
  gateway: Gateway;
  wsUrl: string;
  tcpPort: number;
  unixPath: string;
  /** Our own client over one transport with one serializer, joined to realm1. */
  client(transport: TransportName, serializer?: SerializerNameAll, realm?: string): Promise<WampClient>;
  peer(transport: TransportName, serializer: SerializerNameAll): Promise<Peer>;
  stop(): Promise<void>;
}

/** A config with the three listeners, realm1, and the given limits. */
export function testConfig(unixPath: string, limits: Partial<LimitsConfig> = {}, realms: GatewayConfig['realms'] = [{ name: 'realm1' }]): GatewayConfig {
  const config = defaultConfig();
  config.realms = realms;
  config.listeners = [
    { name: 'websocket', type: 'websocket', host: '127.0.0.1', port: 0, path: '/ws' },
    { name: 'rawsocket', type: 'rawsocket', host: '127.0.0.1', port: 0 },
    { name: 'unix', type: 'rawsocket', unixPath },
  ];
  config.limits = { ...config.limits, keepaliveIntervalMs: 0, ...limits };
  config.log = { level: 'error' };
  return config;
}

export async function startTestGateway(
  limits: Partial<LimitsConfig> = {},
  realms?: GatewayConfig['realms'],
  options: { logger?: Logger } = {},
): Promise<TestGateway> {
  const dir = tempDir('wampgate-gw-');
  const unixPath = join(dir.path, 'wamp.sock');
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(testConfig(unixPath, limits, realms), { logger: options.logger ?? quietLogger });
  } catch (err) {
    dir.remove();
    throw err;
  }
  const ws = gateway.listeners[0]?.address as { host: string; port: number };
  const tcp = gateway.listeners[1]?.address as { host: string; port: number };
  const wsUrl = `ws://127.0.0.1:${ws.port}/ws`;
  const clients: WampClient[] = [];
  const peer = (transport: TransportName, name: SerializerNameAll): Promise<Peer> => {
    const serializer = serializerByName(name) as Serializer;
    if (transport === 'websocket') return connectWebSocket({ url: wsUrl, serializer });
    if (transport === 'rawsocket-tcp') return connectRawSocket({ host: '127.0.0.1', port: tcp.port }, serializer);
    return connectRawSocket({ path: unixPath }, serializer);
  };
  return {
    gateway,
    wsUrl,
    tcpPort: tcp.port,
    unixPath,
    peer,
    async client(transport, serializer = 'json', realm = 'realm1') {
      const c = await WampClient.connect(await peer(transport, serializer), { realm, timeoutMs: WAIT_MS });
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await gateway.stop();
      dir.remove();
    },
  };
}

/** Proves the router still serves: a fresh session over `transport` subscribes, publishes
 * (to itself via exclude_me false), registers and calls. */
export async function assertServes(tg: TestGateway, transport: TransportName = 'websocket', serializer: SerializerNameAll = 'json'): Promise<void> {
  const c = await within(tg.client(transport, serializer), `a fresh session over ${transport}/${serializer}`);
  try {
    const got = deferred<unknown[]>();
    const topic = `check.alive.${Math.random().toString(36).slice(2)}`;
    await c.subscribe(topic, (args) => got.resolve(args));
    await c.publish(topic, ['alive'], undefined, { exclude_me: false, acknowledge: true });
    assert.deepEqual(await within(got.promise, 'the fresh session to receive its own event'), ['alive']);
    await c.register(`${topic}.add`, (args) => (args[0] as number) + (args[1] as number));
    const r = await within(c.call(`${topic}.add`, [2, 3]), 'a call on the fresh session');
    assert.deepEqual(r.args, [5]);
  } finally {
    await c.close();
  }
}

/** A TCP port that was free a moment ago (bind 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
