// The outbox side of the uplink: accepts upward events (appended on the next turn of the event
// loop, one transaction per turn), sends them to the cloud in seq order within the in-flight
// window and the replay rate, deletes them once PUBLISHED came back, and moves an entry that
// cannot be delivered (poison, judged by PoisonGuard) to the dead letters after a bounded number of attempts so the
// entries behind it keep flowing. It does not connect, match rules or rewrite URIs: it is handed
// a remote session while the link is online.

import type { WampClient } from '../client/wamp-client';
import { WampError, errorText } from '../client/wamp-error';
import { ErrorUri } from '../protocol/error-uris';
import type { Logger } from '../util/logger';
import { LiveLane } from './live-lane';
import { PoisonGuard } from './poison';
import type { DeadLetterReason, NewEntry, Outbox, OutboxEntry } from './outbox';
import type { ResolvedUplinkConfig } from './uplink-config';

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

export interface ForwarderCounters {
  /** Local events accepted into the buffer, per the whole process life. */
  accepted: number;
  /** Local events the buffer refused (limits, disk full): also in outbox.drops. */
  refused: number;
  /** Publications the cloud acknowledged. */
  publishedUp: number;
  /** Publication attempts the cloud answered with ERROR (not authorized, invalid URI): retried, then dead letters. */
  rejectedUp: number;
  /** Publication attempts that could not be sent at all (over the cloud's limit, not encodable). */
  unsendable: number;
}

interface InflightEntry {
  seq: number;
  done: boolean;
  /** Sent by the live lane (ahead of older entries): acked by seq, not by range. */
  live: boolean;
}

export type ForwarderBuffer = ResolvedUplinkConfig['buffer'];

export interface ForwarderOptions {
  /** Whether the link's serializer can encode this entry: tells `not-encodable` from `too-large`. */
  encodable(row: OutboxEntry): boolean;
}

export class Forwarder {
  private stopping = false;
  /** The remote session while the link is online; publications go only through it. */
  private client: WampClient | undefined;
  /** Events received from the local realm, appended on the next turn of the event loop in one transaction. */
  private pendingAppends: NewEntry[] = [];
  /** Parallel to pendingAppends: whether the entry's rule is `order: live-first`. */
  private pendingLive: boolean[] = [];
  private readonly live: LiveLane;
  private appendScheduled = false;
  /** Sent and not yet deleted from the outbox, in send order. Its length is bounded by inflightWindow. */
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
  private expireTimer: NodeJS.Timeout | undefined;
  private readonly replay: ReplayProgress;
  private readonly counters: ForwarderCounters = { accepted: 0, refused: 0, publishedUp: 0, rejectedUp: 0, unsendable: 0 };
  private readonly poison: PoisonGuard;

  constructor(
    private readonly buffer: ForwarderBuffer,
    private readonly outbox: Outbox,
    private readonly log: Logger,
    private readonly options: ForwarderOptions = { encodable: () => true },
  ) {
    // A few windows of live events wait in memory; beyond that they wait in the outbox (in order).
    this.poison = new PoisonGuard(outbox, buffer.maxAttempts, log);
    this.live = new LiveLane(Math.max(buffer.maxBatch, buffer.inflightWindow * 10));
    this.replay = {
      active: false,
      backlogAtStart: 0,
      acked: 0,
      untilSeq: 0,
      startedAt: null,
      finishedAt: null,
      ratePerSecond: buffer.replayRatePerSecond,
    };
  }

  /** Starts expiring entries older than maxAgeMs (when set). */
  start(): void {
    if (this.buffer.maxAgeMs > 0) {
      this.expireTimer = setInterval(() => this.expire(), this.buffer.expireIntervalMs);
      this.expireTimer.unref();
    }
  }

  /** Stops sending; events already received are appended (they were delivered to us, so they count as accepted). */
  stop(): void {
    this.stopping = true;
    clearInterval(this.expireTimer);
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.flushAppends();
    this.flushAcks();
  }

  /** One upward event, already rewritten to its cloud topic; `liveFirst` per its rule's `order`. */
  accept(entry: NewEntry, liveFirst = false): void {
    this.pendingAppends.push(entry);
    this.pendingLive.push(liveFirst);
    if (this.pendingAppends.length >= this.buffer.maxBatch) this.flushAppends();
    else if (!this.appendScheduled) {
      this.appendScheduled = true;
      // Everything that arrives in one turn of the event loop shares one transaction (one fsync).
      setImmediate(() => this.flushAppends());
    }
  }

  /** A new remote session is online: replay the backlog, then live traffic, from the oldest entry. */
  online(client: WampClient): void {
    this.client = client;
    this.generation++;
    this.inflight = [];
    this.cursor = 0;
    this.idle = false;
    this.live.reset();
    this.beginReplay();
    this.pump();
  }

  /** The remote session closed: acks that arrived are kept; everything else in flight goes again later. */
  offline(reason = ''): void {
    this.flushAcks();
    // Only closes by the cloud can point at an entry; our own stop says nothing about one.
    if (!this.stopping) this.poison.cloudClosed(reason, this.inflight.find((e) => !e.done)?.seq);
    this.poison.sessionEnded();
    this.client = undefined;
    this.generation++;
    this.inflight = [];
    this.cursor = 0;
    this.live.reset();
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.rateTimer = undefined;
  }

  get inflightCount(): number {
    return this.inflight.length;
  }

  /** Entries came back into the outbox outside append (dead letters retried): look again. */
  wake(): void {
    this.idle = false;
    this.pump();
  }

  replayProgress(): ReplayProgress {
    return { ...this.replay };
  }

  counterValues(): ForwarderCounters {
    return { ...this.counters };
  }

  private flushAppends(): void {
    this.appendScheduled = false;
    if (this.pendingAppends.length === 0) return;
    const batch = this.pendingAppends;
    const liveFlags = this.pendingLive;
    this.pendingAppends = [];
    this.pendingLive = [];
    let stored = 0;
    // Only while online and behind: caught up, the replay path sends them at once anyway.
    const offerLive = this.client !== undefined && !this.idle;
    const live: OutboxEntry[] = [];
    try {
      this.outbox.appendBatch(batch).forEach((r, i) => {
        if (!r.stored) return;
        stored++;
        const e = batch[i] as NewEntry;
        if (offerLive && liveFlags[i] === true) live.push({ ...e, seq: r.seq, priority: e.priority ?? 0, bytes: 0, enqueuedAt: Date.now() } as OutboxEntry);
      });
      this.live.offer(live);
    } catch (err) {
      // appendBatch never throws for storage trouble; this is a closed outbox or a bug.
      this.log.error('uplink could not buffer events', { count: batch.length, error: errorText(err) });
    }
    this.counters.accepted += stored;
    this.counters.refused += batch.length - stored;
    this.idle = false;
    this.pump();
  }

  private beginReplay(): void {
    const s = this.outbox.stats();
    this.replay.backlogAtStart = s.count;
    this.replay.acked = 0;
    this.replay.untilSeq = s.nextSeq - 1;
    this.replay.active = s.count > 0;
    this.replay.startedAt = Date.now();
    this.replay.finishedAt = s.count > 0 ? null : this.replay.startedAt;
    this.tokens = Math.min(this.burst(), this.buffer.replayRatePerSecond || Infinity);
    this.tokensAt = Date.now();
  }

  private burst(): number {
    const rate = this.buffer.replayRatePerSecond;
    return rate > 0 ? Math.max(1, Math.min(this.buffer.inflightWindow, Math.ceil(rate / 10))) : Infinity;
  }

  /** Sends what the window and the replay rate allow, lowest seq first. */
  private pump(): void {
    const client = this.client;
    if (!client || this.stopping || this.idle) return;
    const window = this.buffer.inflightWindow;
    const rate = this.buffer.replayRatePerSecond;
    // A suspect goes alone until the cloud acknowledged it (see PoisonGuard).
    const limit = this.poison.window(window);
    while (this.inflight.length < limit) {
      // Live entries first: they are newer than anything the replay path has left to send.
      if (this.live.queued > 0) {
        const generation = this.generation;
        for (const row of this.live.take(limit - this.inflight.length, this.cursor)) {
          const entry: InflightEntry = { seq: row.seq, done: false, live: true };
          this.inflight.push(entry);
          this.send(client, generation, entry, row);
        }
        if (this.inflight.length >= limit) return;
      }
      let room = limit - this.inflight.length;
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
      if (this.inflight.length === 0 && this.poison.clearIfGone(rows[0]?.seq)) continue;
      if (rows.length === 0) {
        this.idle = true;
        // The rest of the backlog left by eviction or expiry before it was sent.
        if (this.replay.active && this.inflight.length === 0) this.finishReplay();
        return;
      }
      const generation = this.generation;
      for (const row of rows) {
        this.cursor = row.seq;
        if (this.live.sent(row.seq)) continue; // already on its way in the live lane
        const entry: InflightEntry = { seq: row.seq, done: false, live: false };
        this.inflight.push(entry);
        if (limited) this.tokens--;
        this.send(client, generation, entry, row);
      }
      if (rows.length < room) {
        this.idle = true;
        return;
      }
    }
  }

  private send(client: WampClient, generation: number, entry: InflightEntry, row: OutboxEntry): void {
    client.publish(row.topic, row.args, row.kwargs, { ...row.options, acknowledge: true, exclude_me: true }).then(
      () => {
        if (generation !== this.generation) return;
        entry.done = true;
        this.poison.delivered(row.seq);
        this.counters.publishedUp++;
        this.scheduleAcks();
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        // The session closing rejects with canceled: the entry stays and goes again later.
        if (!(err instanceof WampError) || err.error === ErrorUri.canceled) return;
        const unsendable = err.error === ErrorUri.notSendable;
        if (unsendable) this.counters.unsendable++;
        else this.counters.rejectedUp++;
        const reason: DeadLetterReason = !unsendable ? 'refused' : this.options.encodable(row) ? 'too-large' : 'not-encodable';
        if (this.poison.failed(row, reason, errorText(err), !client.closed)) {
          // Bounded retry in the same window slot: the entries behind it are already on their way,
          // and nothing is deleted past it until it is settled one way or the other.
          this.send(client, generation, entry, row);
          return;
        }
        entry.done = true;
        this.scheduleAcks();
      },
    );
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

  /**
   * Deletes what is settled; only then are window slots freed. The replay path's entries go by
   * their acknowledged head (one range delete: everything up to it was sent in order and is
   * settled, unless the live lane still has one of its own there); live entries go by seq.
   */
  private flushAcks(): void {
    const keep: InflightEntry[] = [];
    const liveDone: number[] = [];
    const ordered: number[] = [];
    let blocked = false;
    for (const e of this.inflight) {
      if (e.live) {
        if (e.done) liveDone.push(e.seq);
        else keep.push(e);
      } else if (!blocked && e.done) ordered.push(e.seq);
      else {
        blocked = true;
        keep.push(e);
      }
    }
    if (liveDone.length === 0 && ordered.length === 0) return;
    this.inflight = keep;
    const upTo = ordered[ordered.length - 1] ?? 0;
    try {
      if (liveDone.length > 0) this.outbox.ack(liveDone);
      for (const seq of liveDone) this.live.settled(seq);
      if (ordered.length > 0) this.outbox.ack(this.live.unsettledUpTo(upTo) ? ordered : { upTo });
    } catch (err) {
      this.log.error('uplink could not delete acknowledged events (they will be sent again)', { error: errorText(err) });
    }
    if (this.replay.active) {
      const n = ordered.filter((seq) => seq <= this.replay.untilSeq).length;
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
      if (n > 0) this.log.warn('uplink dropped events older than maxAgeMs', { count: n, maxAgeMs: this.buffer.maxAgeMs });
    } catch (err) {
      this.log.error('uplink expire failed', { error: errorText(err) });
    }
  }
}
