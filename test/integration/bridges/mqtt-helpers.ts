// Real brokers for the MQTT bridge tests and bench: aedes in-process on a TCP port, and a
// Mosquitto child process on a free port with a temp config. Plus a router with WAMP clients
// over the local transport, and a condition waiter (no timed assertions: wait for state).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { WampClient } from '../../../src/client/wamp-client';
import { Router } from '../../../src/core/router';
import { createLocalPair } from '../../../src/transports/local';
import type { RequestId } from '../../../src/protocol/ids';
import { MessageType } from '../../../src/protocol/message-types';
import type { Message } from '../../../src/protocol/messages';
import { anonymousOnLoopback } from '../../../src/auth/anonymous';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface TestBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** aedes (MQTT 3.1.1 only) in this process, listening on 127.0.0.1 port 0. */
export async function startAedes(): Promise<TestBroker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface MosquittoBroker extends TestBroker {
  /** Kills the process (SIGKILL: a crash, not a clean shutdown) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections. */
  restart(): Promise<void>;
}

/** A Mosquitto process on a free port of 127.0.0.1 (MQTT 5 and 3.1.1), anonymous, no persistence. */
export async function startMosquitto(port?: number): Promise<MosquittoBroker> {
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'wampgate-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  // max_queued_messages 0: no per-client queue limit, so a slow test subscriber at QoS 1 is
  // not the reason a message goes missing.
  writeFileSync(conf, [`listener ${p} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 0', 'log_type error', ''].join('\n'));
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', () => undefined);
    proc = child;
    await waitFor(() => child.exitCode !== null || canConnect.get(p) === true, { timeoutMs: 10_000, what: `mosquitto on port ${p}`, poll: () => probe(p) });
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr}`);
  };
  const kill = async (): Promise<void> => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  };
  await launch();
  return {
    port: p,
    url: `mqtt://127.0.0.1:${p}`,
    kill,
    restart: async () => {
      await kill();
      canConnect.delete(p);
      await launch();
    },
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** port -> whether the last probe connected: lets waitFor poll a TCP port. */
const canConnect = new Map<number, boolean>();
function probe(port: number): void {
  const s = new Socket();
  s.once('connect', () => {
    canConnect.set(port, true);
    s.destroy();
  });
  s.once('error', () => s.destroy());
  s.connect(port, '127.0.0.1');
}

/** Waits until `cond()` holds, checking every few ms; rejects after timeoutMs saying what it waited for. */
export async function waitFor(cond: () => boolean, opts: { timeoutMs?: number; what?: string; poll?: () => void } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'a condition'}`);
    opts.poll?.();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A bare router: anonymous on loopback (test clients join through local pairs), no meta API. */
export function startRouter(): Promise<Router> {
  const anonymous = anonymousOnLoopback();
  return Promise.resolve(new Router({ realms: [{ name: 'realm1' }], authenticatorFor: () => anonymous }));
}

export async function wampClient(router: Router, name = 'test'): Promise<WampClient> {
  const pair = createLocalPair(name);
  router.attach(pair.routerSide);
  return WampClient.connect(pair.clientSide, { realm: 'realm1' });
}

/** A plain MQTT client standing in for a device. */
export async function device(url: string, protocolVersion: 4 | 5, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await connectAsync(url, { protocolVersion, reconnectPeriod: 0, ...extra });
  client.on('error', () => undefined);
  return client;
}

export interface Received {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  properties: Record<string, unknown> | undefined;
}

/** Collects every message a client receives, for waitFor-style assertions. */
export function collect(client: MqttClient): Received[] {
  const out: Received[] = [];
  client.on('message', (topic, payload, packet) =>
    out.push({ topic, payload, qos: packet.qos, retain: packet.retain, properties: packet.properties as Record<string, unknown> | undefined }),
  );
  return out;
}

/**
 * Retained events for `topic` as a bare session sees them (SUBSCRIBE with get_retained over a
 * raw local peer). Not WampClient: it registers its handler only after SUBSCRIBED resolves, and
 * the router sends the retained EVENTs right behind SUBSCRIBED in the same batch.
 */
export async function retainedEvents(
  router: Router,
  topic: string,
): Promise<Array<{ args: unknown[]; kwargs: Record<string, unknown>; details: Record<string, unknown> }>> {
  const pair = createLocalPair('retained-probe');
  router.attach(pair.routerSide);
  const msgs: Message[] = [];
  pair.clientSide.setListener({ onMessage: (m) => msgs.push(m), onClose: () => undefined, onProtocolViolation: () => undefined });
  pair.clientSide.send({ type: MessageType.HELLO, realm: 'realm1', details: { roles: { subscriber: {} } } });
  await waitFor(() => msgs.some((m) => m.type === MessageType.WELCOME), { what: 'WELCOME' });
  pair.clientSide.send({ type: MessageType.SUBSCRIBE, request: 1 as RequestId, options: { get_retained: true }, topic });
  await waitFor(() => msgs.some((m) => m.type === MessageType.SUBSCRIBED || m.type === MessageType.ERROR), { what: 'SUBSCRIBED' });
  // The retained EVENTs were delivered in the same batch as SUBSCRIBED.
  const out = msgs.flatMap((m) => (m.type === MessageType.EVENT ? [{ args: m.args ?? [], kwargs: m.kwargs ?? {}, details: m.details }] : []));
  pair.clientSide.close('probe done');
  return out;
}
