// Whether a configured host (a listener's bind address, the status page's) is reachable only
// from this machine: the secure defaults (anonymous access, the unauthenticated status page)
// depend on it.

/** `undefined` is loopback: the transports bind 127.0.0.1 when no host is given. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A listener on a Unix socket or a loopback address: reachable from this machine only. */
export function isLoopbackListener(l: { unixPath?: string | undefined; host?: string | undefined }): boolean {
  return l.unixPath !== undefined || isLoopbackHost(l.host);
}
