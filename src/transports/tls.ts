// TLS for the network transports: turns file paths from config into Node TLS options, and
// describes a connection's peer certificate as TlsInfo. Does not decide what a certificate
// is worth: auth reads TlsInfo and decides.

import { readFileSync } from 'node:fs';
import type * as tls from 'node:tls';
import type { TlsInfo } from '../protocol/peer';

/** Listener side: file paths as they appear in config. */
export interface TlsOptions {
  cert: string;
  key: string;
  /** CA bundle client certificates are verified against. */
  ca?: string;
  /** Ask clients for a certificate; the result lands in TlsInfo.authorized. */
  requestClientCert?: boolean;
}

/** Connecting side (uplink): everything optional; the system CAs apply without `ca`. */
export interface ClientTlsOptions {
  ca?: string;
  /** Client certificate and key, for routers that authenticate by certificate. */
  cert?: string;
  key?: string;
  /** SNI and the name the server certificate must match, when it differs from the host. */
  servername?: string;
}

/** Reads the files once at startup so a missing file fails the listener, not the first client. */
export function loadServerTlsOptions(options: TlsOptions): tls.TlsOptions {
  const out: tls.TlsOptions = {
    cert: readFileSync(options.cert),
    key: readFileSync(options.key),
    requestCert: options.requestClientCert ?? false,
    // An unverified certificate must not fail the TLS handshake: anonymous clients may still be
    // welcome, and auth decides from TlsInfo.authorized rather than the socket layer.
    rejectUnauthorized: false,
  };
  if (options.ca !== undefined) out.ca = readFileSync(options.ca);
  return out;
}

export function loadClientTlsOptions(options: ClientTlsOptions): tls.ConnectionOptions {
  const out: tls.ConnectionOptions = {};
  if (options.ca !== undefined) out.ca = readFileSync(options.ca);
  if (options.cert !== undefined) out.cert = readFileSync(options.cert);
  if (options.key !== undefined) out.key = readFileSync(options.key);
  if (options.servername !== undefined) out.servername = options.servername;
  return out;
}

export function tlsInfoFromSocket(socket: tls.TLSSocket): TlsInfo {
  const info: TlsInfo = { authorized: socket.authorized };
  const cert = socket.getPeerCertificate();
  // Without a client certificate Node returns an empty object rather than null.
  if (cert && Object.keys(cert).length > 0) {
    if (cert.subject) info.subject = { ...(cert.subject as unknown as Record<string, string | string[]>) };
    if (cert.fingerprint256) info.fingerprint256 = cert.fingerprint256;
  }
  return info;
}
