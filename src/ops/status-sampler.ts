// Owns turning consecutive status snapshots into one sample of the series ring: counters become
// rates per second (a counter that went down was reset, e.g. a restarted bridge), gauges are
// copied, link states are noted when they change. Does not own taking the snapshots (ops-part.ts)
// nor the ring (series.ts). The series names below are part of /status.json.

import type { SeriesRing } from './series';
import type { GatewayStatus } from './status-types';

/** Stable series names (also the charts' data-series attributes). */
export const SeriesName = {
  messagesIn: 'messages.in',
  messagesOut: 'messages.out',
  sessions: 'sessions',
  dropped: (reason: string) => `dropped.${reason}`,
  bridgeIn: (name: string) => `bridge.${name}.in`,
  bridgeOut: (name: string) => `bridge.${name}.out`,
  uplinkBacklog: 'uplink.backlog',
  uplinkReplayed: 'uplink.replayed',
  cpu: 'board.cpu',
  temperature: 'board.temperature',
  memoryUsed: 'board.memory_used',
  rss: 'process.rss',
} as const;

/** State keys in SeriesSnapshot.states. */
export const StateKey = {
  bridge: (name: string) => `bridge.${name}`,
  uplink: 'uplink',
} as const;

/** A bridge that does not say which counters are its traffic: what an MQTT-like bridge counts. */
const DEFAULT_TRAFFIC = { in: ['received'], out: ['published'] } as const;

function sum(o: Partial<Record<string, number>> | undefined): number {
  let n = 0;
  for (const v of Object.values(o ?? {})) if (typeof v === 'number') n += v;
  return n;
}

export class StatusSampler {
  /** counter name -> value at the previous sample: rates are the difference over the interval. */
  private prevCounters = new Map<string, number>();
  private prevMono: number | null = null;

  constructor(readonly ring: SeriesRing) {}

  /** Adds one sample taken from `status`. `mono` is a monotonic clock (ms): wall time may jump on a Pi. */
  sample(status: GatewayStatus, at: number = Date.now(), mono: number = performance.now()): void {
    const counters = new Map<string, number>();
    const values: Record<string, number | null> = {};
    const r = status.router;
    if (r) {
      counters.set(SeriesName.messagesIn, sum(r.messagesIn));
      counters.set(SeriesName.messagesOut, sum(r.messagesOut));
      for (const [reason, n] of Object.entries(r.drops ?? {})) counters.set(SeriesName.dropped(reason), n);
      let sessions = 0;
      for (const realm of r.realms) sessions += sum(realm.sessions);
      values[SeriesName.sessions] = sessions;
    }
    for (const b of status.bridges ?? []) {
      const t = b.traffic ?? DEFAULT_TRAFFIC;
      const pick = (names: readonly string[]): number => names.reduce((a, n) => a + (b.counters?.[n] ?? 0), 0);
      counters.set(SeriesName.bridgeIn(b.name), pick(t.in));
      counters.set(SeriesName.bridgeOut(b.name), pick(t.out));
      this.ring.state(StateKey.bridge(b.name), b.state, typeof b.since === 'number' && b.since > 0 ? Math.min(b.since, at) : at);
    }
    const u = status.uplink;
    if (u) {
      this.ring.state(StateKey.uplink, u.state, typeof u.since === 'number' && u.since > 0 ? Math.min(u.since, at) : at);
      if (u.buffer) values[SeriesName.uplinkBacklog] = u.buffer.depth;
      if (u.replay) counters.set(SeriesName.uplinkReplayed, u.replay.acked);
    }
    const h = status.health;
    if (h) {
      if (h.cpu.usage !== null) values[SeriesName.cpu] = h.cpu.usage * 100;
      values[SeriesName.temperature] = h.cpu.temperatureC;
      const m = h.memory;
      if (m.totalBytes !== null && m.availableBytes !== null) values[SeriesName.memoryUsed] = m.totalBytes - m.availableBytes;
      values[SeriesName.rss] = h.process.rssBytes;
    }

    const dt = this.prevMono === null ? 0 : (mono - this.prevMono) / 1000;
    for (const [name, v] of counters) {
      const prev = this.prevCounters.get(name);
      if (prev === undefined || dt <= 0) continue;
      // Went down: the counter restarted (a bridge or the link came back); count from zero.
      values[name] = (v >= prev ? v - prev : v) / dt;
    }
    this.prevCounters = counters;
    this.prevMono = mono;
    this.ring.record(at, values);
  }
}
