// Starts a Router for tests and connects sessions to it: WampClients over an in-process local
// pair (anonymous, since the local transport is loopback), or RecordingPeers driven message by
// message. Also a log sink that keeps entries so tests can assert what was logged.

import assert from 'node:assert/strict';
import { WampClient, type ConnectOptions } from '../../src/client/wamp-client';
import { Router, type RouterOptions } from '../../src/core/router';
import type { RealmOptions } from '../../src/core/realm';
import type { SessionId } from '../../src/protocol/ids';
import { MessageType } from '../../src/protocol/message-types';
import type { Dict } from '../../src/protocol/messages';
import type { TransportInfo } from '../../src/protocol/peer';
import { createLocalPair } from '../../src/transports/local';
import { createLogger, type LogLevel, type Logger } from '../../src/util/logger';
import { RecordingPeer, type MessageOf } from './recording-peer';
import { anonymousOnLoopback } from '../../src/auth/anonymous';
import { startMetaApi } from '../../src/meta/meta-api';

export interface LogEntry {
  level: LogLevel;
  component: string;
  msg: string;
  fields: Record<string, unknown> | undefined;
}

export function captureLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const logger = createLogger({ level: 'debug', sink: (level, component, msg, fields) => entries.push({ level, component, msg, fields }) });
  return { logger, entries };
}

export interface TestRouter {
  router: Router;
  logs: LogEntry[];
}

/** A router with the given realms (default one, "realm1"), its meta API ready, and anonymous
 * access on loopback unless `authenticatorFor` says otherwise (as the gateway's default). */
export async function startRouter(options: Omit<RouterOptions, 'realms' | 'logger'> & { realms?: Array<string | RealmOptions> } = {}): Promise<TestRouter> {
  const { logger, entries } = captureLogger();
  const realms = (options.realms ?? ['realm1']).map((r) => (typeof r === 'string' ? { name: r } : r));
  const anonymous = anonymousOnLoopback();
  const router = new Router({ authenticatorFor: () => anonymous, ...options, realms, logger });
  await startMetaApi(router).ready;
  return { router, logs: entries };
}

/** A WampClient joined over a local pair attached like any transport connection. */
export async function connectClient(router: Router, realm = 'realm1', options: Partial<ConnectOptions> = {}): Promise<WampClient> {
  const pair = createLocalPair('test-client');
  router.attach(pair.routerSide);
  return WampClient.connect(pair.clientSide, { realm, timeoutMs: 2000, ...options });
}

/** Client roles announcing every feature a test may need. */
export const allRoles: Dict = {
  publisher: { features: { publisher_exclusion: true, publisher_identification: true, subscriber_blackwhite_listing: true, payload_passthru_mode: true } },
  subscriber: { features: { pattern_based_subscription: true, publisher_identification: true, event_retention: true } },
  caller: { features: { progressive_call_results: true, call_canceling: true, call_timeout: true, caller_identification: true } },
  callee: {
    features: {
      progressive_call_results: true,
      call_canceling: true,
      pattern_based_registration: true,
      shared_registration: true,
      caller_identification: true,
    },
  },
};

/** Basic-profile roles: no advanced features (a callee that cannot handle INTERRUPT). */
export const basicRoles: Dict = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

export interface RecordedSession {
  peer: RecordingPeer;
  id: SessionId;
  welcome: MessageOf<typeof MessageType.WELCOME>;
}

/** Attaches a RecordingPeer, sends HELLO and asserts the (synchronous, anonymous) WELCOME. */
export function joinRecording(router: Router, realm = 'realm1', details: Dict = { roles: allRoles }, transport: Partial<TransportInfo> = {}): RecordedSession {
  const peer = new RecordingPeer(transport);
  router.attach(peer);
  peer.inject({ type: MessageType.HELLO, realm, details });
  const welcome = peer.takeOne(MessageType.WELCOME);
  assert.equal(welcome.details.realm, realm);
  return { peer, id: welcome.session, welcome };
}

/** Lets every queued microtask (local transport deliveries, client handlers) run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Proves the router still serves: a fresh session joins, registers, calls itself, and leaves. */
export async function assertServesFreshSession(router: Router, realm = 'realm1'): Promise<void> {
  const client = await connectClient(router, realm);
  const procedure = `test.alive.${Math.floor(Math.random() * 1e9)}`;
  await client.register(procedure, (args) => args[0]);
  const result = await client.call(procedure, ['still serving']);
  assert.deepEqual(result.args, ['still serving']);
  await client.close();
}

export interface ReceivedEvent {
  args: unknown[];
  kwargs: Dict;
  details: Dict;
}

export interface EventLog {
  events: ReceivedEvent[];
  /** Resolves with the first received event (already or later) satisfying `pred`. */
  waitFor(pred?: (e: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
}

/** Subscribes `client` to `topic` and records every event it receives. */
export async function collectEvents(client: WampClient, topic: string, options: Dict = {}): Promise<EventLog> {
  const events: ReceivedEvent[] = [];
  const waiters: Array<{ pred: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void }> = [];
  await client.subscribe(
    topic,
    (args, kwargs, details) => {
      const e = { args, kwargs, details };
      events.push(e);
      for (const w of [...waiters]) {
        if (!w.pred(e)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    },
    options,
  );
  return {
    events,
    waitFor(pred = () => true, timeoutMs = 2000) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event on ${topic} within ${timeoutMs} ms; got ${JSON.stringify(events)}`)), timeoutMs);
        waiters.push({
          pred,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
  };
}

/** Identity taken from HELLO.Details (authid, authrole), for tests about authid/authrole. */
export const identityFromHello = {
  hello: (ctx: { details: Dict }) => ({
    kind: 'accept' as const,
    authid: String(ctx.details.authid ?? 'user'),
    authrole: String((ctx.details.authextra as Dict | undefined)?.role ?? 'user'),
    authmethod: 'test',
    authprovider: 'test',
  }),
};
