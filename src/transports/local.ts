// The in-process transport: a pair of Peers that hand message objects to each other with no
// serialization, and `attachLocal`, which hands one end to the router as a connection with a
// preset identity. Delivery is deferred to a microtask so that a handler that sends while it is
// being called never re-enters routing (routing steps stay atomic). Receivers must treat
// messages as read-only: fan-out shares one object between subscribers.

import type { Message } from '../protocol/messages';
import type { Peer, PeerListener, TransportInfo } from '../protocol/peer';

class LocalPeer implements Peer {
  other!: LocalPeer;
  private listener: PeerListener | undefined;
  private inbox: Array<(l: PeerListener) => void> = [];
  private scheduled = false;
  private isClosed = false;

  constructor(readonly transport: TransportInfo) {}

  get closed(): boolean {
    return this.isClosed;
  }

  bufferedBytes(): number {
    return 0;
  }

  send(msg: Message): boolean {
    if (!this.isClosed) this.other.enqueue((l) => l.onMessage(msg));
    return true;
  }

  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.enqueue((l) => l.onClose(reason));
    this.other.isClosed = true;
    this.other.enqueue((l) => l.onClose(reason));
  }

  setListener(listener: PeerListener): void {
    this.listener = listener;
    this.schedule();
  }

  private enqueue(fn: (l: PeerListener) => void): void {
    this.inbox.push(fn);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.listener || this.inbox.length === 0) return;
    this.scheduled = true;
    queueMicrotask(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    const listener = this.listener;
    if (!listener) return;
    const batch = this.inbox;
    this.inbox = [];
    for (const fn of batch) {
      try {
        fn(listener);
      } catch (err) {
        // A bug in one in-process client must not break delivery to the rest of the batch,
        // nor take the process down.
        process.emitWarning(`wampgate local transport ${this.transport.peer}: handler threw: ${String(err)}`);
      }
    }
  }
}

export interface LocalPair {
  /** The end handed to the router. */
  routerSide: Peer;
  /** The end an in-process client (bridge, uplink, meta API) talks through. */
  clientSide: Peer;
}

export function createLocalPair(name: string, listener = 'local'): LocalPair {
  const info: TransportInfo = { type: 'local', serializer: 'none', peer: `local:${name}`, loopback: true, listener };
  const routerSide = new LocalPeer(info);
  const clientSide = new LocalPeer(info);
  routerSide.other = clientSide;
  clientSide.other = routerSide;
  return { routerSide, clientSide };
}

/** What attachLocal needs of the router: attach a connection with a preset identity (core's
 * Router.attach). Generic in the identity so this transport knows nothing of core's types. */
export interface PeerAcceptor<Identity> {
  attach(peer: Peer, identity: Identity): unknown;
}

/** An in-process client session (bridge, uplink, meta API, embedding app): attaches the router
 * end of a new local pair with `identity` and returns the client end; send HELLO on it
 * (WampClient.connect does) to join as that identity, with no authentication. */
export function attachLocal<Identity>(router: PeerAcceptor<Identity>, name: string, identity: Identity): Peer {
  const pair = createLocalPair(name);
  router.attach(pair.routerSide, identity);
  return pair.clientSide;
}
