// Owns turning what gateway parts report from `status()` (plain, loosely typed objects) into the
// BridgeStatus and UplinkStatus of status-types.ts. Does not own the parts: it is tolerant on
// purpose, so a part that reports a little more, a little less or an older shape still shows up.
//
// The shape a part should return from status() (every field optional unless marked):
//
//   bridge (one part per bridge, any part name):
//     { kind: "mqtt" | "serial-line" | "serial-frame" | "serial…"   (required: selects bridges)
//       name: string                       default: the part's name
//       state: "connecting" | "connected" | "disconnected" | "stopped" | "error"
//              ("reconnecting" counts as connecting, "failed" as error, "open"/"up" as connected)
//       since: epoch ms or ISO 8601 string  when it entered `state`
//       lastError: string
//       counters: { [event: string]: number }   monotonic since start }
//   A part running several bridges returns an array of those, or { kind, bridges: [...] }.
//
//   uplink (the part named "uplink"):
//     { state, since, lastError        as above
//       url: string                    credentials are stripped here anyway
//       realm: string
//       buffer: { depth, bytes, oldestAgeSeconds, drops, capacityBytes?, deadLetters? }   (OutboxStatus)
//            or the Outbox's own stats(): { count, bytes, oldestAgeMs, drops: { reason: n } } }

import type { BridgeStatus, LinkState, OutboxStatus, UplinkStatus } from './status-types';
import { LINK_STATES } from './status-types';
import { redactUrl } from '../util/redact-url';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const STATE_ALIASES: Record<string, LinkState> = {
  reconnecting: 'connecting',
  starting: 'connecting',
  joining: 'connecting',
  open: 'connected',
  up: 'connected',
  online: 'connected',
  joined: 'connected',
  closed: 'disconnected',
  down: 'disconnected',
  offline: 'disconnected',
  failed: 'error',
};

/** Unknown or missing states show as "disconnected": not healthy, but not claiming an error either. */
export function toLinkState(v: unknown): LinkState {
  if (typeof v !== 'string') return 'disconnected';
  const s = v.toLowerCase();
  if ((LINK_STATES as readonly string[]).includes(s)) return s as LinkState;
  return STATE_ALIASES[s] ?? 'disconnected';
}

function toSince(v: unknown): number | null {
  if (finite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : null;
  }
  return null;
}

function toError(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.message === 'string') return v.message;
  return null;
}

function toCounters(v: unknown): Record<string, number> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v)) if (finite(n)) out[k] = n;
  return out;
}

function isBridgeKind(kind: unknown): kind is string {
  return typeof kind === 'string' && /^(mqtt|serial)/.test(kind);
}

function toBridge(partName: string, raw: Obj, inheritedKind?: string): BridgeStatus | null {
  const kind = isBridgeKind(raw.kind) ? raw.kind : inheritedKind;
  if (kind === undefined) return null;
  const b: BridgeStatus = {
    name: typeof raw.name === 'string' && raw.name !== '' ? raw.name : partName,
    kind,
    state: toLinkState(raw.state),
    since: toSince(raw.since),
    lastError: toError(raw.lastError),
  };
  const counters = toCounters(raw.counters);
  if (counters) b.counters = counters;
  return b;
}

/** Every bridge found in the parts' statuses, in part order. Anything malformed is skipped. */
export function bridgesFromParts(parts: Record<string, unknown>): BridgeStatus[] {
  const out: BridgeStatus[] = [];
  const add = (b: BridgeStatus | null): void => {
    if (b) out.push(b);
  };
  for (const [name, raw] of Object.entries(parts)) {
    if (Array.isArray(raw)) {
      for (const item of raw) if (isObj(item)) add(toBridge(name, item));
    } else if (isObj(raw)) {
      if (Array.isArray(raw.bridges)) {
        const kind = isBridgeKind(raw.kind) ? raw.kind : undefined;
        for (const item of raw.bridges) if (isObj(item)) add(toBridge(name, item, kind));
      } else {
        add(toBridge(name, raw));
      }
    }
  }
  return out;
}

function toBuffer(raw: unknown): OutboxStatus | undefined {
  if (!isObj(raw)) return undefined;
  const depth = finite(raw.depth) ? raw.depth : finite(raw.count) ? raw.count : null;
  if (depth === null) return undefined;
  let drops = 0;
  if (finite(raw.drops)) drops = raw.drops;
  else if (isObj(raw.drops)) for (const n of Object.values(raw.drops)) if (finite(n)) drops += n;
  const oldestAgeSeconds = finite(raw.oldestAgeSeconds) ? raw.oldestAgeSeconds : finite(raw.oldestAgeMs) ? raw.oldestAgeMs / 1000 : null;
  const b: OutboxStatus = { depth, bytes: finite(raw.bytes) ? raw.bytes : 0, oldestAgeSeconds, drops };
  const cap = finite(raw.capacityBytes) ? raw.capacityBytes : finite(raw.maxBytes) ? raw.maxBytes : undefined;
  if (cap !== undefined) b.capacityBytes = cap;
  const dead = raw.deadLetters;
  if (isObj(dead) && finite(dead.count)) {
    const moved: Record<string, number> = {};
    if (isObj(dead.moved)) for (const [reason, n] of Object.entries(dead.moved)) if (finite(n)) moved[reason] = n;
    b.deadLetters = { count: dead.count, moved };
  }
  return b;
}

/** The part named "uplink", if it reports an object; undefined when there is no uplink. */
export function uplinkFromParts(parts: Record<string, unknown>): UplinkStatus | undefined {
  const raw = parts.uplink;
  if (!isObj(raw)) return undefined;
  const u: UplinkStatus = { state: toLinkState(raw.state), since: toSince(raw.since), lastError: toError(raw.lastError) };
  if (typeof raw.url === 'string') u.url = redactUrl(raw.url);
  if (typeof raw.realm === 'string') u.realm = raw.realm;
  const buffer = toBuffer(raw.buffer ?? raw.outbox);
  if (buffer) u.buffer = buffer;
  const r = raw.replay;
  if (isObj(r) && finite(r.backlogAtStart) && finite(r.acked)) u.replay = { active: r.active === true, backlogAtStart: r.backlogAtStart, acked: r.acked };
  return u;
}
