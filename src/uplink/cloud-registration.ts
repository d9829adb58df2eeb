// Registers an upward procedure at the cloud and takes it over from the gateway's own previous
// session, which the cloud may still hold after a network cut (until its keepalive notices):
// with `force_reregister` where the cloud's WELCOME announces it (wampgate), else by killing that
// stale session through the meta API where the cloud allows it (same authid and authrole only),
// else by retrying until the cloud drops it. Which rules to register is the uplink's business.

import type { InvocationHandler, WampClient } from '../client/wamp-client';
import { WampError, errorText } from '../client/wamp-error';
import type { Dict } from '../protocol/messages';
import { ErrorUri } from '../protocol/error-uris';
import type { Logger } from '../util/logger';

/** How often a registration still held upstream is tried again. */
export const REREGISTER_RETRY_MS = 2000;

export interface CloudRegistration {
  procedure: string;
  handler: InvocationHandler;
  /** REGISTER options (match policy); force_reregister is added here when announced. */
  options: Dict;
  /** For log lines. */
  rule: string;
}

/** WELCOME.Details.roles.dealer.features.force_reregister, read defensively. */
export function announcesForceReregister(welcome: Dict): boolean {
  const roles = welcome.roles as { dealer?: { features?: Record<string, unknown> } } | undefined;
  return roles?.dealer?.features?.force_reregister === true;
}

export async function registerAtCloud(client: WampClient, r: CloudRegistration, ctx: { log: Logger; stopping(): boolean }): Promise<void> {
  if (announcesForceReregister(client.welcome)) {
    // One REGISTER: the cloud hands over what a previous session of ours still holds.
    await client.register(r.procedure, r.handler, { ...r.options, force_reregister: true });
    return;
  }
  try {
    await client.register(r.procedure, r.handler, r.options);
    return;
  } catch (err) {
    if (!(err instanceof WampError) || err.error !== ErrorUri.procedureAlreadyExists) throw err;
  }
  if ((await killStaleCallees(client, r, ctx.log)) > 0) {
    try {
      await client.register(r.procedure, r.handler, r.options);
      ctx.log.info('uplink took over its registration after ending its stale session upstream', { rule: r.rule, procedure: r.procedure });
      return;
    } catch (err) {
      if (!(err instanceof WampError) || err.error !== ErrorUri.procedureAlreadyExists) throw err;
    }
  }
  ctx.log.warn('uplink registration still held upstream, retrying', { rule: r.rule, procedure: r.procedure });
  const retry = setInterval(() => {
    if (client.closed || ctx.stopping()) return clearInterval(retry);
    client.register(r.procedure, r.handler, r.options).then(
      () => {
        clearInterval(retry);
        ctx.log.info('uplink registration restored', { rule: r.rule, procedure: r.procedure });
      },
      () => undefined,
    );
  }, REREGISTER_RETRY_MS);
  retry.unref();
  client.onClose(() => clearInterval(retry));
}

/**
 * Through the cloud's meta API: the sessions registered on the procedure that are ours (same
 * authid and authrole as this session's WELCOME) but not this one are killed. Any step the cloud
 * refuses (no meta API, not authorized) ends the attempt: returns how many were killed.
 */
async function killStaleCallees(client: WampClient, r: CloudRegistration, log: Logger): Promise<number> {
  const authid = client.welcome.authid;
  const authrole = client.welcome.authrole;
  if (typeof authid !== 'string') return 0;
  try {
    const lookupArgs: unknown[] = r.options.match !== undefined ? [r.procedure, { match: r.options.match }] : [r.procedure];
    const registration = (await client.call('wamp.registration.lookup', lookupArgs)).args[0];
    if (typeof registration !== 'number') return 0;
    const callees = (await client.call('wamp.registration.list_callees', [registration])).args[0];
    if (!Array.isArray(callees)) return 0;
    let killed = 0;
    for (const id of callees) {
      if (typeof id !== 'number' || id === client.sessionId) continue;
      const info = (await client.call('wamp.session.get', [id])).args[0] as Dict | undefined;
      if (info?.authid !== authid || info.authrole !== authrole) continue;
      await client.call('wamp.session.kill', [id], { reason: ErrorUri.killed, message: 'replaced by a new session of the same gateway' });
      killed++;
    }
    if (killed > 0) log.info('uplink ended its stale session(s) at the cloud through the meta API', { rule: r.rule, procedure: r.procedure, killed });
    return killed;
  } catch (err) {
    log.debug('uplink could not end its stale session through the meta API', { rule: r.rule, error: errorText(err) });
    return 0;
  }
}
