// The authentication step of one session's opening (spec "Session Establishment",
// "Authentication"): asks the router's authenticator about a HELLO, sends its CHALLENGE, waits for
// the AUTHENTICATE that must come next, then accepts or denies. The WELCOME belongs to Session.

import { ErrorUri } from '../protocol/error-uris';
import type { SessionId } from '../protocol/ids';
import { MessageType } from '../protocol/message-types';
import type { Dict, Message } from '../protocol/messages';
import type { Peer, TransportInfo } from '../protocol/peer';
import type { Logger, RateLimitedLog } from '../util/logger';
import type { AuthAccept, AuthResult, HelloOutcome } from './ports';
import type { RouterStats } from './stats';

/** What the handshake needs from the router. */
export interface HandshakeHost {
  readonly floodLog: RateLimitedLog;
  readonly stats: RouterStats;
  authenticate(transport: TransportInfo, realm: string, details: Dict, session: number): HelloOutcome | Promise<HelloOutcome>;
  authFailed(transport: TransportInfo, authid: unknown): void;
}

/** What the handshake needs from its session. */
export interface HandshakeOwner {
  readonly peer: Peer;
  readonly host: HandshakeHost;
  readonly log: Logger;
  logFields(): Record<string, unknown>;
  send(msg: Message): void;
  abort(reason: string, message: string): void;
  closeQuietly(reason: string): void;
  /** The HELLO is accepted: open the session on that realm (WELCOME). */
  accept(realmName: string, accept: AuthAccept): void;
}

export class Handshake {
  /** Set while a CHALLENGE is outstanding: the next message goes to it (see answer()). */
  private nextAuthenticate: ((msg: { signature: string; extra: Dict }) => void) | undefined;
  private authWaitDone: (() => void) | undefined;

  constructor(private readonly owner: HandshakeOwner) {}

  /** A CHALLENGE is out: the very next message must be its AUTHENTICATE. */
  get awaitingAuthenticate(): boolean {
    return this.nextAuthenticate !== undefined;
  }

  /** Authenticates a HELLO for the session `session` (drawn now so a challenge can name the
   * session WELCOME will announce). A returned promise holds the session's later messages. */
  start(realmName: string, details: Dict, session: SessionId): Promise<void> | void {
    const { owner } = this;
    let outcome: HelloOutcome | Promise<HelloOutcome>;
    try {
      outcome = owner.host.authenticate(owner.peer.transport, realmName, details, session);
    } catch (err) {
      owner.log.error('authenticator failed', { ...owner.logFields(), error: String(err) });
      return owner.abort(ErrorUri.authenticationFailed, 'authentication failed');
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (o) => this.afterHello(realmName, details, o),
        (err: unknown) => {
          owner.log.error('authenticator failed', { ...owner.logFields(), error: String(err) });
          owner.abort(ErrorUri.authenticationFailed, 'authentication failed');
        },
      );
    }
    return this.afterHello(realmName, details, outcome);
  }

  /** The message after our CHALLENGE: an AUTHENTICATE goes to the verifier, ABORT ends the
   * attempt quietly, anything else is a protocol violation. */
  answer(msg: Message): void {
    const next = this.nextAuthenticate;
    this.nextAuthenticate = undefined;
    if (!next) return;
    if (msg.type === MessageType.AUTHENTICATE) return next(msg);
    if (msg.type === MessageType.ABORT) this.owner.closeQuietly('client aborted');
    else this.owner.abort(ErrorUri.protocolViolation, `expected AUTHENTICATE, got message type ${msg.type}`);
    this.releaseAuthWait();
  }

  /** The connection closed: no AUTHENTICATE will come. */
  cancel(): void {
    this.nextAuthenticate = undefined;
    this.releaseAuthWait();
  }

  private releaseAuthWait(): void {
    const done = this.authWaitDone;
    this.authWaitDone = undefined;
    done?.();
  }

  private afterHello(realmName: string, details: Dict, outcome: HelloOutcome): Promise<void> | void {
    const { owner } = this;
    if (owner.peer.closed) return;
    if (outcome.kind !== 'challenge') return this.finish(realmName, details, outcome);
    owner.send({ type: MessageType.CHALLENGE, authmethod: outcome.authmethod, extra: outcome.extra });
    // The AUTHENTICATE must be the very next message; wait for it inside this held step so
    // nothing else can slip in between.
    return new Promise<void>((resolve) => {
      this.nextAuthenticate = (msg) => {
        let result: AuthResult | Promise<AuthResult>;
        try {
          result = outcome.verify(msg.signature, msg.extra);
        } catch (err) {
          owner.log.error('authenticator failed', { ...owner.logFields(), error: String(err) });
          result = { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'authentication failed' };
        }
        Promise.resolve(result)
          .then(
            (r) => this.finish(realmName, details, r),
            (err: unknown) => {
              // A verifier that rejects (a dynamic authenticator whose call failed) denies.
              owner.log.error('authenticator failed', { ...owner.logFields(), error: String(err) });
              owner.abort(ErrorUri.authenticationFailed, 'authentication failed');
            },
          )
          .catch((err: unknown) => {
            owner.host.stats.internalErrors++;
            owner.log.error('internal error finishing authentication', { ...owner.logFields(), error: String(err) });
          })
          .finally(() => this.releaseAuthWait());
      };
      this.authWaitDone = resolve;
    });
  }

  private finish(realmName: string, details: Dict, result: AuthResult): void {
    const { owner } = this;
    if (owner.peer.closed) return;
    if (result.kind === 'deny') {
      // A router too busy to check is not a failed attempt: it must not count towards blocking
      // the address (a reconnect burst behind one NAT would block itself).
      if (result.reason === ErrorUri.authBusy) owner.host.stats.authBusy++;
      else owner.host.authFailed(owner.peer.transport, details.authid);
      // A blocked address was logged once when its block began, not on every attempt.
      if (!result.logged)
        owner.host.floodLog.warn('authentication_denied', 'authentication denied', {
          peer: owner.peer.transport.peer,
          listener: owner.peer.transport.listener,
          realm: realmName,
          authid: details.authid,
          authmethods: details.authmethods,
          reason: result.reason,
        });
      return owner.abort(result.reason, result.message);
    }
    owner.accept(result.realm ?? realmName, result);
  }
}
