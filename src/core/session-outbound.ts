// What one session sends, under the outbound queue policy (DESIGN §3): a slow subscriber's
// EVENTs are dropped (or it is disconnected, by policy), any message beyond the hard limit closes
// the connection instead, and a message that cannot cross the transport is counted and said once.

import { MessageType, messageTypeName } from '../protocol/message-types';
import type { Dict, Message } from '../protocol/messages';
import type { RequestId } from '../protocol/ids';
import type { Peer, PeerRefusal } from '../protocol/peer';
import type { Logger, RateLimitedLog } from '../util/logger';
import type { SessionLimits } from './limits';
import type { RouterStats } from './stats';

/** `too-large`: the message cannot cross this session's transport (see Peer.send).
 * `not-representable`: its payload has no exact form in this session's serializer; the words
 * for the sender's ERROR are in `Session.lastRefusal`. */
export type SendResult = 'sent' | 'queued' | 'dropped' | 'closed' | 'too-large' | 'not-representable';

/** What the outbound side needs from the router. */
export interface OutboundHost {
  /** For events an outsider can repeat at will (timeouts, violations, denials): rate-limited. */
  readonly floodLog: RateLimitedLog;
  readonly limits: SessionLimits;
  readonly stats: RouterStats;
}

/** The sizes of a message that did not fit its receiver's announced maximum length. */
export interface TooLarge {
  /** Both undefined when the transport refused it without saying its sizes. */
  bytes: number | undefined;
  limit: number | undefined;
}

export class SessionOutbound {
  messagesOut = 0;
  eventsDropped = 0;
  /** Why the last send returned `not-representable` (read right after the send: routing is synchronous). */
  lastRefusal = '';
  /** The sizes behind the last `too-large` (read the same way). */
  lastTooLarge: TooLarge | undefined;
  /** One WARN per session for undeliverable EVENTs; the counters keep counting every one. */
  private warnedUnrepresentableEvent = false;
  private warnedUnrepresentableCall = false;
  private warnedTooLargeEvent = false;

  constructor(
    private readonly peer: Peer,
    private readonly host: OutboundHost,
    private readonly log: Logger,
    private readonly logFields: () => Record<string, unknown>,
  ) {}

  /** Sends any message. Never throws. RESULT, INVOCATION etc. are never dropped: beyond the
   * hard limit the connection is closed instead (bounded memory, nothing silently lost). */
  send(msg: Message): SendResult {
    if (this.peer.closed) return 'closed';
    if (this.peer.bufferedBytes() > this.host.limits.hardQueueBytes) {
      return this.closeSlowConsumer('outbound queue over hard limit, closing', this.host.limits.hardQueueBytes, 'outbound queue over hard limit');
    }
    const sent = this.peer.send(msg);
    if (sent !== true) return this.refused(msg, sent);
    this.countOut(msg);
    return this.peer.bufferedBytes() > 0 ? 'queued' : 'sent';
  }

  /** Sends an EVENT, applying the slow-consumer policy (DESIGN §3). The common case stays this
   * short on purpose: it runs once per subscriber per publication, and V8 inlines a function
   * this small into the broker's fan-out loop; the rare outcomes live in their own methods. */
  sendEvent(msg: Message): SendResult {
    if (this.peer.closed) return 'closed';
    if (this.peer.bufferedBytes() > this.host.limits.maxQueueBytes) return this.overQueue();
    const sent = this.peer.send(msg);
    if (sent !== true) return this.refusedEvent(msg, sent);
    this.countOut(msg);
    return 'sent';
  }

  /** A message other than an EVENT the transport would not take (see Peer.send). */
  private refused(msg: Message, sent: false | PeerRefusal): SendResult {
    if (sent === false || sent.reason === 'too-large') {
      // The caller gets ERROR wamp.error.payload_size_exceeded from the dealer (the callee is
      // never invoked); other messages have no one to answer: counted and logged.
      const over = this.tooLarge(msg, sent);
      this.host.floodLog.warn('too_large_for_receiver', 'message not sent: over the maximum message length this session announced', {
        ...this.logFields(),
        type: messageTypeName(msg.type),
        bytes: over.bytes,
        limit: over.limit,
      });
      return 'too-large';
    }
    this.lastRefusal = sent.message;
    this.host.stats.countUnrepresentable(msg.type);
    // The caller gets ERROR wamp.error.invalid_payload; the log says it once per session.
    if (!this.warnedUnrepresentableCall) {
      this.warnedUnrepresentableCall = true;
      this.log.warn(
        'message not delivered: its payload cannot be represented for this session (the caller got wamp.error.invalid_payload; further ones only counted)',
        {
          ...this.logFields(),
          serializer: this.peer.transport.serializer,
          type: msg.type,
          reason: sent.message,
        },
      );
    }
    return 'not-representable';
  }

  /** An EVENT for a subscriber whose queue is over maxQueueBytes: dropped, or by policy the
   * subscriber is disconnected. */
  private overQueue(): SendResult {
    if (this.host.limits.slowConsumerPolicy === 'disconnect') {
      return this.closeSlowConsumer('slow consumer disconnected', this.host.limits.maxQueueBytes, 'slow consumer');
    }
    this.eventsDropped++;
    this.host.stats.eventsDroppedSlowConsumer++;
    return 'dropped';
  }

  /** An EVENT the transport would not take: dropped for this subscriber only (the publication
   * stands for the others), counted every time, said once per session. */
  private refusedEvent(msg: Message, sent: false | PeerRefusal): SendResult {
    this.eventsDropped++;
    if (sent === false || sent.reason === 'too-large') {
      const over = this.tooLarge(msg, sent);
      if (!this.warnedTooLargeEvent) {
        this.warnedTooLargeEvent = true;
        this.log.warn('event dropped: over the maximum message length this subscriber announced (further ones only counted)', {
          ...this.logFields(),
          subscription: (msg as { subscription?: number }).subscription,
          bytes: over.bytes,
          limit: over.limit,
        });
      }
      return 'dropped';
    }
    // No ERROR can reach a publisher for one subscriber's EVENT (the publication succeeded
    // for the others): counted by reason, and said once per session at WARN.
    this.host.stats.countUnrepresentable(msg.type);
    if (!this.warnedUnrepresentableEvent) {
      this.warnedUnrepresentableEvent = true;
      this.log.warn('event dropped: its payload cannot be represented for this subscriber (further ones only counted)', {
        ...this.logFields(),
        serializer: this.peer.transport.serializer,
        subscription: (msg as { subscription?: number }).subscription,
        reason: sent.message,
      });
    }
    return 'dropped';
  }

  private tooLarge(msg: Message, sent: false | { reason: 'too-large'; bytes: number; limit: number }): TooLarge {
    this.host.stats.countTooLarge(msg.type);
    this.lastTooLarge = sent === false ? { bytes: undefined, limit: this.peer.sendLimit } : { bytes: sent.bytes, limit: sent.limit };
    return this.lastTooLarge;
  }

  sendError(requestType: number, request: RequestId, error: string, args?: unknown[], kwargs?: Dict, details: Dict = {}): void {
    const msg: Message = { type: MessageType.ERROR, requestType, request, details, error };
    if (args !== undefined) msg.args = args;
    if (kwargs !== undefined) msg.kwargs = kwargs;
    this.send(msg);
  }

  /** Closes the connection of a session whose queue is over `limit`: counted and logged (rate-limited). */
  private closeSlowConsumer(logMessage: string, limit: number, closeReason: string): 'closed' {
    this.host.floodLog.warn('slow_consumer', logMessage, { ...this.logFields(), bytes: this.peer.bufferedBytes(), limit });
    this.host.stats.slowConsumersDisconnected++;
    this.host.stats.countClose('slow_consumer');
    this.peer.close(closeReason);
    return 'closed';
  }

  /** Counts a message that went out around this policy (the WELCOME, sent raw to learn whether it fits). */
  countOut(msg: Message): void {
    this.messagesOut++;
    this.host.stats.countOut(msg.type);
  }
}

/** Words and sizes for the ERROR wamp.error.payload_size_exceeded a caller gets when `type`
 * did not fit `receiver` (`whose`: "the callee's", "your"), in the soft limit's kwargs shape. */
export function tooLargeWords(type: string, receiver: { lastTooLarge: TooLarge | undefined }, whose: string): { args: unknown[]; kwargs: Dict } {
  const over = receiver.lastTooLarge;
  const kwargs: Dict = {};
  if (over?.bytes !== undefined) kwargs.message_bytes = over.bytes;
  if (over?.limit !== undefined) kwargs.limit_bytes = over.limit;
  const sizes = over?.bytes !== undefined && over.limit !== undefined ? ` is ${over.bytes} bytes, over the ${over.limit}-byte` : ' is over the';
  return { args: [`the ${type} message${sizes} maximum message length ${whose} transport announced`], kwargs };
}
