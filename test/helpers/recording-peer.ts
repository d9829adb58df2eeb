// A fake Peer for router unit tests: records every message the router sends to it and lets the
// test inject client messages synchronously (routing is synchronous, so assertions can follow
// at once). Its outbound queue depth is settable to exercise the slow-consumer limits.

import assert from 'node:assert/strict';
import { fromWire } from '../../src/protocol/codec';
import type { MessageTypeCode } from '../../src/protocol/message-types';
import type { Message } from '../../src/protocol/messages';
import type { Peer, PeerListener, TransportInfo } from '../../src/protocol/peer';
import { ProtocolViolation } from '../../src/protocol/protocol-violation';

export type MessageOf<T extends MessageTypeCode> = Extract<Message, { type: T }>;

interface Waiter {
  pred: (m: Message) => boolean;
  resolve: (m: Message) => void;
}

let counter = 0;

export class RecordingPeer implements Peer {
  readonly transport: TransportInfo;
  /** Every message the router sent, in order. */
  readonly sent: Message[] = [];
  /** Queue depth this fake transport reports; set it to simulate a slow consumer. */
  buffered = 0;
  /** Messages of these types are refused as too large for the transport (send returns false). */
  refuseTypes = new Set<number>();
  closeReason: string | undefined;
  private isClosed = false;
  private listener: PeerListener | undefined;
  private cursor = 0;
  private waiters: Waiter[] = [];
  private closeWaiters: Array<(reason: string) => void> = [];

  constructor(transport: Partial<TransportInfo> = {}) {
    this.transport = { type: 'local', serializer: 'none', peer: `recording:${++counter}`, loopback: true, listener: 'test', ...transport };
  }

  get closed(): boolean {
    return this.isClosed;
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  send(msg: Message): boolean {
    if (this.isClosed) return true;
    if (this.refuseTypes.has(msg.type)) return false;
    this.sent.push(msg);
    for (const w of [...this.waiters]) {
      if (w.pred(msg)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(msg);
      }
    }
    return true;
  }

  /** Router-side close: like a real socket, onClose follows asynchronously. */
  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeReason = reason;
    for (const w of this.closeWaiters.splice(0)) w(reason);
    queueMicrotask(() => this.listener?.onClose(reason));
  }

  setListener(listener: PeerListener): void {
    this.listener = listener;
  }

  // ---- test side ----------------------------------------------------------------------------

  /** Delivers a client message to the router now (synchronously). */
  inject(msg: Message): void {
    assert.ok(this.listener, 'no listener attached');
    assert.ok(!this.isClosed, 'peer is closed');
    this.listener.onMessage(msg);
  }

  /** Delivers a raw wire array as a transport would: fromWire first, violations reported. */
  injectRaw(raw: unknown): void {
    assert.ok(this.listener, 'no listener attached');
    let msg: Message;
    try {
      msg = fromWire(raw);
    } catch (err) {
      if (err instanceof ProtocolViolation) return this.listener.onProtocolViolation(err.message);
      throw err;
    }
    this.listener.onMessage(msg);
  }

  /** The transport is lost (socket reset): no GOODBYE, the router learns through onClose. */
  drop(reason = 'connection reset'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeReason = reason;
    for (const w of this.closeWaiters.splice(0)) w(reason);
    this.listener?.onClose(reason);
  }

  /** Messages sent since the last take(). */
  take(): Message[] {
    const out = this.sent.slice(this.cursor);
    this.cursor = this.sent.length;
    return out;
  }

  /** Takes the new messages and asserts there is exactly one, of `type`. */
  takeOne<T extends MessageTypeCode>(type: T): MessageOf<T> {
    const msgs = this.take();
    assert.equal(msgs.length, 1, `expected exactly one message, got ${JSON.stringify(msgs)}`);
    const msg = msgs[0] as Message;
    assert.equal(msg.type, type, `expected message type ${type}, got ${JSON.stringify(msg)}`);
    return msg as MessageOf<T>;
  }

  /** Takes the new messages and asserts there are none. */
  takeNone(): void {
    assert.deepEqual(this.take(), []);
  }

  /** Resolves with the first message not yet taken that satisfies `pred` (waits if needed). */
  waitFor<T extends MessageTypeCode>(type: T, pred: (m: MessageOf<T>) => boolean = () => true, timeoutMs = 2000): Promise<MessageOf<T>> {
    const test = (m: Message): boolean => m.type === type && pred(m as MessageOf<T>);
    const found = this.sent.slice(this.cursor).find(test);
    if (found) return Promise.resolve(found as MessageOf<T>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no message of type ${type} within ${timeoutMs} ms; got ${JSON.stringify(this.sent.slice(this.cursor))}`));
      }, timeoutMs);
      const waiter: Waiter = {
        pred: test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as MessageOf<T>);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves with the close reason once the router closed (or dropped) this peer. */
  waitClosed(timeoutMs = 2000): Promise<string> {
    if (this.isClosed) return Promise.resolve(this.closeReason ?? '');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer not closed within ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push((reason) => {
        clearTimeout(timer);
        resolve(reason);
      });
    });
  }
}
