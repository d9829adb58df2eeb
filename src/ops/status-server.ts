// Owns the read-only HTTP endpoint for operators: / (status page), /status.json, /metrics
// (Prometheus) and /healthz. Loopback by default. Does not own the status data (getStatus is
// passed in) nor authentication: bind it to loopback or a trusted LAN only.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../util/logger';
import { quietLogger } from '../util/logger';
import { isLoopbackHost } from '../util/loopback';
import { ChartCache } from './charts';
import { DEFAULT_STATUS_HOST, DEFAULT_STATUS_PORT } from './ops-config';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus';
import { renderStatusPage, STATUS_PAGE_SCRIPT_HASH } from './status-page';
import type { GatewayStatus } from './status-types';

export interface StatusServerOptions {
  getStatus: () => GatewayStatus;
  /** Default 127.0.0.1. Use 0.0.0.0 to reach the page from a phone on the LAN. */
  host?: string;
  /** Default 8089; 0 picks a free port (tests). */
  port?: number;
  logger?: Logger;
  /** How often the page refetches /status.json; default 5 s. */
  refreshMs?: number;
  /** Page title, e.g. the gateway's name. */
  title?: string;
  /**
   * Host header values accepted (without port). Defaults to loopback names when bound to
   * loopback, which stops DNS-rebinding pages in the operator's browser from reading the status;
   * anything when bound elsewhere, since the board's LAN names are not known here.
   */
  allowedHosts?: readonly string[];
}

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1', '[::1]'];

const CSP = [
  "default-src 'none'",
  `script-src '${STATUS_PAGE_SCRIPT_HASH}'`,
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Host header without its port; handles "[::1]:8089". */
function hostName(header: string | undefined): string | null {
  if (!header) return null;
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    return end > 0 ? header.slice(0, end + 1).toLowerCase() : null;
  }
  const colon = header.lastIndexOf(':');
  return (colon >= 0 ? header.slice(0, colon) : header).toLowerCase();
}

export class StatusServer {
  private readonly server: http.Server;
  /** The charts' polylines of the current sample tick: getStatus is one series source. */
  private readonly charts = new ChartCache();
  private readonly log: Logger;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly allowedHosts: ReadonlySet<string> | null;

  constructor(private readonly options: StatusServerOptions) {
    this.log = (options.logger ?? quietLogger).child('status-server');
    this.host = options.host ?? DEFAULT_STATUS_HOST;
    this.requestedPort = options.port ?? DEFAULT_STATUS_PORT;
    const allowed = options.allowedHosts ?? (isLoopbackHost(this.host) ? LOOPBACK_HOSTS : null);
    this.allowedHosts = allowed ? new Set(allowed.map((h) => h.toLowerCase())) : null;
    this.server = http.createServer((req, res) => this.handle(req, res));
    // A slow or idle client must not hold sockets on a small board.
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 5_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.maxHeadersCount = 50;
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Resolves with the bound address; rejects if the port cannot be bound (a config problem). */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.requestedPort, this.host, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.log.error('status server error', { error: err }));
        const addr = this.server.address() as AddressInfo;
        this.log.info('status page listening', { url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}/` });
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  get port(): number | null {
    const addr = this.server.address();
    return addr && typeof addr === 'object' ? addr.port : null;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    try {
      this.route(req, res);
    } catch (err) {
      // getStatus or a renderer threw: a bug, but the gateway keeps routing.
      this.log.error('status request failed', { url: req.url, error: err });
      if (!res.headersSent) this.send(res, req, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    }
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.allowedHosts) {
      const host = hostName(req.headers.host);
      if (host === null || !this.allowedHosts.has(host)) return this.send(res, req, 421, 'text/plain; charset=utf-8', 'unexpected Host header\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return this.send(res, req, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    switch (path) {
      case '/':
      case '/index.html': {
        res.setHeader('Content-Security-Policy', CSP);
        const html = renderStatusPage(this.snapshot(), {
          cache: this.charts,
          ...(this.options.refreshMs !== undefined ? { refreshMs: this.options.refreshMs } : {}),
          ...(this.options.title !== undefined ? { title: this.options.title } : {}),
        });
        return this.send(res, req, 200, 'text/html; charset=utf-8', html);
      }
      case '/status.json': {
        const snapshot = this.snapshot();
        // ?series=0: the current state only (what `wampgate status` prints), without the last hour.
        if (new URLSearchParams(query).get('series') === '0') delete snapshot.series;
        return this.send(res, req, 200, 'application/json; charset=utf-8', JSON.stringify(snapshot) + '\n');
      }
      case '/metrics':
        return this.send(res, req, 200, PROMETHEUS_CONTENT_TYPE, renderPrometheus(this.snapshot()));
      case '/healthz': {
        // Liveness for load balancers and scripts: 200 only once the gateway says it is ready.
        const ready = this.options.getStatus().ready === true;
        return this.send(res, req, ready ? 200 : 503, 'text/plain; charset=utf-8', ready ? 'ok\n' : 'starting\n');
      }
      default:
        return this.send(res, req, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  }

  private snapshot(): GatewayStatus {
    const s = this.options.getStatus();
    return s.generatedAt === undefined ? { ...s, generatedAt: Date.now() } : { ...s };
  }

  private send(res: http.ServerResponse, req: http.IncomingMessage, code: number, type: string, body: string): void {
    const buf = Buffer.from(body, 'utf8');
    res.writeHead(code, {
      'Content-Type': type,
      'Content-Length': buf.length,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : buf);
  }
}

/** Convenience: construct and listen. */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const server = new StatusServer(options);
  await server.listen();
  return server;
}
