// Shared fixtures for the transport integration tests: an echo onPeer, a message collector for
// client peers, raw socket helpers and a throwaway self-signed certificate.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromWire } from '../../../src/protocol/codec';
import type { Message } from '../../../src/protocol/messages';
import type { Peer } from '../../../src/protocol/peer';

export const WAIT_MS = 5_000;

/** Server side of every test: sends back whatever arrives, remembers its peers and their closes. */
export class EchoSide {
  readonly peers: Peer[] = [];
  /** peer -> its close reason once closed: tests await the server side noticing a close. */
  private readonly closes = new Map<Peer, Promise<string>>();

  readonly onPeer = (peer: Peer): void => {
    this.peers.push(peer);
    let resolveClose!: (reason: string) => void;
    this.closes.set(peer, new Promise<string>((resolve) => (resolveClose = resolve)));
    peer.setListener({
      onMessage: (msg) => peer.send(msg),
      onProtocolViolation: (reason) => peer.close(`protocol violation: ${reason}`),
      onClose: (reason) => resolveClose(reason),
    });
  };

  closed(index = 0): Promise<string> {
    const peer = this.peers[index];
    if (!peer) return Promise.reject(new Error(`no server peer #${index}`));
    return within(this.closes.get(peer) ?? Promise.reject(new Error('unknown peer')), `server peer #${index} to close`);
  }
}

export interface Collector {
  next(): Promise<Message>;
  closed: Promise<string>;
}

/** Queues what a client peer receives so a test can await messages in order. */
export function collect(peer: Peer): Collector {
  const queue: Message[] = [];
  const waiting: Array<(m: Message) => void> = [];
  let closedResolve!: (reason: string) => void;
  const closed = new Promise<string>((resolve) => (closedResolve = resolve));
  peer.setListener({
    onMessage: (msg) => {
      const w = waiting.shift();
      if (w) w(msg);
      else queue.push(msg);
    },
    onProtocolViolation: (reason) => closedResolve(`protocol violation: ${reason}`),
    onClose: (reason) => closedResolve(reason),
  });
  return {
    next: () => {
      const m = queue.shift();
      if (m) return Promise.resolve(m);
      return within(new Promise<Message>((resolve) => waiting.push(resolve)), 'a message');
    },
    closed,
  };
}

/** Rejects if `promise` has not settled in a generous time: a hang becomes a failure, not a stall. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A PUBLISH carrying bytes in args and kwargs: what every serializer must carry intact. */
export function binaryMessage(): Message {
  return fromWire([16, 7, { acknowledge: true }, 'com.example.bytes', [Buffer.from([0, 1, 2, 0xfe, 0xff]), 'text', 42], { blob: Buffer.from('héllo') }]);
}

function bytesOf(value: unknown): Buffer {
  assert.ok(value instanceof Uint8Array, `expected bytes, got ${typeof value}`);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export async function assertEchoRoundTrip(client: Peer): Promise<void> {
  const inbox = collect(client);
  client.send(binaryMessage());
  const back = await inbox.next();
  assert.equal(back.type, 16);
  if (back.type !== 16) return;
  assert.equal(back.topic, 'com.example.bytes');
  assert.deepEqual(back.options, { acknowledge: true });
  const args = back.args ?? [];
  assert.deepEqual(bytesOf(args[0]), Buffer.from([0, 1, 2, 0xfe, 0xff]));
  assert.equal(args[1], 'text');
  assert.equal(args[2], 42);
  assert.deepEqual(bytesOf(back.kwargs?.blob), Buffer.from('héllo'));
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A self-signed certificate for 127.0.0.1/localhost, valid as server, client and CA. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=wampgate-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** A raw socket that records every byte it receives, for speaking broken protocol on purpose. */
export interface RawClient {
  socket: net.Socket;
  /** Resolves once at least `n` bytes have arrived (or rejects on timeout). */
  received(n: number): Promise<Buffer>;
  closed: Promise<Buffer>;
}

export function rawConnect(target: { port: number } | { path: string }): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in target ? net.connect({ path: target.path }) : net.connect({ host: '127.0.0.1', port: target.port });
    let data = Buffer.alloc(0);
    const watchers: Array<() => void> = [];
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      for (const w of watchers.splice(0)) w();
    });
    socket.on('error', () => undefined);
    const closed = new Promise<Buffer>((res) =>
      socket.once('close', () => {
        res(data);
        for (const w of watchers.splice(0)) w();
      }),
    );
    const received = (n: number): Promise<Buffer> =>
      within(
        new Promise<Buffer>((res, rej) => {
          const check = (): void => {
            if (data.length >= n) res(data);
            else if (socket.destroyed) rej(new Error(`closed after ${data.length} bytes, wanted ${n}`));
            else watchers.push(check);
          };
          check();
        }),
        `${n} bytes`,
      );
    socket.once('connect', () => resolve({ socket, received, closed: within(closed, 'the server to close the connection') }));
    socket.once('error', reject);
  });
}
