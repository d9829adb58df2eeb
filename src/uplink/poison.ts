// Poison entries: an upward event the cloud will not take must not block the ones behind it.
// Owns the bounded retry count of each entry in flight, the "suspect" (the oldest unacknowledged
// entry when the cloud ended a session, sent alone until it is cleared or proven guilty), and the
// move to the dead letters, logged once per reason. The forwarder asks it; it sends nothing.

import { errorText } from '../client/wamp-error';
import type { Logger } from '../util/logger';
import type { DeadLetterReason, Outbox, OutboxEntry } from './outbox';

/** A close the gateway detected itself says nothing about what was being sent. */
const LOCAL_CLOSE = /keepalive timeout|uplink stopping|goodbye/;

export class PoisonGuard {
  /** seq -> failed attempts of an entry in flight (ERROR or not sendable): bounded by maxAttempts. */
  private readonly attempts = new Map<number, number>();
  /**
   * The oldest unacknowledged entry when the cloud ended the last session(s), and how many sessions
   * in a row ended with it there. While set, it is sent alone first: if the cloud closes on it
   * again, it is the cause (a message the cloud refuses by closing, like WebSocket 1009).
   */
  private suspect: { seq: number; strikes: number } | undefined;
  /** Dead-letter reasons already logged: one WARN line per reason, the rest are counted. */
  private readonly loggedReasons = new Set<DeadLetterReason>();

  constructor(
    private readonly outbox: Outbox,
    private readonly maxAttempts: number,
    private readonly log: Logger,
  ) {}

  /** How many entries may be in flight: one while a suspect is being tried alone. */
  window(window: number): number {
    return this.suspect ? 1 : window;
  }

  /** The next entry to send is `nextSeq` and nothing is in flight: a suspect that left the buffer another way (evicted, expired, acked late) is no longer isolated. Returns true if it was cleared. */
  clearIfGone(nextSeq: number | undefined): boolean {
    if (!this.suspect || (nextSeq ?? Infinity) <= this.suspect.seq) return false;
    this.suspect = undefined;
    return true;
  }

  /** The cloud acknowledged `seq`. */
  delivered(seq: number): void {
    this.attempts.delete(seq);
    if (this.suspect?.seq === seq) this.suspect = undefined;
  }

  /**
   * The cloud answered `row` with an error (or it could not be sent). Returns true when it may be
   * tried again in the same window slot; otherwise it has been moved to the dead letters.
   */
  failed(row: OutboxEntry, reason: DeadLetterReason, error: string, canRetry: boolean): boolean {
    const attempts = (this.attempts.get(row.seq) ?? 0) + 1;
    if (attempts < this.maxAttempts && canRetry) {
      this.attempts.set(row.seq, attempts);
      return true;
    }
    this.attempts.delete(row.seq);
    this.bury(row, reason, error, attempts);
    return false;
  }

  /** A remote session ended: attempt counts are per session. */
  sessionEnded(): void {
    this.attempts.clear();
  }

  /**
   * After a session the cloud ended: the oldest entry it had not acknowledged (`headSeq`) is the
   * suspect. The cloud answers in order, so everything before it was processed; if it is the
   * oldest again when the next sessions end (sent alone), it is what the cloud closes on.
   */
  cloudClosed(reason: string, headSeq: number | undefined): void {
    if (LOCAL_CLOSE.test(reason)) return;
    // A session that ended before sending anything says nothing about any entry.
    if (headSeq === undefined) return;
    this.suspect = this.suspect?.seq === headSeq ? { seq: headSeq, strikes: this.suspect.strikes + 1 } : { seq: headSeq, strikes: 1 };
    if (this.suspect.strikes < this.maxAttempts) return;
    const [row] = this.outbox.peek(1, headSeq - 1);
    const strikes = this.suspect.strikes;
    this.suspect = undefined;
    if (row?.seq !== headSeq) return;
    // WebSocket 1009 "message too big"; other closes name no cause.
    this.bury(row, /\b1009\b|too big|too large/i.test(reason) ? 'too-large' : 'link-closed', `the cloud closed the link: ${reason}`, strikes);
  }

  /** Moves one entry to the dead letters: counted by reason (outbox stats), logged once per reason. */
  private bury(row: OutboxEntry, reason: DeadLetterReason, error: string, attempts: number): void {
    if (this.suspect?.seq === row.seq) this.suspect = undefined;
    let moved = false;
    try {
      moved = this.outbox.deadLetter(row.seq, { reason, error, attempts });
    } catch (err) {
      this.log.error('uplink could not move an entry to the dead letters (bug)', { seq: row.seq, error: errorText(err) });
    }
    if (!moved) return;
    if (this.loggedReasons.has(reason)) return;
    this.loggedReasons.add(reason);
    this.log.warn('uplink moved an event it cannot deliver to the dead letters; forwarding goes on (list, retry or purge with wampgate.uplink.dead_letters*)', {
      reason,
      error,
      attempts,
      seq: row.seq,
      topic: row.topic,
      source: row.source,
      bytes: row.bytes,
      note: 'logged once per reason; see outbox.deadLetters in wampgate.uplink.status',
    });
  }
}
