// Raw clients that speak bytes, not WAMP: a `ws` WebSocket and a `net` socket doing the RawSocket
// handshake and framing by hand. The bad-input tests use them to send what no WAMP library would,
// and to read exactly what the router put on the wire.

import * as net from 'node:net';
import WebSocket from 'ws';
import { deferred, Inbox, within, WAIT_MS } from './gateway';

export interface RawWs {
  ws: WebSocket;
  /** The subprotocol the router chose. */
  protocol: string;
  frames: Inbox<{ data: Buffer; binary: boolean }>;
  /** Resolves with the close code and reason once the connection is gone. */
  closed: Promise<{ code: number; reason: string }>;
  sendText(text: string): void;
  sendBinary(data: Buffer): void;
  /** The next frame parsed as JSON (for wamp.2.json). */
  nextJson(what?: string): Promise<unknown>;
  close(): void;
}

export async function openRawWs(url: string, protocol = 'wamp.2.json', options: WebSocket.ClientOptions = {}): Promise<RawWs> {
  const ws = new WebSocket(url, [protocol], { perMessageDeflate: false, ...options });
  const frames = new Inbox<{ data: Buffer; binary: boolean }>();
  const closed = deferred<{ code: number; reason: string }>();
  ws.on('message', (data: WebSocket.RawData, binary: boolean) =>
    frames.push({ data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), binary }),
  );
  ws.on('close', (code, reason) => closed.resolve({ code, reason: reason.toString('utf8') }));
  ws.on('error', () => undefined); // a close follows; tests assert on that
  await within(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('close', (code) => reject(new Error(`closed during the handshake (${code})`)));
    }),
    'the WebSocket to open',
  );
  return {
    ws,
    protocol: ws.protocol,
    frames,
    closed: closed.promise,
    sendText: (text) => ws.send(text, { binary: false }),
    sendBinary: (data) => ws.send(data, { binary: true }),
    nextJson: async (what = 'a JSON frame') => JSON.parse((await frames.next(what)).data.toString('utf8')) as unknown,
    close: () => ws.terminate(),
  };
}

/** A RawSocket frame header: type (0 regular, 1 ping, 2 pong) and 24-bit length. */
export function rawFrame(payload: Buffer, type = 0): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt8(type, 0);
  header.writeUIntBE(payload.length, 1, 3);
  return Buffer.concat([header, payload]);
}

/** Handshake octets: magic, (length exponent - 9) << 4 | serializer, two reserved zeros. */
export function rawHandshake(serializerId = 1, lengthExponent = 15): Buffer {
  return Buffer.from([0x7f, ((lengthExponent - 9) << 4) | serializerId, 0, 0]);
}

export interface RawTcp {
  socket: net.Socket;
  /** The router's 4 handshake octets (after `handshake()`). */
  reply: Buffer | undefined;
  frames: Inbox<{ type: number; payload: Buffer }>;
  /** Resolves once the socket is closed (by either side). */
  closed: Promise<void>;
  /** Sends our handshake and waits for the router's answer. */
  handshake(serializerId?: number, lengthExponent?: number): Promise<Buffer>;
  send(payload: Buffer, type?: number): void;
  sendJson(value: unknown): void;
  nextJson(what?: string): Promise<unknown>;
  write(bytes: Buffer): void;
  destroy(): void;
}

export async function openRawTcp(target: { port: number } | { path: string }): Promise<RawTcp> {
  const socket = 'path' in target ? net.connect({ path: target.path }) : net.connect({ host: '127.0.0.1', port: target.port });
  const frames = new Inbox<{ type: number; payload: Buffer }>();
  const closed = deferred();
  const handshakeReply = deferred<Buffer>();
  let buffer = Buffer.alloc(0);
  let reply: Buffer | undefined;
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed.resolve();
    handshakeReply.reject(new Error('closed before the handshake reply'));
  });
  handshakeReply.promise.catch(() => undefined);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!reply) {
      if (buffer.length < 4) return;
      reply = buffer.subarray(0, 4);
      buffer = buffer.subarray(4);
      handshakeReply.resolve(reply);
    }
    while (buffer.length >= 4) {
      const length = buffer.readUIntBE(1, 3);
      if (buffer.length < 4 + length) return;
      frames.push({ type: buffer.readUInt8(0) & 0x07, payload: buffer.subarray(4, 4 + length) });
      buffer = buffer.subarray(4 + length);
    }
  });
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    }),
    'the TCP connection',
  );
  const self: RawTcp = {
    socket,
    get reply() {
      return reply;
    },
    frames,
    closed: closed.promise,
    handshake: async (serializerId = 1, lengthExponent = 15) => {
      socket.write(rawHandshake(serializerId, lengthExponent));
      return within(handshakeReply.promise, 'the RawSocket handshake reply', WAIT_MS);
    },
    send: (payload, type = 0) => socket.write(rawFrame(payload, type)),
    sendJson: (value) => socket.write(rawFrame(Buffer.from(JSON.stringify(value)))),
    nextJson: async (what = 'a JSON frame') => {
      for (;;) {
        const f = await frames.next(what);
        if (f.type === 0) return JSON.parse(f.payload.toString('utf8')) as unknown;
      }
    },
    write: (bytes) => socket.write(bytes),
    destroy: () => socket.destroy(),
  };
  return self;
}

/** A HELLO any router accepts from an anonymous loopback client. */
export const HELLO = [1, 'realm1', { roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} } }];
