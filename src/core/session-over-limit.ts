// The soft message limit on the way in: a message over limits.maxMessageBytes that the
// transport still read whole (under the hard cap) is never routed. This module owns the answer
// to its sender; the transports own the limits and the hard-cap close.

import { ErrorUri } from '../protocol/error-uris';
import { MessageType, messageTypeName } from '../protocol/message-types';
import type { Message } from '../protocol/messages';
import type { OverLimit } from '../protocol/peer';
import type { Session } from './session';
import type { OutboundHost } from './session-outbound';

/**
 * The sender gets ERROR wamp.error.payload_size_exceeded where the protocol has one for the
 * message, with the sizes in kwargs; an over-limit YIELD or callee ERROR ends the call with that
 * ERROR to the caller. Counted, logged at WARN (rate-limited); the session goes on.
 */
export function refuseOverLimit(session: Session, host: OutboundHost, msg: Message, over: OverLimit): void {
  host.stats.messagesOverLimit++;
  const type = messageTypeName(msg.type);
  host.floodLog.warn('message_over_limit', 'message over limits.maxMessageBytes refused, session goes on', {
    ...session.logFields(),
    type,
    bytes: over.bytes,
    limit: over.limit,
  });
  const realm = session.realm;
  if (!session.established || !realm) return;
  const args = [`the ${type} message is ${over.bytes} bytes, over this router's limit of ${over.limit} bytes (limits.maxMessageBytes)`];
  const kwargs = { message_bytes: over.bytes, limit_bytes: over.limit };
  switch (msg.type) {
    case MessageType.CALL:
    case MessageType.SUBSCRIBE:
    case MessageType.UNSUBSCRIBE:
    case MessageType.REGISTER:
    case MessageType.UNREGISTER:
      return session.sendError(msg.type, msg.request, ErrorUri.payloadSizeExceeded, args, kwargs);
    case MessageType.PUBLISH:
      // spec ("Publish ERROR"): a publication is answered only when acknowledge is true.
      if (msg.options.acknowledge === true) session.sendError(msg.type, msg.request, ErrorUri.payloadSizeExceeded, args, kwargs);
      return;
    case MessageType.YIELD:
      return realm.dealer.refuseAnswer(session, msg.request, args, kwargs);
    case MessageType.ERROR:
      if (msg.requestType === MessageType.INVOCATION) realm.dealer.refuseAnswer(session, msg.request, args, kwargs);
      return;
    default:
      // GOODBYE, CANCEL…: no ERROR exists for them; counted and logged above.
      return;
  }
}
