// TLS client certificate authentication: the transport has verified the certificate against
// the listener's CA; here its fingerprint or subject CN maps to a principal. Owns only that
// mapping; TLS itself (CA, requestCert) is the transport's.

import { ErrorUri } from '../protocol/error-uris';
import type { TlsInfo } from '../protocol/peer';
import type { Logger } from '../util/logger';
import { credentialsRejected } from './principals';
import type { Authenticator, HelloContext, HelloOutcome } from '../core/ports';

export interface TlsPrincipalConfig {
  /** Match by subject common name … */
  cn?: string;
  /** … or by SHA-256 fingerprint (hex, colons and case ignored), which pins one certificate. */
  fingerprint?: string;
  /** Defaults to the certificate's CN. */
  authid?: string;
  role: string;
  /** Only valid for this realm. */
  realm?: string;
}

export interface TlsAuthOptions {
  principals: TlsPrincipalConfig[];
  /** A verified certificate not in `principals` joins with this role and its CN as authid;
   * without it such certificates are refused. */
  defaultRole?: string;
  authprovider?: string;
  logger?: Logger;
}

export function normalizeFingerprint(fp: string): string {
  return fp.replace(/:/g, '').toUpperCase();
}

export function certificateCn(tls: TlsInfo): string | undefined {
  const cn = tls.subject?.CN;
  const v = Array.isArray(cn) ? cn[0] : cn;
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export function tlsCertAuthenticator(options: TlsAuthOptions): Authenticator {
  const authprovider = options.authprovider ?? 'static';
  /** fingerprint -> principal: pinned certificates win over CN matches. */
  const byFingerprint = new Map<string, TlsPrincipalConfig>();
  /** CN -> principal */
  const byCn = new Map<string, TlsPrincipalConfig>();
  for (const p of options.principals) {
    if (p.fingerprint !== undefined) byFingerprint.set(normalizeFingerprint(p.fingerprint), p);
    else if (p.cn !== undefined) byCn.set(p.cn, p);
  }
  return {
    hello(ctx: HelloContext): HelloOutcome {
      const tls = ctx.transport.tls;
      if (!tls?.authorized) {
        return { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'tls authentication needs a client certificate the listener verified' };
      }
      const cn = certificateCn(tls);
      const fp = tls.fingerprint256 !== undefined ? normalizeFingerprint(tls.fingerprint256) : undefined;
      const principal = (fp !== undefined ? byFingerprint.get(fp) : undefined) ?? (cn !== undefined ? byCn.get(cn) : undefined);
      const authid = principal?.authid ?? cn;
      const role = principal?.role ?? options.defaultRole;
      const requested = ctx.details.authid;
      const realmOk = principal?.realm === undefined || principal.realm === ctx.realm;
      if (authid === undefined || role === undefined || !realmOk || (typeof requested === 'string' && requested !== authid)) {
        options.logger?.warn('authentication denied', { authmethod: 'tls', authid: authid ?? requested, realm: ctx.realm, peer: ctx.transport.peer });
        return credentialsRejected();
      }
      return { kind: 'accept', authid, authrole: role, authmethod: 'tls', authprovider };
    },
  };
}
