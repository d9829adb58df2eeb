// Typed WAMP messages: the named-field form used everywhere inside the router. The array form
// exists only on the wire (codec.ts converts). Payload (args/kwargs) is never inspected.

import { MessageType } from './message-types';
import type { PublicationId, RegistrationId, RequestId, SessionId, SubscriptionId } from './ids';

export type Dict = Record<string, unknown>;
export type Args = unknown[];
export type Kwargs = Dict;

/** The trailing elements of a message exactly as a peer encoded them: a receiver with the same
 * serializer gets these bytes, never a re-encoding (so 64-bit integers, CBOR tags and floats
 * stay exactly as the sender wrote them). Set by the transport that decoded the message. */
export interface EncodedPayload {
  /** Name of the serializer the bytes are in. */
  readonly serializer: string;
  readonly bytes: Uint8Array;
  /** How many elements the bytes hold: 1 (args, or a transparent payload) or 2 (args, kwargs). */
  readonly count: number;
  /** True when the decoder found the decoded args/kwargs plain (serializers/serializer.ts
   * DecodeFacts): an encoder of another serializer need not check them value by value. */
  readonly plain?: boolean;
}

/** The key of the encoded form on a message: a symbol, so it is transport metadata that JSON,
 * logs and for-in never see. Set by plain assignment: Object.defineProperty (non-enumerable)
 * cost ~6% of the router's CPU per small event, as every message took a slow shape change. */
export const encodedKey: unique symbol = Symbol('encoded');

export function setEncoded(msg: Payload, encoded: EncodedPayload): void {
  msg[encodedKey] = encoded;
}

export function getEncoded(msg: Payload): EncodedPayload | undefined {
  return msg[encodedKey];
}

export interface Payload {
  args?: Args;
  kwargs?: Kwargs;
  /** Payload Passthru Mode (spec: "Payload Passthru Mode"): one opaque element in place of
   * args/kwargs, a byte string (a string too in PUBLISH and CALL, as Autobahn|Python accepts). */
  payload?: Uint8Array | string;
  [encodedKey]?: EncodedPayload;
}

export interface Hello {
  type: typeof MessageType.HELLO;
  realm: string;
  details: Dict;
}
export interface Welcome {
  type: typeof MessageType.WELCOME;
  session: SessionId;
  details: Dict;
}
export interface Abort {
  type: typeof MessageType.ABORT;
  details: Dict;
  reason: string;
}
export interface Challenge {
  type: typeof MessageType.CHALLENGE;
  authmethod: string;
  extra: Dict;
}
export interface Authenticate {
  type: typeof MessageType.AUTHENTICATE;
  signature: string;
  extra: Dict;
}
export interface Goodbye {
  type: typeof MessageType.GOODBYE;
  details: Dict;
  reason: string;
}
export interface ErrorMessage extends Payload {
  type: typeof MessageType.ERROR;
  requestType: number;
  request: RequestId;
  details: Dict;
  error: string;
}
export interface Publish extends Payload {
  type: typeof MessageType.PUBLISH;
  request: RequestId;
  options: Dict;
  topic: string;
}
export interface Published {
  type: typeof MessageType.PUBLISHED;
  request: RequestId;
  publication: PublicationId;
}
export interface Subscribe {
  type: typeof MessageType.SUBSCRIBE;
  request: RequestId;
  options: Dict;
  topic: string;
}
export interface Subscribed {
  type: typeof MessageType.SUBSCRIBED;
  request: RequestId;
  subscription: SubscriptionId;
}
export interface Unsubscribe {
  type: typeof MessageType.UNSUBSCRIBE;
  request: RequestId;
  subscription: SubscriptionId;
}
export interface Unsubscribed {
  type: typeof MessageType.UNSUBSCRIBED;
  request: RequestId;
  /** Only for router-initiated unsubscription (subscription revocation); request is 0 then. */
  details?: Dict;
}
export interface Event extends Payload {
  type: typeof MessageType.EVENT;
  subscription: SubscriptionId;
  publication: PublicationId;
  details: Dict;
}
export interface Call extends Payload {
  type: typeof MessageType.CALL;
  request: RequestId;
  options: Dict;
  procedure: string;
}
export interface Cancel {
  type: typeof MessageType.CANCEL;
  request: RequestId;
  options: Dict;
}
export interface Result extends Payload {
  type: typeof MessageType.RESULT;
  request: RequestId;
  details: Dict;
}
export interface Register {
  type: typeof MessageType.REGISTER;
  request: RequestId;
  options: Dict;
  procedure: string;
}
export interface Registered {
  type: typeof MessageType.REGISTERED;
  request: RequestId;
  registration: RegistrationId;
}
export interface Unregister {
  type: typeof MessageType.UNREGISTER;
  request: RequestId;
  registration: RegistrationId;
}
export interface Unregistered {
  type: typeof MessageType.UNREGISTERED;
  request: RequestId;
  details?: Dict;
}
export interface Invocation extends Payload {
  type: typeof MessageType.INVOCATION;
  request: RequestId;
  registration: RegistrationId;
  details: Dict;
}
export interface Interrupt {
  type: typeof MessageType.INTERRUPT;
  request: RequestId;
  options: Dict;
}
export interface Yield extends Payload {
  type: typeof MessageType.YIELD;
  request: RequestId;
  options: Dict;
}

export type Message =
  | Hello
  | Welcome
  | Abort
  | Challenge
  | Authenticate
  | Goodbye
  | ErrorMessage
  | Publish
  | Published
  | Subscribe
  | Subscribed
  | Unsubscribe
  | Unsubscribed
  | Event
  | Call
  | Cancel
  | Result
  | Register
  | Registered
  | Unregister
  | Unregistered
  | Invocation
  | Interrupt
  | Yield;

/** Messages a client (caller, callee, publisher, subscriber) may send to a router. */
export type ClientToRouter =
  Hello | Authenticate | Abort | Goodbye | ErrorMessage | Publish | Subscribe | Unsubscribe | Call | Cancel | Register | Unregister | Yield;

export type RouterToClient =
  | Welcome
  | Abort
  | Challenge
  | Goodbye
  | ErrorMessage
  | Published
  | Subscribed
  | Unsubscribed
  | Event
  | Result
  | Registered
  | Unregistered
  | Invocation
  | Interrupt;

const clientToRouterTypes: ReadonlySet<number> = new Set<number>([
  MessageType.HELLO,
  MessageType.AUTHENTICATE,
  MessageType.ABORT,
  MessageType.GOODBYE,
  MessageType.ERROR,
  MessageType.PUBLISH,
  MessageType.SUBSCRIBE,
  MessageType.UNSUBSCRIBE,
  MessageType.CALL,
  MessageType.CANCEL,
  MessageType.REGISTER,
  MessageType.UNREGISTER,
  MessageType.YIELD,
]);

export function isClientToRouter(msg: Message): msg is ClientToRouter {
  return clientToRouterTypes.has(msg.type);
}
