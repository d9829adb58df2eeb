// The uplink: a local WAMP session on the gateway's realm and a remote WAMP client session to the
// cloud router, the forwarding rules between them, store-and-forward of upward events through the
// Outbox (append durable, publish with acknowledge, delete on PUBLISHED), reconnect with backoff,
// and the link's state as events and a procedure. It does not own config parsing or storage files.

import { WampClient, Result, type CallResult, type InvocationHandler } from '../client/wamp-client';
import { WampError } from '../client/wamp-error';
import type { Dict } from '../protocol/messages';
import type { Peer } from '../protocol/peer';
import { serializerByName, type Serializer } from '../serializers';
import { connectRawSocket } from '../transports/rawsocket/client';
import { connectWebSocket } from '../transports/websocket/client';
import type { TransportLimits } from '../transports/limits';
import { quietLogger, type Logger } from '../util/logger';
import { buildClientAuth } from './client-auth';
import type { NewEntry, Outbox, OutboxStats } from './outbox';
import { parseUplinkUrl, type ResolvedRule, type ResolvedUplinkConfig } from './uplink-config';
import { rewriteUri } from './uri-rewrite';

export const UplinkStates = ['connecting', 'online', 'offline', 'stopped'] as const;
export type UplinkState = (typeof UplinkStates)[number];

/** URIs the uplink offers on the local realm. */
export const UplinkUri = {
  status: 'wampgate.uplink.status',
  onState: 'wampgate.uplink.on_state',
  onStats: 'wampgate.uplink.on_stats',
  /** A downward call while the link is down (and did not come back within offlineCallTimeoutMs). */
  offline: 'wampgate.error.uplink_offline',
} as const;

export const UPLINK_AUTHID = 'wampgate.uplink';

export interface LinkState {
  state: UplinkState;
  /** Epoch ms of the last state change (wall clock: for people, not for ordering). */
  since: number;
  lastError: string | null;
  url: string;
  realm: string;
  /** Session id at the cloud router while online. */
  remoteSession: number | null;
  /** Successful joins since start. */
  connects: number;
  /** Failed attempts since the last successful join. */
  failedAttempts: number;
  /** Epoch ms of the next attempt while waiting to reconnect. */
  nextAttemptAt: number | null;
}

export interface ReplayProgress {
  /** True while entries that were buffered when the link came up are still being sent. */
  active: boolean;
  /** Entries buffered when the link last came up. */
  backlogAtStart: number;
  /** Of those: acknowledged by the cloud so far. */
  acked: number;
  /** Highest seq that belongs to the backlog (later ones are live traffic). */
  untilSeq: number;
  startedAt: number | null;
  finishedAt: number | null;
  ratePerSecond: number;
}

export interface UplinkCounters {
  /** Local events accepted into the buffer, per the whole process life. */
  accepted: number;
  /** Local events the buffer refused (limits, disk full): also in outbox.drops. */
  refused: number;
  /** Publications the cloud acknowledged. */
  publishedUp: number;
  /** Publications the cloud answered with ERROR (not authorized, invalid URI): dropped, never retried. */
  rejectedUp: number;
  /** Cloud events published locally. */
  eventsDown: number;
  /** Cloud calls answered by local procedures. */
  callsUp: number;
  /** Local calls forwarded to cloud procedures. */
  callsDown: number;
  /** Local calls refused because the link was down. */
  offlineCalls: number;
}

export interface UplinkStatus extends LinkState {
  gatewayId: string;
  inflight: number;
  outbox: OutboxStats;
  replay: ReplayProgress;
  counters: UplinkCounters;
}

export interface UplinkDeps {
  router: { attachLocal(name: string, identity: { authid: string; authrole: string }): Peer };
  outbox: Outbox;
  logger?: Logger;
  /** Test seam: how the transport to the cloud is opened. */
  connect?: () => Promise<Peer>;
  /** Test seam for backoff jitter. */
  random?: () => number;
}

/** Exponential backoff: initial × 2^n capped at max, then the jitter share of it randomised. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly options: { initialDelayMs: number; maxDelayMs: number; jitter: number },
    private readonly random: () => number = Math.random,
  ) {}
  next(): number {
    const base = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    // Randomise down, never up: max stays a real upper bound, and a fleet of gateways that lost
    // the same cloud does not come back in lockstep.
    return Math.round(base * (1 - this.options.jitter * this.random()));
  }
  reset(): void {
    this.attempt = 0;
  }
}

interface InflightEntry {
  seq: number;
  done: boolean;
}

/** Exact is the default: leave the option out, some routers are strict about options they do not need. */
const matchOption = (rule: ResolvedRule): Dict => (rule.match === 'exact' ? {} : { match: rule.match });

const errorText = (err: unknown): string =>
  err instanceof WampError ? `${err.error}${err.args[0] !== undefined ? `: ${String(err.args[0])}` : ''}` : err instanceof Error ? err.message : String(err);

export class Uplink {
  private readonly log: Logger;
  private readonly outbox: Outbox;
  private readonly serializer: Serializer;
  private readonly backoff: Backoff;
  private local: WampClient | undefined;
  private remote: WampClient | undefined;
  private stopping = false;
  private linkTask: Promise<void> | undefined;
  private localTask: Promise<void> | undefined;
  /** Wake-ups of pending sleeps (reconnect and rejoin delays): stop() ends them early. */
  private readonly wakers = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly link: LinkState;
  /** Waiting downward calls: resolved when the link comes online. */
  private onlineWaiters = new Set<(client: WampClient) => void>();

  // upward pipeline
  /** Events received from the local realm, appended on the next turn of the event loop in one transaction. */
  private pendingAppends: NewEntry[] = [];
  private appendScheduled = false;
  /** Sent and not yet deleted from the outbox, in seq order. Its length is bounded by inflightWindow. */
  private inflight: InflightEntry[] = [];
  /** Highest seq sent in this remote session: the next peek starts after it. */
  private cursor = 0;
  /** Bumped on every new remote session: late answers from an old session are ignored. */
  private generation = 0;
  private ackScheduled = false;
  /** Caught up: peek found nothing new; cleared when an append lands. */
  private idle = false;
  private tokens = 0;
  private tokensAt = 0;
  private rateTimer: NodeJS.Timeout | undefined;
  private readonly replay: ReplayProgress;
  private readonly counters: UplinkCounters = {
    accepted: 0,
    refused: 0,
    publishedUp: 0,
    rejectedUp: 0,
    eventsDown: 0,
    callsUp: 0,
    callsDown: 0,
    offlineCalls: 0,
  };
  private lastRejectLog = 0;

  constructor(
    readonly config: ResolvedUplinkConfig,
    private readonly deps: UplinkDeps,
  ) {
    this.log = (deps.logger ?? quietLogger).child('uplink');
    this.outbox = deps.outbox;
    const serializer = serializerByName(config.serializer);
    if (!serializer) throw new Error(`uplink: unknown serializer ${config.serializer}`);
    this.serializer = serializer;
    this.backoff = new Backoff(config.reconnect, deps.random);
    this.link = {
      state: 'offline',
      since: Date.now(),
      lastError: null,
      url: config.url,
      realm: config.realm,
      remoteSession: null,
      connects: 0,
      failedAttempts: 0,
      nextAttemptAt: null,
    };
    this.replay = {
      active: false,
      backlogAtStart: 0,
      acked: 0,
      untilSeq: 0,
      startedAt: null,
      finishedAt: null,
      ratePerSecond: config.buffer.replayRatePerSecond,
    };
  }

  /** Joins the local realm (subscriptions and registrations in place before it returns), then links up in the background. */
  async start(): Promise<void> {
    // Fail start on a bad secret instead of retrying a doomed link forever.
    buildClientAuth(this.config.auth);
    await this.joinLocal();
    this.localTask = undefined;
    this.linkTask = this.linkLoop().catch((err: unknown) => this.log.error('uplink link loop failed (bug)', { error: errorText(err) }));
    const b = this.config.buffer;
    if (b.maxAgeMs > 0) this.every(b.expireIntervalMs, () => this.expire());
    if (this.config.statsIntervalMs > 0) this.every(this.config.statsIntervalMs, () => this.publishLocal(UplinkUri.onStats, [this.status()]));
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    if (this.rateTimer) clearTimeout(this.rateTimer);
    for (const wake of [...this.wakers]) wake();
    // Events already received are kept: they were delivered to us, so they count as accepted.
    this.flushAppends();
    this.flushAcks();
    const remote = this.remote;
    if (remote && !remote.closed) await remote.close().catch(() => undefined);
    // A connect attempt in progress may take up to connectTimeoutMs; do not hold shutdown for it
    // (runRemoteSession closes what it gets once it sees `stopping`).
    await Promise.race([this.linkTask, new Promise((r) => setTimeout(r, 2000).unref())]);
    this.setState('stopped', null);
    const local = this.local;
    if (local && !local.closed) await local.close().catch(() => undefined);
    await this.localTask;
    this.outbox.close();
  }

  status(): UplinkStatus {
    return {
      ...this.link,
      gatewayId: this.config.gatewayId,
      inflight: this.inflight.length,
      outbox: this.outbox.stats(),
      replay: { ...this.replay },
      counters: { ...this.counters },
    };
  }

  get state(): UplinkState {
    return this.link.state;
  }

  // ---- local side ------------------------------------------------------------------------------

  private async joinLocal(): Promise<void> {
    const peer = this.deps.router.attachLocal('uplink', { authid: UPLINK_AUTHID, authrole: this.config.localAuthrole });
    const local = await WampClient.connect(peer, { realm: this.config.localRealm });
    this.local = local;
    local.onClose((reason) => this.onLocalClosed(reason));
    await local.register(UplinkUri.status, () => this.status());
    for (const rule of this.config.forward) {
      const match = matchOption(rule);
      if (rule.direction === 'up' && rule.type === 'event') {
        await local.subscribe(rule.local, (args, kwargs, details) => this.onLocalEvent(rule, args, kwargs, details), match);
      } else if (rule.direction === 'down' && rule.type === 'procedure') {
        await local.register(rule.local, this.downwardCall(rule), match);
      }
    }
  }

  private onLocalClosed(reason: string): void {
    if (this.stopping) return;
    // The router killed our session (meta API) or a bug closed it: rejoin, or upward events stop.
    this.log.error('uplink local session closed, rejoining', { reason, realm: this.config.localRealm });
    this.localTask = (async () => {
      for (let delay = 500; !this.stopping; delay = Math.min(delay * 2, 30_000)) {
        await this.sleep(delay);
        if (this.stopping) return;
        try {
          await this.joinLocal();
          this.log.info('uplink local session rejoined');
          return;
        } catch (err) {
          this.log.error('uplink could not rejoin the local realm', { error: errorText(err) });
          if (this.local && !this.local.closed) this.local.peer.close('rejoin failed');
        }
      }
    })().catch((err: unknown) => this.log.error('uplink local rejoin failed (bug)', { error: errorText(err) }));
  }

  private onLocalEvent(rule: ResolvedRule, args: unknown[], kwargs: Dict, details: Dict): void {
    // exclude_me keeps our own downward publications away; this catches a router that ignores it.
    if (details.publisher !== undefined && details.publisher === this.local?.sessionId) return;
    const topic = typeof details.topic === 'string' ? details.topic : rule.local;
    const remoteTopic = rewriteUri({ from: rule.local, to: rule.remote, match: rule.match }, topic);
    if (remoteTopic === null) return;
    const entry: NewEntry = { source: rule.name, topic: remoteTopic, priority: rule.priority, dropPolicy: rule.dropPolicy };
    if (args.length > 0) entry.args = args;
    if (Object.keys(kwargs).length > 0) entry.kwargs = kwargs;
    this.pendingAppends.push(entry);
    if (this.pendingAppends.length >= this.config.buffer.maxBatch) this.flushAppends();
    else if (!this.appendScheduled) {
      this.appendScheduled = true;
      // Everything that arrives in one turn of the event loop shares one transaction (one fsync).
      setImmediate(() => this.flushAppends());
    }
  }

  private flushAppends(): void {
    this.appendScheduled = false;
    if (this.pendingAppends.length === 0) return;
    const batch = this.pendingAppends;
    this.pendingAppends = [];
    let stored = 0;
    try {
      for (const r of this.outbox.appendBatch(batch)) {
        if (r.stored) stored++;
      }
    } catch (err) {
      // appendBatch never throws for storage trouble; this is a closed outbox or a bug.
      this.log.error('uplink could not buffer events', { count: batch.length, error: errorText(err) });
    }
    this.counters.accepted += stored;
    this.counters.refused += batch.length - stored;
    this.idle = false;
    this.pump();
  }

  private downwardCall(rule: ResolvedRule): InvocationHandler {
    return async (args, kwargs, details) => {
      const procedure = typeof details.procedure === 'string' ? details.procedure : rule.local;
      const remoteProcedure = rewriteUri({ from: rule.local, to: rule.remote, match: rule.match }, procedure);
      if (remoteProcedure === null) throw new WampError('wamp.error.no_such_procedure', [`${procedure} is outside uplink rule ${rule.name}`]);
      const client = await this.waitOnline(rule.offlineCallTimeoutMs, details.signal);
      if (!client) {
        this.counters.offlineCalls++;
        throw new WampError(UplinkUri.offline, [`the uplink to ${this.config.url} is ${this.link.state}`], {
          state: this.link.state,
          since: this.link.since,
          lastError: this.link.lastError,
        });
      }
      this.counters.callsDown++;
      try {
        const r = await client.call(remoteProcedure, args, kwargs, this.forwardCallOptions(details));
        return new Result(r.args, r.kwargs);
      } catch (err) {
        if (err instanceof WampError && err.error === 'wamp.error.canceled' && client.closed && !details.signal.aborted) {
          throw new WampError(UplinkUri.offline, [`the uplink to ${this.config.url} went down during the call; it may or may not have run`]);
        }
        throw err;
      }
    };
  }

  private forwardCallOptions(details: Parameters<InvocationHandler>[2]): Dict & { onProgress?: (r: CallResult) => void; signal?: AbortSignal } {
    const options: Dict & { onProgress?: (r: CallResult) => void; signal?: AbortSignal } = { signal: details.signal };
    const progress = details.progress;
    if (progress) options.onProgress = (r) => progress(r.args, r.kwargs);
    return options;
  }

  private waitOnline(timeoutMs: number, signal: AbortSignal): Promise<WampClient | undefined> {
    if (this.link.state === 'online' && this.remote) return Promise.resolve(this.remote);
    if (timeoutMs <= 0 || this.stopping) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (client: WampClient | undefined): void => {
        clearTimeout(timer);
        this.onlineWaiters.delete(done);
        signal.removeEventListener('abort', onAbort);
        resolve(client);
      };
      const onAbort = (): void => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      signal.addEventListener('abort', onAbort);
      this.onlineWaiters.add(done);
    });
  }

  private publishLocal(topic: string, args: unknown[], kwargs?: Dict): void {
    const local = this.local;
    if (!local || local.closed) return;
    local.publish(topic, args, kwargs, { exclude_me: true }).catch(() => undefined);
  }

  // ---- remote side -----------------------------------------------------------------------------

  private async linkLoop(): Promise<void> {
    while (!this.stopping) {
      await this.runRemoteSession();
      if (this.stopping) return;
      const delay = this.backoff.next();
      this.link.nextAttemptAt = Date.now() + delay;
      this.log.info('uplink reconnecting', { inMs: delay, attempt: this.link.failedAttempts });
      await this.sleep(delay);
      this.link.nextAttemptAt = null;
    }
  }

  private openTransport(): Promise<Peer> {
    if (this.deps.connect) return this.deps.connect();
    const target = parseUplinkUrl(this.config.url);
    if (!target) return Promise.reject(new Error(`bad uplink url ${this.config.url}`));
    const limits: TransportLimits = {
      maxMessageBytes: this.config.maxMessageBytes,
      handshakeTimeoutMs: this.config.connectTimeoutMs,
      keepaliveIntervalMs: this.config.keepalive.intervalMs,
      keepaliveTimeoutMs: this.config.keepalive.timeoutMs,
    };
    const extras = { logger: this.deps.logger ?? quietLogger, name: 'uplink' };
    switch (target.kind) {
      case 'websocket':
        return connectWebSocket({ url: target.url, serializer: this.serializer, limits, ...(this.config.tls ? { tls: this.config.tls } : {}), ...extras });
      case 'rawsocket':
        return connectRawSocket({ host: target.host, port: target.port }, this.serializer, limits, target.secure ? (this.config.tls ?? {}) : undefined, extras);
      case 'rawsocket-unix':
        return connectRawSocket({ path: target.path }, this.serializer, limits, undefined, extras);
    }
  }

  /** One remote session from connect to close; returns when it is over (or never started). */
  private async runRemoteSession(): Promise<void> {
    this.setState('connecting', this.link.lastError);
    let client: WampClient;
    try {
      const peer = await this.openTransport();
      if (this.stopping) {
        peer.close('uplink stopping');
        return;
      }
      const auth = buildClientAuth(this.config.auth);
      client = await WampClient.connect(peer, { realm: this.config.realm, timeoutMs: this.config.connectTimeoutMs, ...auth });
    } catch (err) {
      this.link.failedAttempts++;
      this.setState('offline', errorText(err));
      this.log.warn('uplink could not connect', { url: this.config.url, error: errorText(err), attempt: this.link.failedAttempts });
      return;
    }
    const closed = new Promise<string>((resolve) => {
      client.onClose(resolve);
      if (client.closed) resolve(client.closeReason);
    });
    try {
      await this.restoreRemote(client);
    } catch (err) {
      this.link.failedAttempts++;
      const text = `restoring subscriptions/registrations failed: ${errorText(err)}`;
      this.log.error('uplink ' + text, { url: this.config.url });
      client.peer.close('restore failed');
      await closed;
      this.setState('offline', text);
      return;
    }
    if (this.stopping) {
      await client.close().catch(() => undefined);
      return;
    }
    this.remote = client;
    this.generation++;
    this.inflight = [];
    this.cursor = 0;
    this.idle = false;
    this.link.connects++;
    this.link.failedAttempts = 0;
    this.link.remoteSession = client.sessionId;
    this.backoff.reset();
    this.beginReplay();
    this.setState('online', null);
    this.log.info('uplink online', { url: this.config.url, realm: this.config.realm, session: client.sessionId, backlog: this.replay.backlogAtStart });
    for (const w of [...this.onlineWaiters]) w(client);
    this.pump();
    const reason = await closed;
    // Acks that arrived before the close are kept; everything else in flight goes again later.
    this.flushAcks();
    this.remote = undefined;
    this.generation++;
    this.inflight = [];
    this.cursor = 0;
    this.link.remoteSession = null;
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.rateTimer = undefined;
    if (this.stopping) return;
    this.setState('offline', `link closed: ${reason}`);
    this.log.warn('uplink offline', { url: this.config.url, reason, buffered: this.outbox.stats().count });
  }

  /** Every remote subscription and registration, once per remote session (a fresh session has none). */
  private async restoreRemote(client: WampClient): Promise<void> {
    const work: Array<Promise<unknown>> = [];
    for (const rule of this.config.forward) {
      const options = matchOption(rule);
      if (rule.direction === 'down' && rule.type === 'event') {
        work.push(client.subscribe(rule.remote, (args, kwargs, details) => this.onRemoteEvent(rule, args, kwargs, details), options));
      } else if (rule.direction === 'up' && rule.type === 'procedure') {
        work.push(this.registerUpward(client, rule));
      }
    }
    await Promise.all(work);
  }

  private async registerUpward(client: WampClient, rule: ResolvedRule): Promise<void> {
    const handler: InvocationHandler = async (args, kwargs, details) => {
      const procedure = typeof details.procedure === 'string' ? details.procedure : rule.remote;
      const localProcedure = rewriteUri({ from: rule.remote, to: rule.local, match: rule.match }, procedure);
      if (localProcedure === null) throw new WampError('wamp.error.no_such_procedure', [`${procedure} is outside uplink rule ${rule.name}`]);
      const local = this.local;
      if (!local || local.closed) throw new WampError('wamp.error.unavailable', ['the gateway is not serving its local realm']);
      this.counters.callsUp++;
      const r = await local.call(localProcedure, args, kwargs, this.forwardCallOptions(details));
      return new Result(r.args, r.kwargs);
    };
    try {
      await client.register(rule.remote, handler, matchOption(rule));
    } catch (err) {
      // After a network cut the cloud may still hold our previous session (until its own
      // keepalive notices): its registration blocks ours for a while. Retry rather than fail.
      if (!(err instanceof WampError) || err.error !== 'wamp.error.procedure_already_exists') throw err;
      this.log.warn('uplink registration still held upstream, retrying', { rule: rule.name, procedure: rule.remote });
      const retry = setInterval(() => {
        if (client.closed || this.stopping) return clearInterval(retry);
        client.register(rule.remote, handler, matchOption(rule)).then(
          () => {
            clearInterval(retry);
            this.log.info('uplink registration restored', { rule: rule.name, procedure: rule.remote });
          },
          () => undefined,
        );
      }, 2000);
      retry.unref();
      client.onClose(() => clearInterval(retry));
    }
  }

  private onRemoteEvent(rule: ResolvedRule, args: unknown[], kwargs: Dict, details: Dict): void {
    const topic = typeof details.topic === 'string' ? details.topic : rule.remote;
    const localTopic = rewriteUri({ from: rule.remote, to: rule.local, match: rule.match }, topic);
    if (localTopic === null) return;
    this.counters.eventsDown++;
    // exclude_me: our own local subscriptions (upward rules on overlapping URIs) never see it, so
    // an event forwarded down is not forwarded up again.
    this.publishLocal(localTopic, args, kwargs);
  }

  // ---- store and forward -----------------------------------------------------------------------

  private beginReplay(): void {
    const s = this.outbox.stats();
    this.replay.backlogAtStart = s.count;
    this.replay.acked = 0;
    this.replay.untilSeq = s.nextSeq - 1;
    this.replay.active = s.count > 0;
    this.replay.startedAt = Date.now();
    this.replay.finishedAt = s.count > 0 ? null : this.replay.startedAt;
    this.tokens = Math.min(this.burst(), this.config.buffer.replayRatePerSecond || Infinity);
    this.tokensAt = Date.now();
  }

  private burst(): number {
    const rate = this.config.buffer.replayRatePerSecond;
    return rate > 0 ? Math.max(1, Math.min(this.config.buffer.inflightWindow, Math.ceil(rate / 10))) : Infinity;
  }

  /** Sends what the window and the replay rate allow, lowest seq first. */
  private pump(): void {
    const client = this.remote;
    if (!client || this.link.state !== 'online' || this.stopping || this.idle) return;
    const window = this.config.buffer.inflightWindow;
    const rate = this.config.buffer.replayRatePerSecond;
    while (this.inflight.length < window) {
      let room = window - this.inflight.length;
      const limited = rate > 0 && this.cursor < this.replay.untilSeq;
      if (limited) {
        const now = Date.now();
        this.tokens = Math.min(this.burst(), this.tokens + ((now - this.tokensAt) * rate) / 1000);
        this.tokensAt = now;
        room = Math.min(room, Math.floor(this.tokens), this.replay.untilSeq - this.cursor);
        if (room <= 0) {
          if (!this.rateTimer) {
            this.rateTimer = setTimeout(
              () => {
                this.rateTimer = undefined;
                this.pump();
              },
              Math.max(5, Math.ceil(1000 / rate)),
            );
          }
          return;
        }
      }
      const rows = this.outbox.peek(room, this.cursor);
      if (rows.length === 0) {
        this.idle = true;
        // The rest of the backlog left by eviction or expiry before it was sent.
        if (this.replay.active && this.inflight.length === 0) this.finishReplay();
        return;
      }
      const generation = this.generation;
      for (const row of rows) {
        const entry: InflightEntry = { seq: row.seq, done: false };
        this.inflight.push(entry);
        this.cursor = row.seq;
        if (limited) this.tokens--;
        client.publish(row.topic, row.args, row.kwargs, { ...row.options, acknowledge: true, exclude_me: true }).then(
          () => {
            if (generation !== this.generation) return;
            entry.done = true;
            this.counters.publishedUp++;
            this.scheduleAcks();
          },
          (err: unknown) => {
            if (generation !== this.generation) return;
            // The session closing rejects with canceled: the entry stays and goes again later.
            if (!(err instanceof WampError) || err.error === 'wamp.error.canceled') return;
            entry.done = true;
            this.counters.rejectedUp++;
            if (Date.now() - this.lastRejectLog > 10_000) {
              this.lastRejectLog = Date.now();
              this.log.error('the cloud router refused a publication: dropped (counted in counters.rejectedUp)', {
                topic: row.topic,
                error: err.error,
                source: row.source,
              });
            }
            this.scheduleAcks();
          },
        );
      }
      if (rows.length < room) {
        this.idle = true;
        return;
      }
    }
  }

  private scheduleAcks(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    // One delete transaction for every PUBLISHED that arrived in this turn of the event loop.
    setImmediate(() => {
      this.ackScheduled = false;
      this.flushAcks();
      this.pump();
    });
  }

  /** Deletes the acknowledged head of the in-flight list; only then are window slots freed. */
  private flushAcks(): void {
    let upTo = 0;
    let n = 0;
    while (this.inflight.length > 0 && this.inflight[0]?.done === true) {
      upTo = (this.inflight.shift() as InflightEntry).seq;
      n++;
    }
    if (n === 0) return;
    // Every seq <= upTo was sent in order in this session and is acknowledged (or already gone):
    // a range delete is exact and far cheaper than one delete per row.
    try {
      this.outbox.ack({ upTo });
    } catch (err) {
      this.log.error('uplink could not delete acknowledged events (they will be sent again)', { error: errorText(err) });
    }
    if (this.replay.active) {
      this.replay.acked = Math.min(this.replay.backlogAtStart, this.replay.acked + n);
      // Entries of the backlog may also leave by eviction or expiry: caught up and nothing in
      // flight means the backlog is gone either way.
      if (upTo >= this.replay.untilSeq || (this.idle && this.inflight.length === 0)) this.finishReplay();
    }
  }

  private finishReplay(): void {
    this.replay.active = false;
    this.replay.finishedAt = Date.now();
    this.log.info('uplink backlog replayed', {
      events: this.replay.backlogAtStart,
      ms: this.replay.finishedAt - (this.replay.startedAt ?? this.replay.finishedAt),
    });
  }

  private expire(): void {
    try {
      const n = this.outbox.expire();
      if (n > 0) this.log.warn('uplink dropped events older than maxAgeMs', { count: n, maxAgeMs: this.config.buffer.maxAgeMs });
    } catch (err) {
      this.log.error('uplink expire failed', { error: errorText(err) });
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private setState(state: UplinkState, lastError: string | null): void {
    const changed = state !== this.link.state;
    this.link.lastError = lastError;
    if (!changed) return;
    this.link.state = state;
    this.link.since = Date.now();
    this.publishLocal(UplinkUri.onState, [{ state, since: this.link.since, lastError, url: this.config.url, remoteSession: this.link.remoteSession }]);
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.add(t);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        this.wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}
