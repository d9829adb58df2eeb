// Router-wide counters read by the metrics endpoint. Plain numbers indexed by message type
// code so counting on the hot path is one array increment.

import { MessageType, type MessageTypeName } from '../protocol/message-types';

export class RouterStats {
  /** message type code -> count received from peers */
  readonly messagesIn = new Array<number>(71).fill(0);
  /** message type code -> count sent to peers */
  readonly messagesOut = new Array<number>(71).fill(0);
  eventsDroppedSlowConsumer = 0;
  slowConsumersDisconnected = 0;
  protocolViolations = 0;
  internalErrors = 0;
  sessionsOpened = 0;
  sessionsClosed = 0;
  authFailures = 0;
  /** HELLOs refused because the ticket checks' queue was full (ABORT wampgate.error.auth_busy): not failures. */
  authBusy = 0;
  /** EVENTs not sent to one subscriber: over the maximum message length its transport announced. */
  eventsTooLarge = 0;
  /** Any other message not sent for that reason (INVOCATION, RESULT, ERROR…); a caller got
   * ERROR wamp.error.payload_size_exceeded instead. */
  messagesTooLarge = 0;
  /** Messages a session sent over limits.maxMessageBytes (read whole, under the hard cap) and
   * the router refused: ERROR wamp.error.payload_size_exceeded where the protocol has one. */
  messagesOverLimit = 0;
  /** EVENTs dropped because their payload has no exact form in the subscriber's serializer. */
  eventsDroppedUnrepresentable = 0;
  /** INVOCATIONs, RESULTs and ERRORs not delivered for the same reason; the caller got
   * ERROR wamp.error.invalid_payload instead. */
  callMessagesUnrepresentable = 0;

  countTooLarge(type: number): void {
    if (type === MessageType.EVENT) this.eventsTooLarge++;
    else this.messagesTooLarge++;
  }

  countUnrepresentable(type: number): void {
    if (type === MessageType.EVENT) this.eventsDroppedUnrepresentable++;
    else this.callMessagesUnrepresentable++;
  }

  /** reason -> connections the router refused or closed on its own (transports' reasons from
   * transports/connection-guard.ts, sessions' own: hello_timeout, protocol_violation…). */
  readonly connectionsClosed: Record<string, number> = {};

  countClose(reason: string): void {
    this.connectionsClosed[reason] = (this.connectionsClosed[reason] ?? 0) + 1;
  }

  countIn(type: number): void {
    this.messagesIn[type] = (this.messagesIn[type] ?? 0) + 1;
  }
  countOut(type: number): void {
    this.messagesOut[type] = (this.messagesOut[type] ?? 0) + 1;
  }

  byTypeName(counts: readonly number[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, code] of Object.entries(MessageType) as [MessageTypeName, number][]) {
      const n = counts[code] ?? 0;
      if (n > 0) out[name] = n;
    }
    return out;
  }
}
