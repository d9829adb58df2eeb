// The ops part inside a real gateway: health over WAMP (event, retained event, procedures) and the
// status listener (/metrics, /status.json, the page in headless Chromium) reflecting live sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WampClient } from '../../../src/client/wamp-client';
import { defaultConfig } from '../../../src/config/defaults';
import { Gateway } from '../../../src/gateway';
import type { HealthSnapshot } from '../../../src/ops/health';
import { opsPartFactory, type OpsPartStatus } from '../../../src/ops/ops-part';
import { healthSection, statusSection } from '../../../src/ops/ops-config';
import { withSection } from '../../../src/config/section';
import type { GatewayStatus } from '../../../src/ops/status-types';
import { jsonSerializer } from '../../../src/serializers/json';
import { connectWebSocket } from '../../../src/transports/websocket/client';
import { Browser, skipBrowser } from '../../helpers/chromium';
import { httpGet } from '../../helpers/http';
import { captureLogger } from '../../helpers/local-router';
import { attachLocal } from '../../../src/transports/local';

const tmp = mkdtempSync(join(tmpdir(), 'wampgate-ops-part-'));
let gateway: Gateway;
let base: string;
const clients: WampClient[] = [];

function get(path: string): Promise<{ status: number; body: string }> {
  return httpGet(`${base}${path}`);
}

async function localClient(): Promise<WampClient> {
  // An in-process client as an embedding app would attach it (the gateway authenticates only
  // connections that arrive on a configured listener).
  const peer = attachLocal(gateway.router, 'ops-test', { authid: `test-${clients.length}`, authrole: 'test' });
  const c = await WampClient.connect(peer, { realm: 'realm1', timeoutMs: 5000 });
  clients.push(c);
  return c;
}

async function wsClient(): Promise<WampClient> {
  const ws = gateway.listeners.find((l) => l.config.type === 'websocket');
  assert.ok(ws && 'port' in ws.address);
  const peer = await connectWebSocket({ url: `ws://127.0.0.1:${ws.address.port}/ws`, serializer: jsonSerializer });
  const c = await WampClient.connect(peer, { realm: 'realm1', timeoutMs: 5000 });
  clients.push(c);
  return c;
}

before(async () => {
  const config = defaultConfig();
  for (const l of config.listeners) l.port = 0;
  // Sampled every second so the series test waits seconds, not minutes.
  withSection(config, statusSection, { port: 0, sampleIntervalMs: 1000 });
  // The monitor's minimum: the test waits for one interval at most.
  withSection(config, healthSection, { intervalMs: 1000 });
  config.dataDir = tmp;
  gateway = await Gateway.start(config, { logger: captureLogger().logger, parts: [opsPartFactory] });
  const ops = gateway.partStatus().ops?.detail as OpsPartStatus;
  assert.match(ops.url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/);
  base = (ops.url ?? '').replace(/\/$/, '');
});

after(async () => {
  for (const c of clients) if (!c.closed) await c.close();
  await gateway.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function isSnapshot(v: unknown): v is HealthSnapshot {
  const s = v as HealthSnapshot;
  return typeof s?.takenAt === 'number' && typeof s.board?.kernel === 'string' && typeof s.process?.rssBytes === 'number';
}

test('a subscriber receives health snapshots on wampgate.health, and a late one gets the latest with get_retained', async () => {
  const a = await wsClient();
  const first = new Promise<unknown>((resolve) => void a.subscribe('wampgate.health', (args) => resolve(args[0])));
  const snap = await first;
  assert.ok(isSnapshot(snap), JSON.stringify(snap).slice(0, 200));
  assert.equal(snap.disk?.path, tmp, 'disk of the data directory');

  const late = await localClient();
  const retained = await new Promise<{ snap: unknown; retained: unknown }>((resolve) => {
    void late.subscribe('wampgate.health', (args, _kw, details) => resolve({ snap: args[0], retained: details.retained }), { get_retained: true });
  });
  assert.equal(retained.retained, true);
  assert.ok(isSnapshot(retained.snap));
});

test('wampgate.health.get returns the latest snapshot and wampgate.status.get the full status', async () => {
  const c = await localClient();
  const health = await c.call('wampgate.health.get');
  assert.ok(isSnapshot(health.args[0]));
  const status = (await c.call('wampgate.status.get')).args[0] as GatewayStatus;
  assert.equal(status.ready, true);
  const realm1 = status.router?.realms.find((r) => r.name === 'realm1');
  assert.ok((realm1?.sessions.local ?? 0) >= 1, JSON.stringify(realm1));
  assert.ok(status.listeners?.some((l) => l.name === 'websocket'));
  assert.deepEqual(status.bridges, []);
  assert.equal(status.uplink, undefined);
});

test('/metrics shows the session under its realm and transport, and counters grow after a publish', async () => {
  const ws = await wsClient();
  const sessions = (body: string, transport: string): number =>
    Number(new RegExp(`^wampgate_sessions\\{realm="realm1",transport="${transport}"\\} (\\d+)$`, 'm').exec(body)?.[1] ?? 0);
  const publishes = (body: string): number => Number(/^wampgate_messages_received_total\{type="PUBLISH"\} (\d+)$/m.exec(body)?.[1] ?? 0);
  const before = await get('/metrics');
  assert.equal(before.status, 200);
  const wsSessions = clients.filter((c) => !c.closed && c.peer.transport.type === 'websocket').length;
  assert.equal(sessions(before.body, 'websocket'), wsSessions);
  // The ops session is the router's own (hidden): only the test's local clients count.
  assert.equal(sessions(before.body, 'local'), clients.filter((c) => !c.closed && c.peer.transport.type === 'local').length);
  await ws.publish('com.example.reading', [21.5], {}, { acknowledge: true });
  await ws.publish('com.example.reading', [21.6], {}, { acknowledge: true });
  const after = await get('/metrics');
  assert.ok(publishes(after.body) >= publishes(before.body) + 2, `${publishes(before.body)} -> ${publishes(after.body)}`);
  assert.match(after.body, /^wampgate_ready 1$/m);
  assert.match(after.body, /^process_resident_memory_bytes \d+$/m);
  assert.match(after.body, /^wampgate_session_queue_bytes\{session="\d+",realm="realm1",authid="[^"]*",transport="websocket"\} \d+$/m);
});

test('/status.json lists the sessions, and one that leaves is no longer counted', async () => {
  const count = (s: GatewayStatus): number =>
    Object.values(s.router?.realms.find((r) => r.name === 'realm1')?.sessions ?? {}).reduce((a, n) => a + (n ?? 0), 0);
  const c = await localClient();
  const withIt = JSON.parse((await get('/status.json')).body) as GatewayStatus;
  assert.ok(withIt.router?.queues?.some((q) => q.sessionId === c.sessionId));
  await c.close();
  const without = JSON.parse((await get('/status.json')).body) as GatewayStatus;
  assert.equal(count(without), count(withIt) - 1);
  assert.equal(count(without), clients.filter((x) => !x.closed).length);
  assert.equal((await get('/healthz')).status, 200);
});

test('the live gateway samples its traffic: 200 publishes appear in the messages-in series', async () => {
  const ws = await wsClient();
  const total = (st: GatewayStatus): number => {
    const s = st.series;
    assert.ok(s, 'series in /status.json');
    const v = s.values['messages.in'] ?? [];
    let n = 0;
    for (let i = 1; i < s.t.length; i++) n += ((v[i] ?? 0) * ((s.t[i] as number) - (s.t[i - 1] as number))) / 1000;
    return n;
  };
  const before = total(JSON.parse((await get('/status.json')).body) as GatewayStatus);
  for (let i = 0; i < 200; i++) await ws.publish('com.example.sampled', [i], {}, { acknowledge: true });
  const deadline = Date.now() + 10_000;
  let after = before;
  while (Date.now() < deadline) {
    after = total(JSON.parse((await get('/status.json')).body) as GatewayStatus);
    if (after - before >= 190) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  // Rates are per monotonic second and summed over wall-clock intervals: allow 5% between the clocks.
  assert.ok(after - before >= 190, `messages counted in the series: ${before} -> ${after}`);
  const metrics = (await get('/metrics')).body;
  assert.match(metrics, /^wampgate_status_series_capacity 3601$/m, 'one hour at 1 s');
  assert.match(metrics, /^wampgate_status_series_bytes \d+$/m);
});

test('the status page in headless Chromium shows the live session count and the charts', { skip: skipBrowser }, async () => {
  const open = clients.filter((x) => !x.closed).length;
  assert.ok(open >= 2);
  const browser = await Browser.launch();
  try {
    const page = await browser.open(`${base}/`, { width: 1280, height: 900 });
    const seen = await page.evaluate<{ count: string | undefined; lines: number; realm: boolean }>(`({
      count: document.querySelector('[data-field="session-count"]')?.textContent,
      lines: document.querySelectorAll('[data-chart="messages"] polyline').length,
      realm: document.body.innerText.includes('realm1'),
    })`);
    assert.equal(seen.count, String(open));
    assert.ok(seen.lines >= 2, 'in and out drawn from the live samples');
    assert.ok(seen.realm);
    await page.close();
  } finally {
    await browser.close();
  }
});

test('stopping the part closes the status listener; the gateway stop is clean', async () => {
  const ops = gateway.parts.find((p) => p.name === 'ops');
  assert.ok(ops);
  await ops.stop();
  await assert.rejects(get('/status.json'), /ECONNREFUSED/);
  assert.equal((gateway.partStatus().ops?.detail as OpsPartStatus).url, null);
});
