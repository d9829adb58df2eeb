// Carries the gateway's CloudServices over the uplink: registers every offered procedure on each
// cloud session (asking the cloud to disclose the caller, which the admin part checks) and lets
// the offerer publish upstream while the link is up. Forwarding rules are uplink.ts's job.

import type { ClientRegistration, WampClient } from '../client/wamp-client';
import { WampError } from '../client/wamp-error';
import type { CloudServices } from '../cloud-services';
import { ErrorUri } from '../protocol/error-uris';
import type { Logger } from '../util/logger';
import { announcesForceReregister } from './cloud-registration';

export class CloudOffer {
  private client: WampClient | undefined;
  /** cloud URI -> our registration on the current cloud session */
  private readonly registered = new Map<string, ClientRegistration>();
  private syncing: Promise<void> = Promise.resolve();
  private readonly unwatch: () => void;

  constructor(
    private readonly services: CloudServices,
    private readonly log: Logger,
  ) {
    this.unwatch = services.watch(() => void this.sync());
  }

  /** A new cloud session: it holds none of our registrations yet. */
  restore(client: WampClient): Promise<void> {
    this.client = client;
    this.registered.clear();
    return this.sync();
  }

  online(client: WampClient): void {
    this.services.attachCarrier({
      publish: (topic, args, kwargs) => {
        if (client.closed) return false;
        client.publish(topic, args, kwargs).catch(() => undefined);
        return true;
      },
    });
  }

  offline(): void {
    this.services.attachCarrier(undefined);
    this.client = undefined;
    this.registered.clear();
  }

  stop(): void {
    this.unwatch();
    this.offline();
  }

  /** Registers what is offered and not yet registered, unregisters what was withdrawn. Serialized:
   * offers arrive while a cloud session is being restored. */
  private sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncOnce()).catch((err: unknown) => this.log.warn('cloud procedures: sync failed', { error: String(err) }));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const client = this.client;
    if (!client || client.closed) return;
    const wanted = new Set(this.services.uris());
    for (const [uri, reg] of this.registered) {
      if (wanted.has(uri)) continue;
      this.registered.delete(uri);
      await reg.unregister().catch(() => undefined);
    }
    for (const uri of wanted) {
      if (this.registered.has(uri)) continue;
      // A trampoline: the handler is looked up per call, so a restarted offerer needs no new registration.
      const trampoline = (...call: Parameters<NonNullable<ReturnType<CloudServices['handler']>>>) => {
        const handler = this.services.handler(uri);
        if (!handler) throw new WampError(ErrorUri.noSuchProcedure, [`${uri} is no longer offered by this gateway`]);
        return handler(...call);
      };
      // Where the cloud announces it, take over what our previous session may still hold after
      // a network cut (as the forwarding rules do, cloud-registration.ts); elsewhere a stale
      // registration makes this fail, logged, until the cloud drops that session.
      const options = { disclose_caller: true, ...(announcesForceReregister(client.welcome) ? { force_reregister: true } : {}) };
      const reg: ClientRegistration = await client.register(uri, trampoline, options);
      if (client !== this.client) return;
      this.registered.set(uri, reg);
    }
  }
}
