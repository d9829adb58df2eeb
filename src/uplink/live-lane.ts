// The live lane of the forwarder: events of `order: live-first` rules that were appended while
// older entries still wait to be sent (a backlog replay) go out ahead of them. Every entry is in
// the outbox before it is offered here, so the lane holds only what to send next and what it sent
// that the outbox still holds (the replay path must not send those again). Sending and acking
// stay the forwarder's.

import type { OutboxEntry } from './outbox';

export class LiveLane {
  /** Appended live entries not sent yet, in seq order. Bounded: the rest wait in the outbox for the replay path. */
  private queue: OutboxEntry[] = [];
  /** seq -> sent by this lane and still in the outbox (in flight, or acked but not yet deleted). */
  private readonly unsettled = new Set<number>();

  constructor(private readonly cap: number) {}

  /** Newly appended live entries. Beyond the cap they are left to the replay path: never lost, only later. */
  offer(entries: readonly OutboxEntry[]): void {
    for (const e of entries) {
      if (this.queue.length >= this.cap) return;
      this.queue.push(e);
    }
  }

  /** Up to n entries to send now; those at or below the replay cursor were already sent by it. */
  take(n: number, cursor: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    while (out.length < n && this.queue.length > 0) {
      const e = this.queue.shift() as OutboxEntry;
      if (e.seq <= cursor) continue;
      this.unsettled.add(e.seq);
      out.push(e);
    }
    return out;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Whether the replay path must skip this row: this lane sent it and the outbox still holds it. */
  sent(seq: number): boolean {
    return this.unsettled.has(seq);
  }

  /** The entry left the outbox (acked or moved to the dead letters). */
  settled(seq: number): void {
    this.unsettled.delete(seq);
  }

  /** Any entry this lane sent that is still unsettled at or below seq. */
  unsettledUpTo(seq: number): boolean {
    for (const s of this.unsettled) if (s <= seq) return true;
    return false;
  }

  /** A new remote session: everything goes again from the outbox, in the replay path's order. */
  reset(): void {
    this.queue = [];
    this.unsettled.clear();
  }
}
