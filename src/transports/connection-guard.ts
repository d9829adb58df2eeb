// Admission and memory bounds for network connections, shared by every listener of the process:
// how many connections may wait unauthenticated (overall and per remote address, with a reserve
// for addresses that authenticated before), how many bytes partially received messages may hold
// (overall, and the smaller share of connections before WELCOME), and the one place a connection
// the router closes on its own is counted and logged.
// Knows nothing of framing: the transports report what they hold and ask what they may hold.

import { RateLimitedLog, quietLogger, type Logger } from '../util/logger';
import { resolveTransportLimits, type TransportLimits } from './limits';

/** Why the router refused or closed a connection on its own: Prometheus label values, stable. */
export const CloseReasons = [
  'pending_limit',
  'pending_limit_per_address',
  'buffer_budget_full',
  'message_too_large',
  'pre_auth_message_too_large',
  'handshake_timeout',
  'keepalive_timeout',
  'bad_frame',
  'bad_handshake',
  'hello_timeout',
  'protocol_violation',
  'slow_consumer',
  'welcome_too_large',
] as const;
export type CloseReason = (typeof CloseReasons)[number];

/** What a closed connection's log line carries; sizes only where they apply. */
export interface CloseDetails {
  peer: string;
  listener?: string;
  session?: number;
  /** WAMP message type of the message at fault, when it could be read. */
  messageType?: string;
  /** Size of the message (as announced by its frame header) or bytes held. */
  bytes?: number;
  limit?: number;
  detail?: string;
}

export interface GuardStats {
  /** reason -> connections refused at admission or closed by the router */
  closed: Record<CloseReason, number>;
  /** Connections admitted and not yet authenticated. */
  pending: number;
  /** Bytes held right now in partially received messages. */
  heldBytes: number;
  /** Of those, held by connections before WELCOME. */
  preAuthHeldBytes: number;
  /** The most heldBytes has been since start. */
  peakHeldBytes: number;
  /** Connections admitted beyond maxPendingConnections, from known addresses (the reserve). */
  admittedFromReserve: number;
}

/** The remote host without the port: "10.0.0.7:5312" -> "10.0.0.7", "[::1]:5312" -> "::1". */
export function addressOf(peer: string): string {
  const v6 = /^\[(.*)\]:\d+$/.exec(peer);
  if (v6?.[1] !== undefined) return v6[1];
  const v4 = /^([^:[\]]+):\d+$/.exec(peer);
  return v4?.[1] ?? peer;
}

export class ConnectionGuard {
  readonly limits: TransportLimits;
  readonly stats: GuardStats;
  /** address -> connections from it admitted and not yet authenticated: the per-address cap. */
  private readonly pendingByAddress = new Map<string, number>();
  private readonly log: RateLimitedLog;
  /** address -> when a session from it was last authenticated, oldest first (an LRU by insertion). */
  private readonly knownAddresses = new Map<string, number>();

  constructor(
    limits: Partial<TransportLimits> = {},
    logger: Logger = quietLogger,
    /** Told of every refusal and router-initiated close (the router's metrics count them). */
    private readonly onClose?: (reason: CloseReason) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.limits = resolveTransportLimits(limits);
    this.log = new RateLimitedLog(logger.child('guard'));
    const closed = {} as Record<CloseReason, number>;
    for (const r of CloseReasons) closed[r] = 0;
    this.stats = { closed, pending: 0, heldBytes: 0, preAuthHeldBytes: 0, peakHeldBytes: 0, admittedFromReserve: 0 };
  }

  /**
   * A new connection from `peer`: a ticket that tracks it until release(), or the reason it is
   * refused (counted and logged here; the caller only closes the socket, as cheaply as it can).
   */
  admit(peer: string, listener?: string): AdmissionTicket | CloseReason {
    const address = addressOf(peer);
    const fromAddress = this.pendingByAddress.get(address) ?? 0;
    let refused: CloseReason | undefined;
    let fromReserve = false;
    if (this.stats.pending >= this.limits.maxPendingConnections) {
      fromReserve = this.stats.pending < this.limits.maxPendingConnections + this.limits.knownAddressPendingReserve && this.isKnown(address);
      if (!fromReserve) refused = 'pending_limit';
    }
    if (!refused && fromAddress >= this.limits.maxPendingConnectionsPerAddress) refused = 'pending_limit_per_address';
    if (refused) {
      this.closed(refused, {
        peer,
        ...(listener !== undefined ? { listener } : {}),
        detail: refused === 'pending_limit' ? `${this.stats.pending} connections not yet authenticated` : `${fromAddress} from ${address}`,
      });
      return refused;
    }
    this.stats.pending++;
    if (fromReserve) this.stats.admittedFromReserve++;
    this.pendingByAddress.set(address, fromAddress + 1);
    return new AdmissionTicket(this, address);
  }

  /** Whether a session from `address` was authenticated within knownAddressTtlMs. */
  isKnown(address: string): boolean {
    const at = this.knownAddresses.get(address);
    if (at === undefined) return false;
    if (this.now() - at <= this.limits.knownAddressTtlMs) return true;
    this.knownAddresses.delete(address);
    return false;
  }

  /** @internal A session from `address` was authenticated: it is known from now on. */
  rememberAddress(address: string): void {
    if (this.limits.knownAddressesMax <= 0) return;
    // Re-inserted at the end, so the first entry is always the least recently authenticated.
    this.knownAddresses.delete(address);
    this.knownAddresses.set(address, this.now());
    while (this.knownAddresses.size > this.limits.knownAddressesMax) {
      const oldest = this.knownAddresses.keys().next().value as string;
      this.knownAddresses.delete(oldest);
    }
  }

  /** Counts a connection the router refused or closed on its own and logs it (rate-limited). */
  closed(reason: CloseReason, details: CloseDetails): void {
    this.stats.closed[reason]++;
    this.onClose?.(reason);
    this.log.warn(reason, 'connection closed by the router', { reason, ...details });
  }

  /** @internal AdmissionTicket's bookkeeping. */
  leavePending(address: string): void {
    this.stats.pending--;
    const n = (this.pendingByAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.pendingByAddress.delete(address);
    else this.pendingByAddress.set(address, n);
  }

  /** @internal Moves `delta` bytes into (or out of) the budgets; false when they would overflow. */
  changeHeld(delta: number, preAuth: boolean): boolean {
    if (delta > 0) {
      if (this.stats.heldBytes + delta > this.limits.inboundBufferBytes) return false;
      if (preAuth && this.stats.preAuthHeldBytes + delta > this.limits.preAuthBufferBytes) return false;
    }
    this.stats.heldBytes += delta;
    if (preAuth) this.stats.preAuthHeldBytes += delta;
    if (this.stats.heldBytes > this.stats.peakHeldBytes) this.stats.peakHeldBytes = this.stats.heldBytes;
    return true;
  }
}

/** One admitted connection's share: pending until authenticated, and the bytes it holds. */
export class AdmissionTicket {
  private isAuthenticated = false;
  private released = false;
  private held = 0;
  /** The session WELCOME announced, for log lines. */
  session: number | undefined;

  constructor(
    private readonly guard: ConnectionGuard,
    readonly address: string,
  ) {}

  get authenticated(): boolean {
    return this.isAuthenticated;
  }

  /** The largest message this connection may send now. */
  get maxMessageBytes(): number {
    const { maxMessageBytes, preAuthMaxMessageBytes } = this.guard.limits;
    return this.isAuthenticated ? maxMessageBytes : Math.min(preAuthMaxMessageBytes, maxMessageBytes);
  }

  /** The largest message the transport reads now: before WELCOME the same as maxMessageBytes;
   * after it hardMaxMessageBytes (a message between the two is read, then refused with ERROR). */
  get hardMaxMessageBytes(): number {
    const { hardMaxMessageBytes, maxMessageBytes } = this.guard.limits;
    return this.isAuthenticated ? Math.max(hardMaxMessageBytes, maxMessageBytes) : this.maxMessageBytes;
  }

  /** Bytes this connection holds in a partial message right now. */
  get heldBytes(): number {
    return this.held;
  }

  /**
   * Reports the bytes the connection now holds in partially received messages. False when the
   * budget cannot take them: the caller closes the connection (and nothing is charged).
   */
  hold(bytes: number): boolean {
    if (this.released) return bytes === 0;
    const delta = bytes - this.held;
    if (delta === 0) return true;
    if (!this.guard.changeHeld(delta, !this.isAuthenticated)) return false;
    this.held = bytes;
    return true;
  }

  /** WELCOME went out: the connection leaves the pending count and gets the full limits. */
  authenticate(session?: number): void {
    if (session !== undefined) this.session = session;
    if (this.isAuthenticated || this.released) return;
    // Bytes held move from the pre-auth share to the general budget.
    this.guard.changeHeld(-this.held, true);
    this.guard.changeHeld(this.held, false);
    this.isAuthenticated = true;
    this.guard.leavePending(this.address);
    this.guard.rememberAddress(this.address);
  }

  /** The connection is gone. Idempotent. */
  release(): void {
    if (this.released) return;
    this.guard.changeHeld(-this.held, !this.isAuthenticated);
    this.held = 0;
    if (!this.isAuthenticated) this.guard.leavePending(this.address);
    this.released = true;
  }
}
