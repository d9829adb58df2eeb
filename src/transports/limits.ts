// Limits every network transport enforces per connection, with defaults sized for a 512 MB
// board. Owns only the numbers and how partial config is completed; the transports enforce them.

export interface TransportLimits {
  /** Largest inbound message (frame payload) accepted; bigger fails the connection. */
  maxMessageBytes: number;
  /** Time from accept to a completed transport handshake (TLS + RawSocket / HTTP upgrade). */
  handshakeTimeoutMs: number;
  /** How often an idle connection is probed with a PING; 0 turns keepalive off. */
  keepaliveIntervalMs: number;
  /** How long a probed connection may stay silent before it is closed as dead. */
  keepaliveTimeoutMs: number;
}

export const defaultTransportLimits: Readonly<TransportLimits> = Object.freeze({
  // ws defaults to 100 MiB, which a handful of clients could use to exhaust a Pi's memory.
  maxMessageBytes: 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  keepaliveIntervalMs: 30_000,
  keepaliveTimeoutMs: 10_000,
});

/** Completes partial limits (from config or a test) with the defaults. */
export function resolveTransportLimits(limits: Partial<TransportLimits> = {}): TransportLimits {
  const out: TransportLimits = { ...defaultTransportLimits };
  for (const key of Object.keys(defaultTransportLimits) as Array<keyof TransportLimits>) {
    const value = limits[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
