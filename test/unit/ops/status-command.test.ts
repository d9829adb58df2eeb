import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeThrottled, type HealthSnapshot } from '../../../src/ops/health';
import { formatBytes, formatDuration, formatStatus } from '../../../src/ops/status-command';
import type { GatewayStatus } from '../../../src/ops/status-types';

const health: HealthSnapshot = {
  takenAt: 1_700_000_000_000,
  board: {
    model: 'Raspberry Pi 4 Model B Rev 1.4',
    os: 'Debian GNU/Linux 12 (bookworm)',
    kernel: '6.6',
    arch: 'arm64',
    cpuBrand: 'ARM Cortex-A72',
    cpuCores: 4,
    nodeVersion: 'v20',
  },
  cpu: { usage: 0.12, load1: 0.5, load5: 0.4, load15: 0.3, temperatureC: 61.3 },
  memory: { totalBytes: 4 * 1024 ** 3, availableBytes: 3 * 1024 ** 3, swapTotalBytes: 0, swapUsedBytes: 0 },
  process: {
    rssBytes: 55 * 1024 ** 2,
    heapUsedBytes: 12 * 1024 ** 2,
    heapTotalBytes: 20 * 1024 ** 2,
    externalBytes: 0,
    cpuSeconds: 3,
    cpuUsage: 0.004,
    uptimeSeconds: 100,
  },
  disk: { path: '/var/lib/wampgate', totalBytes: 32e9, freeBytes: 20e9, availableBytes: 19e9, usedRatio: 0.4 },
  network: [{ name: 'wlan0', up: true, operstate: 'up', ip4: '192.168.1.7', rxBytes: 1, txBytes: 2 }],
  uptimeSeconds: 90_000,
  throttled: { ...decodeThrottled(0x50005), source: 'sysfs' },
};

const status: GatewayStatus = {
  generatedAt: 1_700_000_000_000,
  version: '0.1.0',
  ready: true,
  router: {
    uptimeSeconds: 3725,
    realms: [
      { name: 'iot', sessions: { websocket: 2, serial: 1 } },
      { name: 'empty', sessions: {} },
    ],
    messagesIn: { PUBLISH: 1234, CALL: 3 },
    messagesOut: { EVENT: 9876 },
    drops: { slow_consumer_event: 3, auth_failure: 0 },
    queues: [{ sessionId: 42, realm: 'iot', authid: 'evil\u001b[2J', authrole: 'device', transport: 'websocket', queuedBytes: 20480, dropped: 3 }],
  },
  listeners: [{ name: 'ws', type: 'websocket', address: 'ws://127.0.0.1:8080/ws', sessions: 2 }],
  bridges: [{ name: 'greenhouse', kind: 'mqtt', state: 'connected', since: 1_700_000_000_000 - 600_000, counters: { received: 10, errors: 0 } }],
  uplink: {
    state: 'connecting',
    url: 'wss://cloud.example.com/ws',
    lastError: 'ETIMEDOUT',
    buffer: { depth: 17, bytes: 4096, oldestAgeSeconds: 42, drops: 0 },
  },
  health,
};

test('the report shows version, sessions by realm and transport, bridges, uplink, buffer and board health', () => {
  const out = formatStatus(status, 'http://127.0.0.1:8089/');
  assert.match(out, /^wampgate 0\.1\.0 at http:\/\/127\.0\.0\.1:8089\/ — ready, up 1h 2m$/m);
  assert.match(out, /^Sessions {3}3$/m);
  assert.match(out, /^ {2}iot +3 sessions \(websocket 2, serial 1\)$/m);
  assert.match(out, /^ {2}empty +0 sessions$/m);
  assert.match(out, /^Messages {3}in 1,237 \(PUBLISH 1,234, CALL 3\), out 9,876 \(EVENT 9,876\)$/m);
  assert.match(out, /^Dropped {4}slow_consumer_event 3$/m);
  assert.match(out, /^ {2}greenhouse +mqtt connected for 10m 0s; received 10$/m);
  assert.match(out, /^Uplink {5}connecting wss:\/\/cloud\.example\.com\/ws — ETIMEDOUT$/m);
  assert.match(out, /^Buffer {5}17 messages, 4\.0 KiB, oldest 42s, 0 dropped$/m);
  assert.match(out, /^Board {6}Raspberry Pi 4 Model B Rev 1\.4, Debian GNU\/Linux 12 \(bookworm\), up 1d 1h$/m);
  assert.match(out, /^CPU {8}12% busy, load 0\.50 0\.40 0\.30, 61\.3 °C$/m);
  assert.match(out, /^Disk {7}40% used/m);
});

test('throttling flags are spelled out, with the power-supply hint', () => {
  const out = formatStatus(status, 'x');
  assert.match(out, /^Power {6}NOW: UNDER-VOLTAGE, THROTTLED; since boot: under-voltage, throttled \(0x50005\) — check the power supply/m);
  const ok = formatStatus({ ...status, health: { ...health, throttled: { ...decodeThrottled(0), source: 'sysfs' } } }, 'x');
  assert.match(ok, /^Power {6}ok \(no throttling since boot\)$/m);
});

test('client-chosen text cannot drive the terminal', () => {
  const out = formatStatus(status, 'x');
  assert.ok(!out.includes('\u001b'), 'escape character shown inert');
  assert.ok(out.includes('evil\\x1b[2J'));
});

test('a minimal or empty status still renders', () => {
  assert.match(formatStatus({}, 'x'), /^wampgate \? at x$/m);
  assert.match(formatStatus({ ready: false, health: null }, 'x'), /NOT READY[\s\S]*Board {6}no health data yet/);
});

test('sizes and durations', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(null), '–');
  assert.equal(formatDuration(59), '59s');
  assert.equal(formatDuration(3600 * 49), '2d 1h');
  assert.equal(formatDuration(-1), '–');
});
