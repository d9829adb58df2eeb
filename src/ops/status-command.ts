// Owns `wampgate status`: finds the running gateway's status listener (from --url, the config's
// `status` section, or the default 127.0.0.1:8089), fetches /status.json and prints it for a
// person (or raw with --json). Does not own argument parsing (cli/main.ts) nor the data's shape.

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { parseJsonc } from '../config/jsonc';
import { isObject } from '../config/validate';
import type { HealthSnapshot } from './health';
import { formatBytes } from './format';
import { serviceParts } from './gateway-status';

export { formatBytes };
import { statusSettings, statusUrl, validateStatus } from './ops-config';
import type { BridgeStatus, GatewayStatus } from './status-types';

/** `wampgate status` gives up after 5 s: the listener answers in milliseconds, so longer means a
 * hung process, and the operator should hear that rather than wait. */
const STATUS_TIMEOUT_MS = 5000;

export interface StatusCommandOptions {
  configPath?: string;
  /** Base URL of the status listener, e.g. http://127.0.0.1:8089 (wins over the config). */
  url?: string;
  json?: boolean;
  out(text: string): void;
  err(text: string): void;
  /** Default 5 s: a Pi under load can be slow, a dead port answers at once. */
  timeoutMs?: number;
}

const NOT_RUNNING_HINT = 'is wampgate running? is the status listener enabled?';

type Resolved = { url: string } | { code: number; message: string };

/**
 * Only the `status` section is read and checked: the command must still work when other sections
 * of the file have since changed or broken (the running gateway loaded an older version).
 */
function resolveUrl(options: StatusCommandOptions): Resolved {
  if (options.url !== undefined) {
    try {
      const u = new URL(options.url);
      if (u.protocol !== 'http:') return { code: 2, message: `--url must be an http:// URL, got ${options.url}` };
      return { url: new URL('/', u).toString() };
    } catch {
      return { code: 2, message: `--url is not a URL: ${options.url}` };
    }
  }
  if (options.configPath === undefined) return { url: 'http://127.0.0.1:8089/' };
  let raw: unknown;
  try {
    raw = parseJsonc(readFileSync(options.configPath, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { code: 78, message: `${options.configPath}: ${e.code === 'ENOENT' || e.code === 'EACCES' ? `cannot read (${e.code})` : e.message}` };
  }
  const section = isObject(raw) ? raw.status : undefined;
  if (section !== undefined) {
    const problems = validateStatus(section, 'status');
    if (problems.length > 0) return { code: 78, message: `${options.configPath}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}` };
  }
  const settings = statusSettings(section);
  if (!settings.enabled)
    return { code: 1, message: `the status listener is disabled in ${options.configPath} (status.enabled is false); enable it to use wampgate status` };
  return { url: statusUrl(settings) };
}

function fetchJson(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, headers: { Accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        // A status document is a few KiB; anything huge is not us.
        if (body.length > 8 * 1024 * 1024) req.destroy(new Error('response too large'));
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

export async function runStatusCommand(options: StatusCommandOptions): Promise<number> {
  const where = resolveUrl(options);
  if ('code' in where) {
    options.err(where.message + '\n');
    return where.code;
  }
  const url = new URL('status.json', where.url).toString();
  let res: { status: number; body: string };
  try {
    // The printed summary needs no series (the last hour); --json passes everything on.
    res = await fetchJson(options.json ? url : `${url}?series=0`, options.timeoutMs ?? STATUS_TIMEOUT_MS);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    options.err(`wampgate status: cannot reach ${url} (${e.code ?? e.message}): ${NOT_RUNNING_HINT}\n`);
    return 1;
  }
  if (res.status !== 200) {
    options.err(`wampgate status: ${url} answered HTTP ${res.status}: ${res.body.trim().slice(0, 200)}; ${NOT_RUNNING_HINT}\n`);
    return 1;
  }
  let status: GatewayStatus;
  try {
    status = JSON.parse(res.body) as GatewayStatus;
  } catch {
    options.err(`wampgate status: ${url} did not answer JSON; is that port wampgate's status listener?\n`);
    return 1;
  }
  options.out(options.json ? (res.body.endsWith('\n') ? res.body : res.body + '\n') : formatStatus(status, where.url));
  return 0;
}

// ---- human-readable form ----------------------------------------------------------------------

export function formatDuration(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

const num = (n: number): string => n.toLocaleString('en-US');
const pct = (r: number | null | undefined): string => (typeof r === 'number' && Number.isFinite(r) ? `${(r * 100).toFixed(0)}%` : '–');
const plural = (n: number, word: string): string => `${num(n)} ${word}${n === 1 ? '' : 's'}`;

/** Client-chosen text (authids, errors) could carry terminal escape sequences: show them inert. */
function clean(text: unknown): string {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function since(at: number | null | undefined, now: number): string {
  return typeof at === 'number' ? ` for ${formatDuration((now - at) / 1000)}` : '';
}

function throttleLine(t: NonNullable<HealthSnapshot['throttled']>): string {
  const now: string[] = [];
  const past: string[] = [];
  if (t.underVoltageNow) now.push('UNDER-VOLTAGE');
  if (t.frequencyCappedNow) now.push('frequency capped');
  if (t.throttledNow) now.push('THROTTLED');
  if (t.softTempLimitNow) now.push('soft temperature limit');
  if (t.underVoltageOccurred) past.push('under-voltage');
  if (t.frequencyCappedOccurred) past.push('frequency capped');
  if (t.throttledOccurred) past.push('throttled');
  if (t.softTempLimitOccurred) past.push('soft temperature limit');
  if (now.length === 0 && past.length === 0) return 'ok (no throttling since boot)';
  const parts: string[] = [];
  if (now.length) parts.push(`NOW: ${now.join(', ')}`);
  if (past.length) parts.push(`since boot: ${past.join(', ')}`);
  const hint = t.underVoltageNow || t.underVoltageOccurred ? ' — check the power supply (5.1 V official PSU)' : '';
  return `${parts.join('; ')} (0x${t.raw.toString(16)})${hint}`;
}

export function formatStatus(s: GatewayStatus, base: string): string {
  const now = typeof s.generatedAt === 'number' ? s.generatedAt : Date.now();
  const lines: string[] = [];
  const row = (label: string, value: string): void => {
    lines.push(`${label.padEnd(11)}${value}`);
  };
  const r = s.router;
  const state = s.ready === undefined ? '' : s.ready ? 'ready' : 'NOT READY';
  lines.push(`wampgate ${s.version ?? '?'} at ${base}${state ? ` — ${state}` : ''}${r ? `, up ${formatDuration(r.uptimeSeconds)}` : ''}`);

  if (r) {
    let total = 0;
    const realmLines = r.realms.map((realm) => {
      const entries = Object.entries(realm.sessions).filter(([, n]) => typeof n === 'number' && n > 0) as Array<[string, number]>;
      const n = entries.reduce((a, [, v]) => a + v, 0);
      total += n;
      return `  ${clean(realm.name).padEnd(20)} ${plural(n, 'session')}${entries.length ? ` (${entries.map(([t, v]) => `${t} ${v}`).join(', ')})` : ''}`;
    });
    row('Sessions', String(total));
    lines.push(...realmLines);
  }
  if (s.listeners?.length) {
    row('Listeners', '');
    for (const l of s.listeners) lines.push(`  ${clean(l.name).padEnd(20)} ${clean(l.address)}  ${plural(l.sessions, 'session')}`);
  }
  if (r) {
    const sum = (o: Record<string, number | undefined> | undefined): number => Object.values(o ?? {}).reduce<number>((a, v) => a + (v ?? 0), 0);
    const top = (o: Record<string, number | undefined> | undefined): string =>
      Object.entries(o ?? {})
        .filter((e): e is [string, number] => typeof e[1] === 'number')
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([t, n]) => `${t} ${num(n)}`)
        .join(', ');
    row(
      'Messages',
      `in ${num(sum(r.messagesIn))}${sum(r.messagesIn) ? ` (${top(r.messagesIn)})` : ''}, out ${num(sum(r.messagesOut))}${sum(r.messagesOut) ? ` (${top(r.messagesOut)})` : ''}`,
    );
    const drops = Object.entries(r.drops ?? {}).filter(([, n]) => n > 0);
    row('Dropped', drops.length ? drops.map(([k, n]) => `${k} ${num(n)}`).join(', ') : 'none');
    const deep = (r.queues ?? []).filter((q) => q.queuedBytes > 0 || (q.dropped ?? 0) > 0);
    if (deep.length) {
      row('Queues', '');
      for (const q of deep) {
        lines.push(
          `  #${q.sessionId} ${clean(q.realm)} ${clean(q.authid ?? '–')} (${clean(q.authrole ?? '–')}) ${q.transport}: ${formatBytes(q.queuedBytes)} queued, ${num(q.dropped ?? 0)} dropped`,
        );
      }
    }
  }
  /** One line per bridge or part: name, kind, state, since, last error, the first non-zero counters. */
  const partLine = (b: BridgeStatus): void => {
    const counters = Object.entries(b.counters ?? {})
      .filter(([, n]) => n > 0)
      .slice(0, 6)
      .map(([k, n]) => `${k} ${num(n)}`)
      .join(', ');
    lines.push(
      `  ${clean(b.name).padEnd(20)} ${clean(b.kind)} ${b.state}${since(b.since, now)}${b.lastError ? ` — ${clean(b.lastError)}` : ''}${counters ? `; ${counters}` : ''}`,
    );
  };
  const bridges = s.bridges ?? [];
  row('Bridges', bridges.length ? '' : 'none');
  bridges.forEach(partLine);
  const others = serviceParts(s);
  if (others.length) {
    row('Parts', '');
    others.forEach(partLine);
  }
  const u = s.uplink;
  if (!u) row('Uplink', 'not configured');
  else {
    row(
      'Uplink',
      `${u.state}${since(u.since, now)}${u.url ? ` ${clean(u.url)}` : ''}${u.realm ? ` realm ${clean(u.realm)}` : ''}${u.lastError ? ` — ${clean(u.lastError)}` : ''}`,
    );
    const b = u.buffer;
    row(
      'Buffer',
      b
        ? `${plural(b.depth, 'message')}, ${formatBytes(b.bytes)}${b.capacityBytes !== undefined ? ` of ${formatBytes(b.capacityBytes)}` : ''}, oldest ${b.oldestAgeSeconds === null ? '–' : formatDuration(b.oldestAgeSeconds)}, ${num(b.drops)} dropped${b.deadLetters?.count ? `, ${num(b.deadLetters.count)} dead letters` : ''}`
        : '–',
    );
  }
  const h = s.health;
  if (!h) row('Board', 'no health data yet');
  else {
    row(
      'Board',
      [h.board.model ?? h.board.cpuBrand ?? h.board.arch, h.board.os]
        .filter((x) => x)
        .map(clean)
        .join(', ') + `, up ${formatDuration(h.uptimeSeconds)}`,
    );
    const temp = h.cpu.temperatureC === null ? '' : `, ${h.cpu.temperatureC.toFixed(1)} °C`;
    row('CPU', `${pct(h.cpu.usage)} busy, load ${h.cpu.load1.toFixed(2)} ${h.cpu.load5.toFixed(2)} ${h.cpu.load15.toFixed(2)}${temp}`);
    const m = h.memory;
    row(
      'Memory',
      `${formatBytes(m.availableBytes)} available of ${formatBytes(m.totalBytes)}${m.swapUsedBytes ? `, swap used ${formatBytes(m.swapUsedBytes)}` : ''}`,
    );
    if (h.disk) row('Disk', `${pct(h.disk.usedRatio)} used, ${formatBytes(h.disk.availableBytes)} free (${clean(h.disk.path)})`);
    const ifs = h.network.map((n) => `${clean(n.name)} ${n.up ? 'up' : 'DOWN'}${n.ip4 ? ` ${n.ip4}` : ''}`);
    if (ifs.length) row('Network', ifs.join(', '));
    row('Power', h.throttled ? throttleLine(h.throttled) : 'no throttling flags on this board');
    const p = h.process;
    row('Process', `RSS ${formatBytes(p.rssBytes)}, heap ${formatBytes(p.heapUsedBytes)}, CPU ${pct(p.cpuUsage)} of a core`);
  }
  return lines.join('\n') + '\n';
}
