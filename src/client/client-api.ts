// The shapes an application hands the WAMP client and gets back from it: options to join,
// event and invocation handlers, call results, subscription and registration handles. The
// client itself is in wamp-client.ts, which re-exports these.

import type { Dict, Message } from '../protocol/messages';

export interface CallResult {
  args: unknown[];
  kwargs: Dict;
  details: Dict;
}

export type EventHandler = (args: unknown[], kwargs: Dict, details: Dict) => void;
export type InvocationHandler = (
  args: unknown[],
  kwargs: Dict,
  details: Dict & { progress?: (args?: unknown[], kwargs?: Dict) => void; signal: AbortSignal },
) => unknown;

export interface ClientSubscription {
  id: number;
  topic: string;
  unsubscribe(): Promise<void>;
}
export interface ClientRegistration {
  id: number;
  procedure: string;
  unregister(): Promise<void>;
}

export interface ConnectOptions {
  realm: string;
  authid?: string;
  /** The role to join as, for routers that let a principal choose among its roles. */
  authrole?: string;
  authmethods?: string[];
  authextra?: Dict;
  /** Answers a CHALLENGE: returns the signature for AUTHENTICATE. */
  onChallenge?: (authmethod: string, extra: Dict) => string | Promise<string>;
  /** Rejects the join if no WELCOME arrives by then. Default 10 s. */
  timeoutMs?: number;
  /**
   * WAMP-level liveness, for links whose transport pings the other end may not understand (a
   * RawSocket PING read as a 16 MiB length by Autobahn|Python/Crossbar.io): every `intervalMs` the
   * session sends a probe the router must answer, and closes the transport when nothing at all
   * arrived within `timeoutMs` of it. Any inbound message proves the router alive. Off by default.
   */
  liveness?: { intervalMs: number; timeoutMs: number };
}

/** A handler's return value that sets both args and kwargs of the RESULT. */
export class Result {
  constructor(
    readonly args: unknown[] = [],
    readonly kwargs: Dict = {},
  ) {}
}

/** Sets args/kwargs on an outgoing message, leaving out what is absent (and empty kwargs). */
export function withPayload<T extends Message>(msg: T, args?: unknown[], kwargs?: Dict): T {
  const m = msg as T & { args?: unknown[]; kwargs?: Dict };
  if (args !== undefined) m.args = args;
  if (kwargs !== undefined && Object.keys(kwargs).length > 0) m.kwargs = kwargs;
  return msg;
}
