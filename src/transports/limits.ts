// Limits every network transport enforces per connection, with defaults sized for a 512 MB
// board. Owns only the numbers and how partial config is completed; the transports enforce them.

export interface TransportLimits {
  /** Largest inbound message of an authenticated session. A bigger one up to
   * hardMaxMessageBytes is read and refused: ERROR wamp.error.payload_size_exceeded where the
   * protocol has one, and the session goes on. */
  maxMessageBytes: number;
  /** Largest inbound message a transport reads at all; bigger fails the connection (WebSocket
   * close 1009; RawSocket: the handshake announces it, at most 2^24, and a longer frame closes).
   * Taken as at least maxMessageBytes. */
  hardMaxMessageBytes: number;
  /** Largest inbound message before WELCOME: HELLO and AUTHENTICATE are small, and a
   * connection nobody has authenticated must not make the router buffer megabytes. */
  preAuthMaxMessageBytes: number;
  /** Connections not yet authenticated (from TCP accept to WELCOME), whole process. */
  maxPendingConnections: number;
  /** Of those, from one remote address (IP; all Unix-socket clients count as one). */
  maxPendingConnectionsPerAddress: number;
  /** Pending connections beyond maxPendingConnections that only known addresses may take: those
   * from which a session was authenticated (WELCOME) within knownAddressTtlMs. A flood from
   * elsewhere fills maxPendingConnections; devices that joined before can still get in. 0: none. */
  knownAddressPendingReserve: number;
  /** How long an address stays known after its last WELCOME. */
  knownAddressTtlMs: number;
  /** How many known addresses are remembered (the least recently authenticated are forgotten). */
  knownAddressesMax: number;
  /** Bytes held in partially received messages, whole process; a connection that would take
   * more is closed (WebSocket 1013 "try again later", RawSocket close). */
  inboundBufferBytes: number;
  /** The share of inboundBufferBytes connections before WELCOME may hold together. */
  preAuthBufferBytes: number;
  /** Time from accept to a completed transport handshake (TLS + RawSocket / HTTP upgrade). */
  handshakeTimeoutMs: number;
  /** How often an idle connection is probed with a PING; 0 turns keepalive off. */
  keepaliveIntervalMs: number;
  /** How long a probed connection may stay silent before it is closed as dead. */
  keepaliveTimeoutMs: number;
}

export const defaultTransportLimits: Readonly<TransportLimits> = Object.freeze({
  // ws defaults to 100 MiB. A 16 MiB payload and up to 64 KiB of envelope (options, URI,
  // details) pass over WebSocket; RawSocket's own ceiling is 2^24 bytes for the whole message.
  // A 1 MiB camera snapshot or firmware chunk passes with room to spare, and inboundBufferBytes
  // bounds how many such messages the process holds at once.
  maxMessageBytes: 16 * 1024 * 1024 + 64 * 1024,
  // Up to here an oversized message is read only to answer it with an ERROR; the bytes count
  // against inboundBufferBytes while they arrive, like any message's.
  hardMaxMessageBytes: 32 * 1024 * 1024,
  // HELLO and AUTHENTICATE are small: AutobahnJS's HELLO with every role feature, four
  // authmethods and a cryptosign authextra is 752 bytes, Autobahn|Python's and wampy's are about
  // 1-2 KiB. 16 KiB leaves room for long authextra (certificates, tokens) and keeps what 256
  // pending connections can hold at 4 MiB, the default preAuthBufferBytes (64 KiB would let 64 of
  // them fill it and every further one be read only to be closed: bench/preauth-memory.ts).
  preAuthMaxMessageBytes: 16 * 1024,
  maxPendingConnections: 256,
  maxPendingConnectionsPerAddress: 32,
  // An eighth on top of the pending cap, for devices that have joined before (bench flood mode).
  knownAddressPendingReserve: 32,
  knownAddressTtlMs: 24 * 60 * 60 * 1000,
  knownAddressesMax: 1024,
  inboundBufferBytes: 64 * 1024 * 1024,
  preAuthBufferBytes: 4 * 1024 * 1024,
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
