// The built-in default authenticator: anonymous access, but only on loopback listeners (TCP
// from 127.0.0.0/8 or ::1, Unix sockets, in-process). Anything else is refused, so a router
// started with no config is never open to the network.

import { randomBytes } from 'node:crypto';
import { ErrorUri } from '../protocol/error-uris';
import type { Authenticator, HelloContext, HelloOutcome } from '../core/ports';

export function requestedMethods(details: Record<string, unknown>): string[] | undefined {
  const m = details.authmethods;
  return Array.isArray(m) ? m.filter((x): x is string => typeof x === 'string') : undefined;
}

export function anonymousOnLoopback(options: { authrole?: string; allowRemote?: boolean } = {}): Authenticator {
  const authrole = options.authrole ?? 'anonymous';
  return {
    hello(ctx: HelloContext): HelloOutcome {
      if (!ctx.transport.loopback && options.allowRemote !== true) {
        return {
          kind: 'deny',
          reason: ErrorUri.notAuthorized,
          message: 'anonymous access is allowed only on loopback; configure authentication for this listener',
        };
      }
      const methods = requestedMethods(ctx.details);
      if (methods && methods.length > 0 && !methods.includes('anonymous')) {
        return { kind: 'deny', reason: ErrorUri.noAuthMethod, message: `this listener offers only anonymous authentication, not ${methods.join(', ')}` };
      }
      return { kind: 'accept', authid: `anonymous-${randomBytes(4).toString('hex')}`, authrole, authmethod: 'anonymous', authprovider: 'static' };
    },
  };
}
