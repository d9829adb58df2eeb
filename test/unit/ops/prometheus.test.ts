import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeLabelValue, renderPrometheus } from '../../../src/ops/prometheus';
import type { GatewayStatus } from '../../../src/ops/status-types';
import type { HealthSnapshot } from '../../../src/ops/health';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Parsed {
  families: Map<string, { type: string; help: string; samples: Sample[] }>;
}

/**
 * A strict reader of the text exposition format 0.0.4, written from the format description:
 * HELP/TYPE comments, samples `name{label="value",...} value`, label values with \\ \" \n
 * escapes, each family once and contiguous with TYPE before its samples.
 */
function parseExposition(text: string): Parsed {
  assert.ok(text === '' || text.endsWith('\n'), 'ends with a newline');
  const families: Parsed['families'] = new Map();
  const closed = new Set<string>();
  let current: string | null = null;
  const open = (name: string): { type: string; help: string; samples: Sample[] } => {
    if (current !== name) {
      assert.ok(!closed.has(name), `family ${name} is not contiguous`);
      if (current) closed.add(current);
      current = name;
    }
    let f = families.get(name);
    if (!f) families.set(name, (f = { type: 'untyped', help: '', samples: [] }));
    return f;
  };
  const lines = text.split('\n');
  lines.pop();
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      assert.ok(m, `bad comment, ${where}`);
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      const f = open(name);
      if (kind === 'TYPE') {
        assert.equal(f.samples.length, 0, `TYPE after samples, ${where}`);
        assert.equal(f.type, 'untyped', `second TYPE, ${where}`);
        assert.match(rest, /^(counter|gauge|histogram|summary|untyped)$/, where);
        f.type = rest;
      } else {
        assert.equal(f.help, '', `second HELP, ${where}`);
        assert.ok(!/\\[^\\n]/.test(rest.replace(/\\\\/g, '')), `bad escape in HELP, ${where}`);
        f.help = rest;
      }
      continue;
    }
    assert.notEqual(line.trim(), '', `blank line, ${where}`);
    // name, optional labels (parsed char by char for escapes), value
    const nm = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    assert.ok(nm, `bad metric name, ${where}`);
    const name = nm[1] as string;
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === '{') {
      pos++;
      while (line[pos] !== '}') {
        const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(pos));
        assert.ok(lm, `bad label at ${pos}, ${where}`);
        const lname = lm[1] as string;
        assert.ok(!(lname in labels), `duplicate label ${lname}, ${where}`);
        pos += lm[0].length;
        let value = '';
        for (;;) {
          const c = line[pos];
          assert.ok(c !== undefined, `unterminated label value, ${where}`);
          if (c === '"') break;
          if (c === '\\') {
            const e = line[pos + 1];
            assert.ok(e === '\\' || e === '"' || e === 'n', `bad escape \\${e}, ${where}`);
            value += e === 'n' ? '\n' : e;
            pos += 2;
          } else {
            value += c;
            pos++;
          }
        }
        labels[lname] = value;
        pos++;
        if (line[pos] === ',') pos++;
        else assert.equal(line[pos], '}', `expected , or }, ${where}`);
      }
      pos++;
    }
    const vm = /^ (NaN|[+-]Inf|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/.exec(line.slice(pos));
    assert.ok(vm, `bad value, ${where}`);
    const f = open(name);
    assert.notEqual(f.type, 'untyped', `sample before TYPE, ${where}`);
    if (f.type === 'counter') {
      assert.ok(name.endsWith('_total'), `counter ${name} should end in _total`);
      assert.ok(Number(vm[1]) >= 0, `negative counter, ${where}`);
    }
    const key = JSON.stringify(Object.entries(labels).sort());
    assert.ok(!f.samples.some((s) => JSON.stringify(Object.entries(s.labels).sort()) === key), `duplicate series, ${where}`);
    f.samples.push({ name, labels, value: Number(vm[1]) });
  }
  for (const [name, f] of families) {
    assert.notEqual(f.help, '', `${name} has no HELP`);
    assert.ok(f.samples.length > 0, `${name} has no samples`);
  }
  return { families };
}

const health: HealthSnapshot = {
  takenAt: 1_700_000_000_000,
  board: {
    model: 'Raspberry Pi 4 Model B Rev 1.4',
    os: 'Debian GNU/Linux 12 (bookworm)',
    kernel: '6.6.31',
    arch: 'arm64',
    cpuBrand: 'ARM Cortex-A72',
    cpuCores: 4,
    nodeVersion: 'v20.19.0',
  },
  cpu: { usage: 0.125, load1: 0.3, load5: 0.2, load15: 0.1, temperatureC: 51.1 },
  memory: { totalBytes: 4e9, availableBytes: 3e9, swapTotalBytes: 1e8, swapUsedBytes: 0 },
  process: { rssBytes: 52e6, heapUsedBytes: 12e6, heapTotalBytes: 20e6, externalBytes: 1e6, cpuSeconds: 12.5, cpuUsage: 0.01, uptimeSeconds: 100 },
  disk: { path: '/var/lib/wampgate', totalBytes: 32e9, freeBytes: 20e9, availableBytes: 18e9, usedRatio: 0.4 },
  network: [
    { name: 'eth0', up: true, operstate: 'up', ip4: '192.168.1.5', rxBytes: 1000, txBytes: 2000 },
    { name: 'wlan0', up: false, operstate: 'down', ip4: null, rxBytes: null, txBytes: null },
  ],
  uptimeSeconds: 3600,
  throttled: {
    raw: 0x50005,
    source: 'sysfs',
    underVoltageNow: true,
    frequencyCappedNow: false,
    throttledNow: true,
    softTempLimitNow: false,
    underVoltageOccurred: true,
    frequencyCappedOccurred: false,
    throttledOccurred: true,
    softTempLimitOccurred: false,
  },
};

const full: GatewayStatus = {
  ready: true,
  router: {
    uptimeSeconds: 120,
    realms: [
      { name: 'iot', sessions: { websocket: 2, serial: 1 } },
      { name: 'empty', sessions: {} },
    ],
    messagesIn: { PUBLISH: 10, CALL: 2 },
    messagesOut: { EVENT: 30 },
    drops: { queue_full: 4 },
    queues: [{ sessionId: 7, realm: 'iot', authid: 'evil"\\\nname', authrole: 'device', transport: 'websocket', queuedBytes: 2048, queuedMessages: 3 }],
  },
  bridges: [{ name: 'mqtt-main', kind: 'mqtt', state: 'connected', counters: { received: 5, published: 6 } }],
  uplink: { state: 'disconnected', lastError: 'ECONNREFUSED', buffer: { depth: 17, bytes: 4096, oldestAgeSeconds: null, drops: 0 } },
  health,
};

test('a full status renders valid exposition text', () => {
  const { families } = parseExposition(renderPrometheus(full));
  const one = (name: string, labels: Record<string, string> = {}): number | undefined =>
    families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(one('wampgate_ready'), 1);
  assert.equal(one('wampgate_sessions', { realm: 'iot', transport: 'websocket' }), 2);
  assert.equal(one('wampgate_realm_up', { realm: 'empty' }), 1);
  assert.equal(one('wampgate_messages_received_total', { type: 'PUBLISH' }), 10);
  assert.equal(one('wampgate_messages_dropped_total', { reason: 'queue_full' }), 4);
  assert.equal(one('wampgate_bridge_state', { bridge: 'mqtt-main', state: 'connected' }), 1);
  assert.equal(one('wampgate_bridge_state', { bridge: 'mqtt-main', state: 'error' }), 0);
  assert.equal(one('wampgate_bridge_events_total', { bridge: 'mqtt-main', event: 'published' }), 6);
  assert.equal(one('wampgate_uplink_state', { state: 'disconnected' }), 1);
  assert.equal(one('wampgate_uplink_buffer_messages'), 17);
  assert.equal(one('wampgate_board_throttled', { flag: 'under_voltage_now' }), 1);
  assert.equal(one('wampgate_board_throttled', { flag: 'soft_temp_limit_now' }), 0);
  assert.equal(one('wampgate_board_network_up', { interface: 'wlan0' }), 0);
  assert.equal(families.get('wampgate_board_network_receive_bytes_total')?.samples.length, 1, 'null counters are left out');
  assert.equal(one('process_resident_memory_bytes'), 52e6);
  assert.equal(families.get('wampgate_board_cpu_usage_ratio')?.type, 'gauge');
});

test('label values with quotes, backslashes and newlines are escaped and read back intact', () => {
  const text = renderPrometheus(full);
  assert.ok(text.includes('authid="evil\\"\\\\\\nname"'), text);
  const { families } = parseExposition(text);
  assert.equal(families.get('wampgate_session_queue_bytes')?.samples[0]?.labels.authid, 'evil"\\\nname');
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
});

test('every part is optional: empty and partial statuses render valid text', () => {
  assert.equal(renderPrometheus({}), '');
  const { families } = parseExposition(renderPrometheus({ uplink: { state: 'connecting' } }));
  assert.deepEqual([...families.keys()], ['wampgate_uplink_state']);
  parseExposition(
    renderPrometheus({ health: { ...health, disk: null, throttled: null, network: [], cpu: { ...health.cpu, usage: null, temperatureC: null } } }),
  );
  parseExposition(renderPrometheus({ router: { uptimeSeconds: 1, realms: [] }, bridges: [] }));
});

test('the test parser rejects what the format forbids', () => {
  assert.throws(() => parseExposition('# TYPE a gauge\na{x="\\t"} 1\n'));
  assert.throws(() => parseExposition('# HELP a h\n# TYPE a gauge\na 1\n# HELP b h\n# TYPE b gauge\nb 1\na 2\n'));
  assert.throws(() => parseExposition('a 1\n'));
  assert.throws(() => parseExposition('# HELP a h\n# TYPE a counter\na 1\n'));
});
