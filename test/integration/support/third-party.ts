// Thin typed wrappers over the third-party clients the interop tests drive: AutobahnJS
// (autobahn 22.x, callback/promise API) and wampy 8 (promise API, `ws` passed in). Only what
// the tests use is typed; each helper resolves once the session is joined and closes cleanly.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { deferred, within, WAIT_MS } from './gateway';

export interface AbSubscription {
  id: number;
  topic: string;
}
export interface AbRegistration {
  id: number;
  procedure: string;
}
export interface AbDetails {
  publisher?: number;
  publisher_authid?: string;
  publisher_authrole?: string;
  topic?: string;
  procedure?: string;
  caller?: number;
  caller_authid?: string;
  caller_authrole?: string;
  progress?: ((args?: unknown[], kwargs?: Record<string, unknown>) => void) | null;
  [k: string]: unknown;
}
export interface AbCallPromise<T = unknown> extends Promise<T> {
  cancel(options?: { mode?: string }): void;
}
export interface AbSession {
  id: number;
  isOpen: boolean;
  features: Record<string, Record<string, boolean>>;
  publish(topic: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: Record<string, unknown>): Promise<{ id: number }> | undefined;
  subscribe(
    topic: string,
    handler: (args: unknown[], kwargs: Record<string, unknown>, details: AbDetails) => void,
    options?: Record<string, unknown>,
  ): Promise<AbSubscription>;
  register(
    procedure: string,
    endpoint: (args: unknown[], kwargs: Record<string, unknown>, details: AbDetails) => unknown,
    options?: Record<string, unknown>,
  ): Promise<AbRegistration>;
  call<T = unknown>(procedure: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: Record<string, unknown>): AbCallPromise<T>;
}
export interface AbError {
  error: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}
interface AbConnection {
  onopen: (session: AbSession, details: Record<string, unknown>) => void;
  onclose: (reason: string, details: { reason?: string; message?: string; [k: string]: unknown }) => boolean;
  open(): void;
  close(reason?: string, message?: string): void;
  isOpen: boolean;
}
interface AutobahnModule {
  Connection: new (options: Record<string, unknown>) => AbConnection;
  Result: new (args?: unknown[], kwargs?: Record<string, unknown>) => unknown;
  Error: new (error: string, args?: unknown[], kwargs?: Record<string, unknown>) => Error & AbError;
  serializer: { JSONSerializer: new () => unknown; MsgpackSerializer: new () => unknown; CBORSerializer: new () => unknown };
}

export const autobahn = require('autobahn') as AutobahnModule;

// AutobahnJS warns on every close, even a clean one ("connection closed", "auto-reconnect
// disabled!"); those lines would bury the test report. Everything else it says stays visible.
const autobahnLog = require('autobahn/lib/log.js') as { warn: (...args: unknown[]) => void };
const warn = autobahnLog.warn;
autobahnLog.warn = (...args: unknown[]): void => {
  const first = args[0];
  if (first === 'connection closed' || (typeof first === 'string' && first.startsWith('auto-reconnect disabled'))) return;
  warn(...args);
};

export type AbSerializerName = 'json' | 'msgpack' | 'cbor';
export function abSerializer(name: AbSerializerName): unknown {
  if (name === 'json') return new autobahn.serializer.JSONSerializer();
  if (name === 'msgpack') return new autobahn.serializer.MsgpackSerializer();
  return new autobahn.serializer.CBORSerializer();
}

export interface AbClient {
  session: AbSession;
  welcome: Record<string, unknown>;
  /** Resolves with (reason, details) once the connection is gone for good. */
  closed: Promise<{ reason: string; details: Record<string, unknown> }>;
  /** GOODBYE and wait for the close (no-op if already closed). */
  close(): Promise<void>;
  /** Drops the transport without GOODBYE (what a crash or a cut cable looks like). */
  drop(): void;
}

export type AbTarget = { url: string; serializer?: AbSerializerName } | { rawsocket: { host: string; port: number } | { path: string } };

/** Opens an AutobahnJS connection without retries; resolves on join, rejects on ABORT/close. */
export function openAutobahn(target: AbTarget, realm = 'realm1', extra: Record<string, unknown> = {}): Promise<AbClient> {
  const options: Record<string, unknown> = { realm, max_retries: 0, retry_if_unreachable: false, ...extra };
  if ('url' in target) {
    options.url = target.url;
    options.serializers = [abSerializer(target.serializer ?? 'json')];
  } else {
    options.transports = [{ type: 'rawsocket', ...target.rawsocket }];
  }
  const connection = new autobahn.Connection(options);
  const joined = deferred<AbClient>();
  const closed = deferred<{ reason: string; details: Record<string, unknown> }>();
  let isClosed = false;
  let socket: { close(code?: number, reason?: string): void } | undefined;
  connection.onopen = (session, details) => {
    socket = (session as unknown as { _socket: typeof socket })._socket;
    joined.resolve({
      session,
      welcome: details,
      closed: closed.promise,
      close: async () => {
        if (isClosed) return;
        try {
          connection.close();
        } catch {
          // already closing
        }
        await within(closed.promise, 'the AutobahnJS connection to close');
      },
      drop: () => socket?.close(1000, 'dropped'),
    });
  };
  connection.onclose = (reason, details) => {
    isClosed = true;
    closed.resolve({ reason, details });
    joined.reject(Object.assign(new Error(`AutobahnJS did not join: ${reason} ${details.reason ?? ''} ${details.message ?? ''}`), { reason, details }));
    return true; // no retries
  };
  connection.open();
  return within(joined.promise, 'AutobahnJS to join', WAIT_MS);
}

// ---- wampy ----------------------------------------------------------------------------------

export interface WampyEvent {
  details: Record<string, unknown>;
  argsList?: unknown[];
  argsDict?: Record<string, unknown>;
}
export interface WampyInvocation extends WampyEvent {
  result_handler(result: { options?: Record<string, unknown>; argsList?: unknown[]; argsDict?: Record<string, unknown> }): void;
  error_handler(error: { error: string; argsList?: unknown[]; argsDict?: Record<string, unknown> }): void;
}
export interface WampyInstance {
  connect(url?: string): Promise<Record<string, unknown>>;
  disconnect(): Promise<unknown>;
  /** A BigInt with wampy's msgpack serializer (msgpackr decodes uint64 as BigInt by default). */
  getSessionId(): number | bigint;
  getOpStatus(): { code: number; error: Error | null; reqId: number };
  subscribe(topic: string, onEvent: (e: WampyEvent) => void, options?: Record<string, unknown>): Promise<{ subscriptionId: number }>;
  publish(topic: string, payload?: unknown, options?: Record<string, unknown>): Promise<{ publicationId: number }>;
  register(procedure: string, rpc: (inv: WampyInvocation) => unknown, options?: Record<string, unknown>): Promise<{ registrationId: number }>;
  call(procedure: string, payload?: unknown, options?: Record<string, unknown>): Promise<WampyEvent>;
  cancel(reqId: number, options?: Record<string, unknown>): boolean;
}
export interface WampyCallError extends Error {
  errorUri: string;
  argsList?: unknown[];
  argsDict?: Record<string, unknown>;
  details?: Record<string, unknown>;
}

const { Wampy } = require('wampy') as { Wampy: new (url: string, options: Record<string, unknown>) => WampyInstance };
const { JsonSerializer } = require('wampy/JsonSerializer.js') as { JsonSerializer: new () => unknown };
const { MsgpackSerializer } = require('wampy/MsgpackSerializer.js') as { MsgpackSerializer: new () => unknown };
const { CborSerializer } = require('wampy/CborSerializer.js') as { CborSerializer: new () => unknown };

export function wampySerializer(name: AbSerializerName): unknown {
  if (name === 'json') return new JsonSerializer();
  if (name === 'msgpack') return new MsgpackSerializer();
  return new CborSerializer();
}

export interface WampyClient {
  wampy: WampyInstance;
  welcome: Record<string, unknown>;
  close(): Promise<void>;
}

/** Connects wampy (no auto-reconnect) with the given serializer; resolves once joined. */
export async function openWampy(
  url: string,
  serializer: AbSerializerName = 'json',
  realm = 'realm1',
  extra: Record<string, unknown> = {},
): Promise<WampyClient> {
  const wampy = new Wampy(url, { realm, ws: WebSocket, serializer: wampySerializer(serializer), autoReconnect: false, uriValidation: 'loose', ...extra });
  const welcome = await within(wampy.connect(), `wampy (${serializer}) to join`);
  return {
    wampy,
    welcome,
    close: async () => {
      if (wampy.getSessionId() !== null && wampy.getSessionId() !== undefined) await within(wampy.disconnect(), 'wampy to disconnect');
    },
  };
}

/** wampy over msgpack hands out IDs as BigInt; compare them as numbers. */
export function idOf(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  assert.equal(typeof v, 'number', `an ID is a number, got ${typeof v}`);
  return v as number;
}

/** The AutobahnJS error a call fails with; fails the test when the call succeeds. */
export async function abErrorOf(call: Promise<unknown>): Promise<AbError> {
  try {
    await call;
  } catch (err) {
    return err as AbError;
  }
  throw new Error('expected the call to fail, it succeeded');
}
