// Owns rendering a GatewayStatus in the Prometheus text exposition format (version 0.0.4): one
// HELP and TYPE line per family, families contiguous, label values escaped. Does not own
// collecting the numbers or serving them (status-server.ts serves /metrics).

import { serviceParts } from './gateway-status';
import type { GatewayStatus, LinkState } from './status-types';
import { LINK_STATES } from './status-types';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type MetricType = 'gauge' | 'counter';
type Labels = Record<string, string>;

interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: Array<{ labels: Labels; value: number }>;
}

/** Label values: backslash, double quote and newline are escaped (exposition format spec). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: only backslash and newline are escaped. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Collects families in first-use order so each renders as one contiguous block. */
class Registry {
  /** metric name -> family: a name used twice must land in the same block. */
  private readonly families = new Map<string, Family>();

  add(name: string, type: MetricType, help: string, value: number | null | undefined, labels: Labels = {}): void {
    if (value === null || value === undefined) return;
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${name}`);
    for (const k of Object.keys(labels)) if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new Error(`bad label name ${k}`);
    let f = this.families.get(name);
    if (!f) {
      f = { name, type, help, samples: [] };
      this.families.set(name, f);
    }
    f.samples.push({ labels, value });
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.samples) {
        const entries = Object.entries(s.labels);
        const labels = entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}` : '';
        out.push(`${f.name}${labels} ${formatValue(s.value)}`);
      }
    }
    return out.length ? out.join('\n') + '\n' : '';
  }
}

function stateGauges(r: Registry, name: string, help: string, state: LinkState, labels: Labels): void {
  // One series per possible state, 1 for the current one: the usual Prometheus "enum" idiom, so
  // `name{state="connected"} == 0` alerts work without knowing the previous value.
  for (const s of LINK_STATES) r.add(name, 'gauge', help, s === state ? 1 : 0, { ...labels, state: s });
}

export function renderPrometheus(status: GatewayStatus): string {
  const r = new Registry();
  if (status.ready !== undefined) r.add('wampgate_ready', 'gauge', 'Whether the gateway finished starting (1) or not (0).', status.ready ? 1 : 0);

  const router = status.router;
  if (router) {
    r.add('wampgate_router_uptime_seconds', 'gauge', 'Seconds since the router started.', router.uptimeSeconds);
    for (const realm of router.realms) {
      r.add('wampgate_realm_up', 'gauge', 'A configured realm (always 1), so realms with no sessions still show.', 1, { realm: realm.name });
      for (const [transport, n] of Object.entries(realm.sessions)) {
        r.add('wampgate_sessions', 'gauge', 'Sessions joined, by realm and transport.', n, { realm: realm.name, transport });
      }
    }
    for (const [type, n] of Object.entries(router.messagesIn ?? {})) {
      r.add('wampgate_messages_received_total', 'counter', 'WAMP messages received from peers, by message type.', n, { type });
    }
    for (const [type, n] of Object.entries(router.messagesOut ?? {})) {
      r.add('wampgate_messages_sent_total', 'counter', 'WAMP messages sent to peers, by message type.', n, { type });
    }
    for (const [reason, n] of Object.entries(router.drops ?? {})) {
      r.add('wampgate_messages_dropped_total', 'counter', 'Messages dropped by the router, by reason.', n, { reason });
    }
    for (const [reason, n] of Object.entries(router.connectionsClosed ?? {})) {
      r.add('wampgate_connections_closed_total', 'counter', 'Connections the router refused or closed on its own, by reason.', n, { reason });
    }
    for (const q of router.queues ?? []) {
      const labels = { session: String(q.sessionId), realm: q.realm, authid: q.authid ?? '', transport: q.transport };
      r.add('wampgate_session_queue_bytes', 'gauge', 'Outbound queue bytes of the sessions with the deepest queues (top N).', q.queuedBytes, labels);
      r.add('wampgate_session_queue_messages', 'gauge', 'Outbound queued messages of the sessions with the deepest queues (top N).', q.queuedMessages, labels);
    }
  }

  for (const b of status.bridges ?? []) {
    const labels = { bridge: b.name, kind: b.kind };
    stateGauges(r, 'wampgate_bridge_state', 'Bridge link state: 1 for the current state.', b.state, labels);
    for (const [event, n] of Object.entries(b.counters ?? {})) {
      r.add('wampgate_bridge_events_total', 'counter', 'Bridge counters, by bridge and event.', n, { ...labels, event });
    }
  }

  const up = status.uplink;
  if (up) {
    stateGauges(r, 'wampgate_uplink_state', 'Uplink state: 1 for the current state.', up.state, {});
    const b = up.buffer;
    if (b) {
      r.add('wampgate_uplink_buffer_messages', 'gauge', 'Messages buffered for the cloud and not yet acknowledged.', b.depth);
      r.add('wampgate_uplink_buffer_bytes', 'gauge', 'Bytes buffered for the cloud and not yet acknowledged.', b.bytes);
      r.add('wampgate_uplink_buffer_oldest_age_seconds', 'gauge', 'Age of the oldest unacknowledged buffered message.', b.oldestAgeSeconds ?? 0);
      r.add('wampgate_uplink_buffer_dropped_total', 'counter', 'Messages discarded because the uplink buffer was full.', b.drops);
      r.add('wampgate_uplink_buffer_capacity_bytes', 'gauge', 'Configured uplink buffer cap.', b.capacityBytes);
      if (b.deadLetters) {
        r.add('wampgate_uplink_dead_letters', 'gauge', 'Upward events held as dead letters (undeliverable, moved out of the buffer).', b.deadLetters.count);
        for (const [reason, n] of Object.entries(b.deadLetters.moved)) {
          r.add('wampgate_uplink_dead_lettered_total', 'counter', 'Upward events moved to the dead letters, by reason.', n, { reason });
        }
      }
    }
  }

  for (const p of serviceParts(status)) {
    const labels = { part: p.name, kind: p.kind };
    stateGauges(r, 'wampgate_part_state', 'State of each part that is neither a bridge nor the uplink (ops…): 1 for the current state.', p.state, labels);
    for (const [value, n] of Object.entries(p.gauges ?? {})) {
      r.add(
        'wampgate_part_value',
        'gauge',
        'Current values of the parts that are neither bridges nor the uplink (the event history: rows, bytes…), by part and value.',
        n,
        {
          ...labels,
          value,
        },
      );
    }
    for (const [event, n] of Object.entries(p.counters)) {
      r.add('wampgate_part_events_total', 'counter', 'Counters of the parts that are neither bridges nor the uplink, by part and event.', n, {
        ...labels,
        event,
      });
    }
  }

  const series = status.series;
  if (series) {
    r.add('wampgate_status_series_bytes', 'gauge', "Memory held by the status page's last-hour series.", series.bytes);
    r.add('wampgate_status_series_samples', 'gauge', 'Samples held per series (up to the ring capacity).', series.size);
    r.add('wampgate_status_series_capacity', 'gauge', 'Samples each series ring holds: one hour at the sampling interval.', series.capacity);
    r.add('wampgate_status_series_count', 'gauge', 'Series kept for the status page.', Object.keys(series.values).length);
  }

  const h = status.health;
  if (h) {
    r.add('wampgate_board_cpu_usage_ratio', 'gauge', 'Share of all CPU cores busy over the last poll interval (0..1).', h.cpu.usage);
    for (const [period, v] of [
      ['1m', h.cpu.load1],
      ['5m', h.cpu.load5],
      ['15m', h.cpu.load15],
    ] as const) {
      r.add('wampgate_board_load_average', 'gauge', 'System load average.', v, { period });
    }
    r.add('wampgate_board_temperature_celsius', 'gauge', 'CPU/SoC temperature.', h.cpu.temperatureC);
    r.add('wampgate_board_memory_total_bytes', 'gauge', 'Physical memory.', h.memory.totalBytes);
    r.add('wampgate_board_memory_available_bytes', 'gauge', 'Memory available without swapping (MemAvailable).', h.memory.availableBytes);
    r.add('wampgate_board_swap_total_bytes', 'gauge', 'Swap space.', h.memory.swapTotalBytes);
    r.add('wampgate_board_swap_used_bytes', 'gauge', 'Swap in use.', h.memory.swapUsedBytes);
    if (h.disk) {
      const labels = { path: h.disk.path };
      r.add('wampgate_board_disk_total_bytes', 'gauge', 'Size of the filesystem holding the data directory.', h.disk.totalBytes, labels);
      r.add('wampgate_board_disk_available_bytes', 'gauge', 'Space available to the service on that filesystem.', h.disk.availableBytes, labels);
    }
    for (const n of h.network) {
      const labels = { interface: n.name };
      r.add('wampgate_board_network_up', 'gauge', 'Network interface up (1) or down (0).', n.up ? 1 : 0, labels);
      r.add('wampgate_board_network_receive_bytes_total', 'counter', 'Bytes received on the interface.', n.rxBytes, labels);
      r.add('wampgate_board_network_transmit_bytes_total', 'counter', 'Bytes sent on the interface.', n.txBytes, labels);
    }
    r.add('wampgate_board_uptime_seconds', 'gauge', 'Seconds since the board booted.', h.uptimeSeconds);
    if (h.throttled) {
      const t = h.throttled;
      const flags: Array<[string, boolean]> = [
        ['under_voltage_now', t.underVoltageNow],
        ['frequency_capped_now', t.frequencyCappedNow],
        ['throttled_now', t.throttledNow],
        ['soft_temp_limit_now', t.softTempLimitNow],
        ['under_voltage_occurred', t.underVoltageOccurred],
        ['frequency_capped_occurred', t.frequencyCappedOccurred],
        ['throttled_occurred', t.throttledOccurred],
        ['soft_temp_limit_occurred', t.softTempLimitOccurred],
      ];
      for (const [flag, on] of flags) {
        r.add('wampgate_board_throttled', 'gauge', 'Raspberry Pi firmware throttling flags (get_throttled), 1 when set.', on ? 1 : 0, { flag });
      }
    }
    // The conventional process_* names, so stock Node/Prometheus dashboards pick them up.
    r.add('process_resident_memory_bytes', 'gauge', 'Resident memory of the wampgate process.', h.process.rssBytes);
    r.add('process_cpu_seconds_total', 'counter', 'User and system CPU time of the wampgate process.', h.process.cpuSeconds);
    r.add('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', h.process.heapUsedBytes);
    r.add('nodejs_heap_total_bytes', 'gauge', 'V8 heap reserved.', h.process.heapTotalBytes);
  }
  return r.render();
}
