// Which transport and address an uplink url names (ws://, wss://, rawsocket://, rawsocket+tls://,
// rawsocket+unix://). Pure: used by config validation and by the remote link when it connects.

/** What the url names: the transport and where. Null when it is not one of the supported forms. */
export type UplinkTarget =
  | { kind: 'websocket'; url: string; secure: boolean }
  | { kind: 'rawsocket'; host: string; port: number; secure: boolean }
  | { kind: 'rawsocket-unix'; path: string };

export function parseUplinkUrl(url: string): UplinkTarget | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  switch (u.protocol) {
    case 'ws:':
    case 'wss:':
      return u.hostname ? { kind: 'websocket', url, secure: u.protocol === 'wss:' } : null;
    case 'rawsocket:':
    case 'rawsocket+tls:': {
      const port = Number(u.port);
      if (!u.hostname || !Number.isInteger(port) || port < 1 || port > 65535) return null;
      // URL keeps IPv6 hosts in brackets; net.connect wants them bare.
      return { kind: 'rawsocket', host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port, secure: u.protocol === 'rawsocket+tls:' };
    }
    case 'rawsocket+unix:':
      return u.pathname.startsWith('/') && !u.host ? { kind: 'rawsocket-unix', path: decodeURIComponent(u.pathname) } : null;
    default:
      return null;
  }
}
