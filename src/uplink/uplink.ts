// The uplink: joins the gateway's realm through a SessionKeeper, applies the forwarding rules
// between that local session and the cloud (events up into the Forwarder, events down, calls both
// ways), and offers the link's state as events and a procedure. Connecting is RemoteLink's job,
// buffering and replay the Forwarder's; config parsing and storage files are not in here.

import { SessionKeeper, type SessionKeeperOptions } from '../client/session-keeper';
import { Result, type CallResult, type InvocationHandler, type WampClient } from '../client/wamp-client';
import { WampError } from '../client/wamp-error';
import { ErrorUri } from '../protocol/error-uris';
import { MessageType } from '../protocol/message-types';
import type { Dict } from '../protocol/messages';
import { toWire } from '../protocol/codec';
import type { Peer } from '../protocol/peer';
import { serializerByName } from '../serializers';
import { quietLogger, type Logger } from '../util/logger';
import { buildClientAuth } from './client-auth';
import { registerAtCloud } from './cloud-registration';
import type { CloudServices } from '../cloud-services';
import { CloudOffer } from './cloud-offer';
import { Forwarder, type ForwarderCounters, type ReplayProgress } from './forwarder';
import type { NewEntry, Outbox, OutboxStats } from './outbox';
import { RemoteLink, type LinkState, type UplinkState } from './remote-link';
import type { ResolvedRule, ResolvedUplinkConfig } from './uplink-config';
import { rewriteUri } from './uri-rewrite';

export { UplinkStates, type LinkState, type UplinkState } from './remote-link';
export type { ReplayProgress } from './forwarder';

/** URIs the uplink offers on the local realm. */
export const UplinkUri = {
  status: 'wampgate.uplink.status',
  /** List dead letters: kwargs { limit (default 100), after (seq) } -> { deadLetters, count }. */
  deadLetters: 'wampgate.uplink.dead_letters',
  /** Re-queue dead letters: args [seqs] or none for all -> { requeued }. */
  retryDeadLetters: 'wampgate.uplink.retry_dead_letters',
  /** Delete dead letters: args [seqs], or kwargs { all: true } -> { purged }. */
  purgeDeadLetters: 'wampgate.uplink.purge_dead_letters',
  onState: 'wampgate.uplink.on_state',
  onStats: 'wampgate.uplink.on_stats',
} as const;

export const UPLINK_AUTHID = 'wampgate.uplink';

export interface UplinkCounters extends ForwarderCounters {
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
  router: SessionKeeperOptions['router'];
  outbox: Outbox;
  logger?: Logger;
  /** Test seam: how the transport to the cloud is opened. */
  connect?: () => Promise<Peer>;
  /** Test seam for backoff jitter. */
  random?: () => number;
  /** Procedures and events other parts offer the cloud (the admin part); carried on each cloud session. */
  cloud?: CloudServices;
}

/** Exact is the default: leave the option out, some routers are strict about options they do not need. */
const matchOption = (rule: ResolvedRule): Dict => (rule.match === 'exact' ? {} : { match: rule.match });

type ForwardOptions = Dict & { onProgress?: (r: CallResult) => void; signal?: AbortSignal };

function forwardCallOptions(details: Parameters<InvocationHandler>[2]): ForwardOptions {
  const options: ForwardOptions = { signal: details.signal };
  const progress = details.progress;
  if (progress) options.onProgress = (r) => progress(r.args, r.kwargs);
  return options;
}

export class Uplink {
  private readonly log: Logger;
  private readonly outbox: Outbox;
  private readonly keeper: SessionKeeper;
  private readonly remote: RemoteLink;
  private readonly forwarder: Forwarder;
  private stopping = false;
  private statsTimer: NodeJS.Timeout | undefined;
  private readonly counters = { eventsDown: 0, callsUp: 0, callsDown: 0, offlineCalls: 0 };
  private readonly offer: CloudOffer | undefined;

  constructor(
    readonly config: ResolvedUplinkConfig,
    deps: UplinkDeps,
  ) {
    this.log = (deps.logger ?? quietLogger).child('uplink');
    this.outbox = deps.outbox;
    this.offer = deps.cloud ? new CloudOffer(deps.cloud, this.log) : undefined;
    const serializer = serializerByName(config.serializer);
    this.forwarder = new Forwarder(config.buffer, deps.outbox, this.log, {
      // Only asked after a send failed: was it the size, or the payload itself?
      encodable: (row) => {
        try {
          serializer?.encode(
            toWire({
              type: MessageType.PUBLISH,
              request: 1 as never,
              options: {},
              topic: row.topic,
              ...(row.args ? { args: row.args } : {}),
              ...(row.kwargs ? { kwargs: row.kwargs } : {}),
            }),
          );
          return true;
        } catch {
          return false;
        }
      },
    });
    this.remote = new RemoteLink(
      config,
      {
        restore: (client) => this.restoreRemote(client),
        online: (client) => this.remoteOnline(client),
        offline: (reason) => this.remoteOffline(reason),
        stateChanged: (link) =>
          this.publishLocal(UplinkUri.onState, [
            { state: link.state, since: link.since, lastError: link.lastError, url: config.url, remoteSession: link.remoteSession },
          ]),
      },
      { logger: this.log, connect: deps.connect, random: deps.random },
    );
    // The router killed our session (meta API) or a bug closed it: the keeper rejoins, or upward events stop.
    this.keeper = new SessionKeeper({
      name: 'uplink',
      realm: config.localRealm,
      identity: { authid: UPLINK_AUTHID, authrole: config.localAuthrole },
      router: deps.router,
      setup: (local) => this.setupLocal(local),
      logger: this.log,
    });
  }

  /** Joins the local realm (subscriptions and registrations in place before it returns), then links up in the background. */
  async start(): Promise<void> {
    // Fail start on a bad secret instead of retrying a doomed link forever.
    buildClientAuth(this.config.auth);
    await this.keeper.start();
    this.remote.start();
    this.forwarder.start();
    if (this.config.statsIntervalMs > 0) {
      this.statsTimer = setInterval(() => this.publishLocal(UplinkUri.onStats, [this.status()]), this.config.statsIntervalMs);
      this.statsTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.statsTimer);
    this.forwarder.stop();
    this.offer?.stop();
    await this.remote.stop();
    await this.keeper.stop(ErrorUri.closeNormal);
    this.outbox.close();
  }

  status(): UplinkStatus {
    return {
      ...this.remote.snapshot(),
      gatewayId: this.config.gatewayId,
      inflight: this.forwarder.inflightCount,
      outbox: this.outbox.stats(),
      replay: this.forwarder.replayProgress(),
      counters: { ...this.forwarder.counterValues(), ...this.counters },
    };
  }

  get state(): UplinkState {
    return this.remote.state;
  }

  // ---- local side ------------------------------------------------------------------------------

  /** Runs on every local join: the status procedure and the local half of every rule. */
  private async setupLocal(local: WampClient): Promise<void> {
    await local.register(UplinkUri.status, () => this.status());
    await local.register(UplinkUri.deadLetters, (_args, kwargs) => {
      const limit = kwargs.limit === undefined ? 100 : kwargs.limit;
      const after = kwargs.after === undefined ? 0 : kwargs.after;
      if (!Number.isSafeInteger(limit) || (limit as number) < 1 || !Number.isSafeInteger(after))
        throw new WampError(ErrorUri.invalidArgument, ['kwargs limit (a positive integer) and after (a seq) are optional integers']);
      return new Result([], { deadLetters: this.outbox.deadLetters(limit as number, after as number), count: this.outbox.stats().deadLetters.count });
    });
    await local.register(UplinkUri.retryDeadLetters, (args) => {
      const requeued = this.outbox.retryDeadLetters(seqsArgument(args, false));
      if (requeued > 0) this.log.info('uplink dead letters re-queued', { count: requeued });
      this.forwarder.wake();
      return new Result([], { requeued });
    });
    await local.register(UplinkUri.purgeDeadLetters, (args, kwargs) => {
      const seqs = seqsArgument(args, kwargs.all === true);
      const purged = this.outbox.purgeDeadLetters(seqs);
      if (purged > 0) this.log.info('uplink dead letters purged', { count: purged });
      return new Result([], { purged });
    });
    for (const rule of this.config.forward) {
      const match = matchOption(rule);
      if (rule.direction === 'up' && rule.type === 'event') {
        await local.subscribe(rule.local, (args, kwargs, details) => this.onLocalEvent(rule, args, kwargs, details), match);
      } else if (rule.direction === 'down' && rule.type === 'procedure') {
        await local.register(rule.local, this.downwardCall(rule), match);
      }
    }
  }

  private onLocalEvent(rule: ResolvedRule, args: unknown[], kwargs: Dict, details: Dict): void {
    // exclude_me keeps our own downward publications away; this catches a router that ignores it.
    if (details.publisher !== undefined && details.publisher === this.keeper.session?.sessionId) return;
    const topic = typeof details.topic === 'string' ? details.topic : rule.local;
    const remoteTopic = rewriteUri({ from: rule.local, to: rule.remote, match: rule.match }, topic);
    if (remoteTopic === null) return;
    const entry: NewEntry = { source: rule.name, topic: remoteTopic, priority: rule.priority, dropPolicy: rule.dropPolicy };
    if (args.length > 0) entry.args = args;
    if (Object.keys(kwargs).length > 0) entry.kwargs = kwargs;
    this.forwarder.accept(entry, rule.order === 'live-first');
  }

  private downwardCall(rule: ResolvedRule): InvocationHandler {
    return async (args, kwargs, details) => {
      const procedure = typeof details.procedure === 'string' ? details.procedure : rule.local;
      const remoteProcedure = rewriteUri({ from: rule.local, to: rule.remote, match: rule.match }, procedure);
      if (remoteProcedure === null) throw new WampError(ErrorUri.noSuchProcedure, [`${procedure} is outside uplink rule ${rule.name}`]);
      const client = await this.remote.waitOnline(rule.offlineCallTimeoutMs, details.signal);
      if (!client) {
        this.counters.offlineCalls++;
        const link = this.remote.snapshot();
        throw new WampError(ErrorUri.uplinkOffline, [`the uplink to ${this.config.url} is ${link.state}`], {
          state: link.state,
          since: link.since,
          lastError: link.lastError,
        });
      }
      this.counters.callsDown++;
      try {
        const r = await client.call(remoteProcedure, args, kwargs, forwardCallOptions(details));
        return new Result(r.args, r.kwargs);
      } catch (err) {
        if (err instanceof WampError && err.error === ErrorUri.canceled && client.closed && !details.signal.aborted) {
          throw new WampError(ErrorUri.uplinkOffline, [`the uplink to ${this.config.url} went down during the call; it may or may not have run`]);
        }
        throw err;
      }
    };
  }

  private publishLocal(topic: string, args: unknown[], kwargs?: Dict): void {
    const local = this.keeper.session;
    if (!local) return;
    local.publish(topic, args, kwargs, { exclude_me: true }).catch(() => undefined);
  }

  // ---- remote side -----------------------------------------------------------------------------

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
    if (this.offer) work.push(this.offer.restore(client));
    await Promise.all(work);
  }

  private remoteOnline(client: WampClient): void {
    this.forwarder.online(client);
    this.offer?.online(client);
    this.log.info('uplink online', {
      url: this.config.url,
      realm: this.config.realm,
      session: client.sessionId,
      backlog: this.forwarder.replayProgress().backlogAtStart,
    });
  }

  private remoteOffline(reason: string): void {
    this.forwarder.offline(reason);
    this.offer?.offline();
    if (this.stopping) return;
    this.log.warn('uplink offline', { url: this.config.url, reason, buffered: this.outbox.stats().count });
  }

  private async registerUpward(client: WampClient, rule: ResolvedRule): Promise<void> {
    const handler: InvocationHandler = async (args, kwargs, details) => {
      const procedure = typeof details.procedure === 'string' ? details.procedure : rule.remote;
      const localProcedure = rewriteUri({ from: rule.remote, to: rule.local, match: rule.match }, procedure);
      if (localProcedure === null) throw new WampError(ErrorUri.noSuchProcedure, [`${procedure} is outside uplink rule ${rule.name}`]);
      const local = this.keeper.session;
      if (!local) throw new WampError(ErrorUri.unavailable, ['the gateway is not serving its local realm']);
      this.counters.callsUp++;
      try {
        const r = await local.call(localProcedure, args, kwargs, forwardCallOptions(details));
        return new Result(r.args, r.kwargs);
      } catch (err) {
        throw cloudSafeError(err, procedure);
      }
    };
    await registerAtCloud(
      client,
      { procedure: rule.remote, handler, options: matchOption(rule), rule: rule.name },
      { log: this.log, stopping: () => this.stopping },
    );
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
}

/** Seqs from a procedure's args[0]: an array of integers; undefined (= all) only where allowed. */
function seqsArgument(args: unknown[], allowAll: boolean): number[] | undefined {
  const v = args[0];
  if (v === undefined) {
    if (allowAll) return undefined;
    throw new WampError(ErrorUri.invalidArgument, ['give the seqs as args[0] (an array of integers), or kwargs { all: true }']);
  }
  if (!Array.isArray(v) || !v.every((n) => Number.isSafeInteger(n)))
    throw new WampError(ErrorUri.invalidArgument, ['args[0] must be an array of seqs (integers)']);
  return v as number[];
}

/**
 * Errors the gateway's router raised for an upward call name the local procedure (its message
 * says which URI had no callee, was not authorized …). The cloud caller gets the same error URI
 * with a message about the procedure it called, never the gateway's local URIs. Errors a device
 * raised itself are its own answer and pass unchanged.
 */
const routerErrors = new Set<string>([
  ErrorUri.noSuchProcedure,
  ErrorUri.notAuthorized,
  ErrorUri.invalidUri,
  ErrorUri.noEligibleCallee,
  ErrorUri.optionNotAllowed,
  ErrorUri.payloadSizeExceeded,
  ErrorUri.limitExceeded,
  ErrorUri.notSendable,
  ErrorUri.timeout,
  ErrorUri.unavailable,
]);

function cloudSafeError(err: unknown, remoteProcedure: string): WampError {
  if (err instanceof WampError && !routerErrors.has(err.error)) return err;
  const uri = err instanceof WampError ? err.error : ErrorUri.unavailable;
  const text: Record<string, string> = {
    [ErrorUri.noSuchProcedure]: `no device procedure behind ${remoteProcedure} on this gateway`,
    [ErrorUri.notAuthorized]: `the gateway does not allow calling ${remoteProcedure}`,
  };
  return new WampError(uri, [text[uri] ?? `${remoteProcedure} failed at the gateway (${uri})`]);
}
