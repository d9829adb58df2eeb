// Converts between the array form on the wire and the typed messages inside (spec: "Message
// Definitions"). fromWire is the one place raw input is validated: anything malformed throws
// ProtocolViolation. Payload (args/kwargs) is checked for shape only, never for content.

import { MessageType } from './message-types';
import type { Dict, Message } from './messages';
import { isValidId } from './ids';
import { ProtocolViolation } from './protocol-violation';

type Raw = readonly unknown[];

function fail(what: string): never {
  throw new ProtocolViolation(what);
}

export function isDict(value: unknown): value is Dict {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  if (ArrayBuffer.isView(value) || value instanceof Map) return false;
  return true;
}

function dict(raw: Raw, index: number, field: string): Dict {
  const value = raw[index];
  if (!isDict(value)) fail(`${field} must be a dict`);
  return value;
}

function str(raw: Raw, index: number, field: string): string {
  const value = raw[index];
  if (typeof value !== 'string') fail(`${field} must be a string`);
  return value;
}

/** Serializers hand integers beyond what they know fits a double as BigInt (a CBOR peer may
 * write even a small ID with 8 bytes); an ID is a number inside the router. */
function asNumber(value: unknown): unknown {
  return typeof value === 'bigint' && value >= -(2n ** 53n) && value <= 2n ** 53n ? Number(value) : value;
}

function id<T extends number>(raw: Raw, index: number, field: string): T {
  const value = asNumber(raw[index]);
  if (!isValidId(value)) fail(`${field} must be an integer ID in [0, 2^53]`);
  return value as T;
}

function int(raw: Raw, index: number, field: string): number {
  const value = asNumber(raw[index]);
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(`${field} must be an integer`);
  return value;
}

/** Reads the optional trailing Arguments|list and ArgumentsKw|dict starting at `index`, or
 * the one transparent payload of Payload Passthru Mode: a byte string alone in the Arguments
 * position (a JSON peer sends it as "\0" + base64). Autobahn|Python also accepts a string
 * there in PUBLISH and CALL (`opaqueString`), so we do too. */
function payload(raw: Raw, index: number, opaqueString = false): { args?: unknown[]; kwargs?: Dict; payload?: Uint8Array | string } {
  if (raw.length > index + 2) fail('too many elements');
  const out: { args?: unknown[]; kwargs?: Dict; payload?: Uint8Array | string } = {};
  if (raw.length > index) {
    const args = raw[index];
    if (raw.length === index + 1 && (args instanceof Uint8Array || (opaqueString && typeof args === 'string'))) {
      out.payload = args;
      return out;
    }
    if (!Array.isArray(args)) fail('Arguments must be a list');
    out.args = args;
  }
  if (raw.length > index + 1) {
    const kwargs = raw[index + 1];
    if (!isDict(kwargs)) fail('ArgumentsKw must be a dict');
    out.kwargs = kwargs;
  }
  return out;
}

function exact(raw: Raw, length: number, name: string): void {
  if (raw.length !== length) fail(`${name} must have ${length} elements, got ${raw.length}`);
}

export function fromWire(raw: unknown): Message {
  if (!Array.isArray(raw) || raw.length === 0) fail('a message must be a non-empty list');
  const type = raw[0];
  switch (type) {
    case MessageType.HELLO:
      exact(raw, 3, 'HELLO');
      return { type, realm: str(raw, 1, 'Realm'), details: dict(raw, 2, 'Details') };
    case MessageType.WELCOME:
      exact(raw, 3, 'WELCOME');
      return { type, session: id(raw, 1, 'Session'), details: dict(raw, 2, 'Details') };
    case MessageType.ABORT:
      exact(raw, 3, 'ABORT');
      return { type, details: dict(raw, 1, 'Details'), reason: str(raw, 2, 'Reason') };
    case MessageType.CHALLENGE:
      exact(raw, 3, 'CHALLENGE');
      return { type, authmethod: str(raw, 1, 'AuthMethod'), extra: dict(raw, 2, 'Extra') };
    case MessageType.AUTHENTICATE:
      exact(raw, 3, 'AUTHENTICATE');
      return { type, signature: str(raw, 1, 'Signature'), extra: dict(raw, 2, 'Extra') };
    case MessageType.GOODBYE:
      exact(raw, 3, 'GOODBYE');
      return { type, details: dict(raw, 1, 'Details'), reason: str(raw, 2, 'Reason') };
    case MessageType.ERROR:
      if (raw.length < 5) fail('ERROR must have at least 5 elements');
      return {
        type,
        requestType: int(raw, 1, 'REQUEST.Type'),
        request: id(raw, 2, 'Request'),
        details: dict(raw, 3, 'Details'),
        error: str(raw, 4, 'Error'),
        ...payload(raw, 5),
      };
    case MessageType.PUBLISH:
      if (raw.length < 4) fail('PUBLISH must have at least 4 elements');
      return {
        type,
        request: id(raw, 1, 'Request'),
        options: dict(raw, 2, 'Options'),
        topic: str(raw, 3, 'Topic'),
        ...payload(raw, 4, true),
      };
    case MessageType.PUBLISHED:
      exact(raw, 3, 'PUBLISHED');
      return { type, request: id(raw, 1, 'Request'), publication: id(raw, 2, 'Publication') };
    case MessageType.SUBSCRIBE:
      exact(raw, 4, 'SUBSCRIBE');
      return {
        type,
        request: id(raw, 1, 'Request'),
        options: dict(raw, 2, 'Options'),
        topic: str(raw, 3, 'Topic'),
      };
    case MessageType.SUBSCRIBED:
      exact(raw, 3, 'SUBSCRIBED');
      return { type, request: id(raw, 1, 'Request'), subscription: id(raw, 2, 'Subscription') };
    case MessageType.UNSUBSCRIBE:
      exact(raw, 3, 'UNSUBSCRIBE');
      return { type, request: id(raw, 1, 'Request'), subscription: id(raw, 2, 'Subscription') };
    case MessageType.UNSUBSCRIBED:
      if (raw.length !== 2 && raw.length !== 3) fail('UNSUBSCRIBED must have 2 or 3 elements');
      return raw.length === 3 ? { type, request: id(raw, 1, 'Request'), details: dict(raw, 2, 'Details') } : { type, request: id(raw, 1, 'Request') };
    case MessageType.EVENT:
      if (raw.length < 4) fail('EVENT must have at least 4 elements');
      return {
        type,
        subscription: id(raw, 1, 'Subscription'),
        publication: id(raw, 2, 'Publication'),
        details: dict(raw, 3, 'Details'),
        ...payload(raw, 4),
      };
    case MessageType.CALL:
      if (raw.length < 4) fail('CALL must have at least 4 elements');
      return {
        type,
        request: id(raw, 1, 'Request'),
        options: dict(raw, 2, 'Options'),
        procedure: str(raw, 3, 'Procedure'),
        ...payload(raw, 4, true),
      };
    case MessageType.CANCEL:
      exact(raw, 3, 'CANCEL');
      return { type, request: id(raw, 1, 'Request'), options: dict(raw, 2, 'Options') };
    case MessageType.RESULT:
      if (raw.length < 3) fail('RESULT must have at least 3 elements');
      return {
        type,
        request: id(raw, 1, 'Request'),
        details: dict(raw, 2, 'Details'),
        ...payload(raw, 3),
      };
    case MessageType.REGISTER:
      exact(raw, 4, 'REGISTER');
      return {
        type,
        request: id(raw, 1, 'Request'),
        options: dict(raw, 2, 'Options'),
        procedure: str(raw, 3, 'Procedure'),
      };
    case MessageType.REGISTERED:
      exact(raw, 3, 'REGISTERED');
      return { type, request: id(raw, 1, 'Request'), registration: id(raw, 2, 'Registration') };
    case MessageType.UNREGISTER:
      exact(raw, 3, 'UNREGISTER');
      return { type, request: id(raw, 1, 'Request'), registration: id(raw, 2, 'Registration') };
    case MessageType.UNREGISTERED:
      if (raw.length !== 2 && raw.length !== 3) fail('UNREGISTERED must have 2 or 3 elements');
      return raw.length === 3 ? { type, request: id(raw, 1, 'Request'), details: dict(raw, 2, 'Details') } : { type, request: id(raw, 1, 'Request') };
    case MessageType.INVOCATION:
      if (raw.length < 4) fail('INVOCATION must have at least 4 elements');
      return {
        type,
        request: id(raw, 1, 'Request'),
        registration: id(raw, 2, 'Registration'),
        details: dict(raw, 3, 'Details'),
        ...payload(raw, 4),
      };
    case MessageType.INTERRUPT:
      exact(raw, 3, 'INTERRUPT');
      return { type, request: id(raw, 1, 'Request'), options: dict(raw, 2, 'Options') };
    case MessageType.YIELD:
      if (raw.length < 3) fail('YIELD must have at least 3 elements');
      return {
        type,
        request: id(raw, 1, 'Request'),
        options: dict(raw, 2, 'Options'),
        ...payload(raw, 3),
      };
    default:
      return fail(`unknown message type ${JSON.stringify(type)}`);
  }
}

/** Where a message type's payload starts on the wire, or undefined for types without one. */
export function payloadIndex(type: number): number | undefined {
  switch (type) {
    case MessageType.ERROR:
      return 5;
    case MessageType.PUBLISH:
    case MessageType.EVENT:
    case MessageType.CALL:
    case MessageType.INVOCATION:
      return 4;
    case MessageType.RESULT:
    case MessageType.YIELD:
      return 3;
    default:
      return undefined;
  }
}

/** The wire form without the payload; `encoded` then supplies the payload in the receiver's
 * own format (see transports/serialized-peer.ts). */
export function toWireHead(msg: Message): unknown[] {
  const wire = toWire(msg);
  const index = payloadIndex(msg.type);
  if (index !== undefined && wire.length > index) wire.length = index;
  return wire;
}

/** Appends args/kwargs the way the spec wants: kwargs forces an (empty) args list before it. */
function withPayload(head: unknown[], args?: unknown[], kwargs?: Dict, opaque?: Uint8Array | string): unknown[] {
  if (opaque !== undefined) {
    head.push(opaque);
    return head;
  }
  const hasKwargs = kwargs !== undefined && Object.keys(kwargs).length > 0;
  if (hasKwargs) head.push(args ?? [], kwargs);
  else if (args !== undefined) head.push(args);
  return head;
}

export function toWire(msg: Message): unknown[] {
  switch (msg.type) {
    case MessageType.HELLO:
      return [msg.type, msg.realm, msg.details];
    case MessageType.WELCOME:
      return [msg.type, msg.session, msg.details];
    case MessageType.ABORT:
      return [msg.type, msg.details, msg.reason];
    case MessageType.CHALLENGE:
      return [msg.type, msg.authmethod, msg.extra];
    case MessageType.AUTHENTICATE:
      return [msg.type, msg.signature, msg.extra];
    case MessageType.GOODBYE:
      return [msg.type, msg.details, msg.reason];
    case MessageType.ERROR:
      return withPayload([msg.type, msg.requestType, msg.request, msg.details, msg.error], msg.args, msg.kwargs, msg.payload);
    case MessageType.PUBLISH:
      return withPayload([msg.type, msg.request, msg.options, msg.topic], msg.args, msg.kwargs, msg.payload);
    case MessageType.PUBLISHED:
      return [msg.type, msg.request, msg.publication];
    case MessageType.SUBSCRIBE:
      return [msg.type, msg.request, msg.options, msg.topic];
    case MessageType.SUBSCRIBED:
      return [msg.type, msg.request, msg.subscription];
    case MessageType.UNSUBSCRIBE:
      return [msg.type, msg.request, msg.subscription];
    case MessageType.UNSUBSCRIBED:
      return msg.details ? [msg.type, msg.request, msg.details] : [msg.type, msg.request];
    case MessageType.EVENT:
      return withPayload([msg.type, msg.subscription, msg.publication, msg.details], msg.args, msg.kwargs, msg.payload);
    case MessageType.CALL:
      return withPayload([msg.type, msg.request, msg.options, msg.procedure], msg.args, msg.kwargs, msg.payload);
    case MessageType.CANCEL:
      return [msg.type, msg.request, msg.options];
    case MessageType.RESULT:
      return withPayload([msg.type, msg.request, msg.details], msg.args, msg.kwargs, msg.payload);
    case MessageType.REGISTER:
      return [msg.type, msg.request, msg.options, msg.procedure];
    case MessageType.REGISTERED:
      return [msg.type, msg.request, msg.registration];
    case MessageType.UNREGISTER:
      return [msg.type, msg.request, msg.registration];
    case MessageType.UNREGISTERED:
      return msg.details ? [msg.type, msg.request, msg.details] : [msg.type, msg.request];
    case MessageType.INVOCATION:
      return withPayload([msg.type, msg.request, msg.registration, msg.details], msg.args, msg.kwargs, msg.payload);
    case MessageType.INTERRUPT:
      return [msg.type, msg.request, msg.options];
    case MessageType.YIELD:
      return withPayload([msg.type, msg.request, msg.options], msg.args, msg.kwargs, msg.payload);
  }
}
