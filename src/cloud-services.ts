// What the gateway offers the cloud through the uplink beyond the forwarding rules: procedures
// registered upstream under their full cloud URI (the admin part's) and events published upstream
// while the link is up (the fleet view). The admin part offers, the uplink carries; neither sees
// the other. One per gateway, kept across live reloads.

import type { InvocationHandler } from './client/wamp-client';
import type { Dict } from './protocol/messages';

/** The uplink's side: how offered procedures reach the cloud and events go up. */
export interface CloudCarrier {
  /** Publishes on the cloud session now; false when the link is down (nothing is queued). */
  publish(topic: string, args: unknown[], kwargs?: Dict): boolean;
}

export class CloudServices {
  /** cloud URI -> handler of an offered procedure */
  private readonly offered = new Map<string, InvocationHandler>();
  private readonly watchers = new Set<() => void>();
  private readonly onlineWatchers = new Set<() => void>();
  private carrier: CloudCarrier | undefined;

  /** Offers a procedure to the cloud under `uri`; returns the withdrawal. */
  offer(uri: string, handler: InvocationHandler): () => void {
    this.offered.set(uri, handler);
    this.changed();
    return () => {
      if (this.offered.get(uri) !== handler) return;
      this.offered.delete(uri);
      this.changed();
    };
  }

  /** The cloud URIs offered now. */
  uris(): string[] {
    return [...this.offered.keys()];
  }

  /** The handler offered under `uri` now (looked up per call: a reload may replace it). */
  handler(uri: string): InvocationHandler | undefined {
    return this.offered.get(uri);
  }

  /** Called after every offer or withdrawal; returns the unsubscribe. */
  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** The uplink attaches itself while the link is up (undefined when it goes down). */
  attachCarrier(carrier: CloudCarrier | undefined): void {
    this.carrier = carrier;
    if (carrier) for (const fn of this.onlineWatchers) fn();
  }

  /** Called each time the link comes up (to send what waited); returns the unsubscribe. */
  onOnline(fn: () => void): () => void {
    this.onlineWatchers.add(fn);
    return () => this.onlineWatchers.delete(fn);
  }

  /** Publishes upstream when an uplink is up; false otherwise (live data: not buffered). */
  publish(topic: string, args: unknown[], kwargs?: Dict): boolean {
    return this.carrier?.publish(topic, args, kwargs) ?? false;
  }

  private changed(): void {
    for (const fn of this.watchers) fn();
  }
}
