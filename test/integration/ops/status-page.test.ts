// The status page as a person sees it: served by a real StatusServer, rendered by headless
// Chromium at desktop (1280 px) and phone (390 px) widths, with a scripted hour of known traffic
// in the charts and hostile client text in the data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_H } from '../../../src/ops/charts';
import { StatusServer } from '../../../src/ops/status-server';
import type { GatewayStatus } from '../../../src/ops/status-types';
import { createLogger } from '../../../src/util/logger';
import { Browser, skipBrowser } from '../../helpers/chromium';
import { EVIL, NOW, inRate, scriptedHour } from '../../fixtures/status-hour';

const hour = scriptedHour();
// The first call (the page as served) says the uplink is connecting; later calls, which only the
// page's own refresh makes, say connected. Seeing "connected" in the DOM proves the refresh ran.
let calls = 0;
let ready = true;
function status(): GatewayStatus {
  calls++;
  const s = structuredClone(hour.status);
  s.generatedAt = NOW;
  s.ready = ready;
  if (calls === 1 && s.uplink) s.uplink.state = 'connecting';
  s.series = hour.ring.snapshot();
  return s;
}

let server: StatusServer;
let base: string;
const tmp = mkdtempSync(join(tmpdir(), 'wampgate-status-'));
// Screenshots are kept where WAMPGATE_SCREENSHOT_DIR says (outside the repository), else in tmp.
const shots = process.env.WAMPGATE_SCREENSHOT_DIR ?? tmp;

before(async () => {
  server = new StatusServer({ getStatus: status, port: 0, refreshMs: 1000 });
  const { port } = await server.listen();
  base = `http://127.0.0.1:${port}`;
  mkdirSync(shots, { recursive: true });
});
after(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

function get(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; type: string; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Points of every polyline of one series in one chart, as [x, y] pairs. */
function points(html: string, chart: string, series: string): Array<[number, number]> {
  const start = html.indexOf(`data-chart="${chart}"`);
  assert.ok(start >= 0, `chart ${chart} on the page`);
  const end = html.indexOf('</figure>', start);
  const fig = html.slice(start, end);
  const out: Array<[number, number]> = [];
  for (const m of fig.matchAll(new RegExp(`data-series="${series.replace(/\./g, '\\.')}" points="([^"]*)"`, 'g'))) {
    for (const p of (m[1] ?? '').split(' ')) out.push(p.split(',').map(Number) as [number, number]);
  }
  return out;
}

test('/status.json serves the snapshot with the last hour of series', async () => {
  const r = await get('/status.json');
  assert.equal(r.status, 200);
  assert.equal(r.type, 'application/json; charset=utf-8');
  assert.equal(r.headers['cache-control'], 'no-store');
  const body = JSON.parse(r.body) as GatewayStatus;
  assert.equal(body.router?.realms[0]?.name, 'iot');
  assert.equal(body.router?.queues?.[0]?.authid, EVIL);
  const s = body.series;
  assert.ok(s);
  assert.equal(s.stepMs, 10_000);
  assert.equal(s.size, 361, 'one hour at 10 s, both ends included');
  assert.equal(s.t.length, 361);
  assert.equal(s.t.at(-1), NOW);
  // The rate at a sample in the burst is the injected 400/s, elsewhere 50/s.
  const inSeries = s.values['messages.in'] ?? [];
  const at = (ago: number): number | null | undefined => inSeries[s.t.indexOf(NOW - ago)];
  assert.equal(at(37 * 60_000), 400);
  assert.equal(at(10 * 60_000), 50);
  assert.equal(inSeries[0], null, 'no rate before the second sample');
  assert.ok(s.bytes > 0 && s.bytes < 100_000, `ring bytes ${s.bytes}`);
  assert.deepEqual(
    s.states['bridge.greenhouse-mqtt']?.map((c) => c.state),
    ['connected', 'disconnected', 'connecting', 'connected'],
  );
  const light = JSON.parse((await get('/status.json?series=0')).body) as GatewayStatus;
  assert.equal(light.series, undefined, '?series=0 leaves the series out');
});

test('/metrics serves Prometheus text', async () => {
  const r = await get('/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.type, 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(r.body, /^# HELP wampgate_ready /m);
  assert.match(r.body, /^wampgate_sessions\{realm="iot",transport="websocket"\} 5$/m);
  assert.match(r.body, /^wampgate_bridge_state\{bridge="greenhouse-mqtt",kind="mqtt",state="connected"\} 1$/m);
  assert.ok(r.body.includes('authid="<script>document.title=\\"pwned\\"</script>'), 'label quotes escaped');
});

test('/healthz is 200 when ready and 503 before', async () => {
  const ok = await get('/healthz');
  assert.equal(ok.status, 200);
  assert.equal(ok.body, 'ok\n');
  ready = false;
  try {
    assert.equal((await get('/healthz')).status, 503);
  } finally {
    ready = true;
  }
});

test('the HTML escapes client text and carries one inline script, allowed by its hash', async () => {
  const r = await get('/');
  assert.equal(r.status, 200);
  assert.equal(r.type, 'text/html; charset=utf-8');
  assert.match(String(r.headers['content-security-policy']), /script-src 'sha256-[A-Za-z0-9+/=]+'/);
  assert.ok(!r.body.includes('<script>document.title'), 'raw authid markup must not appear in the HTML');
  assert.ok(!r.body.includes('<img src=x'), 'raw markup must not appear in the HTML');
  assert.ok(r.body.includes('&#60;script&#62;document.title=&#34;pwned&#34;'), 'the authid is there, escaped');
  assert.ok(r.body.includes('read failed: &#60;script&#62;'), 'the bridge error is there, escaped');
  assert.equal((r.body.match(/<script/g) ?? []).length, 1, 'only the refresh script');
});

test('the charts are drawn on the server from the series: the burst is where it was injected', async () => {
  const html = (await get('/')).body;
  const pts = points(html, 'messages', 'messages.in');
  assert.equal(pts.length, 360, 'one point per sample with a rate');
  // In and out share the axis: its top is rounded up from the burst's 1,200/s out.
  assert.match(html, /data-chart="messages" data-top="2000"/);
  // x runs over the hour (600 user units = 60 min); y = 98 - v / 2000 * 96.
  for (const [x, y] of pts) {
    const ago = (1 - x / 600) * 3_600_000;
    const expected = CHART_H - 2 - (inRate(Math.round(ago / 10_000) * 10_000) / 2000) * (CHART_H - 4);
    assert.ok(Math.abs(y - expected) < 0.11, `point ${x},${y}: expected y ${expected}`);
  }
  assert.ok(pts.some(([, y]) => y === 78.8) && pts.some(([, y]) => y === 95.6));
  // Out is three times in.
  assert.ok(points(html, 'messages', 'messages.out').some(([, y]) => y === 40.4));
  // The MQTT bridge's three minutes without traffic sit between -25 and -22 min.
  const mqtt = points(html, 'bridge-greenhouse-mqtt', 'bridge.greenhouse-mqtt.in');
  const quiet = mqtt.filter(([x]) => x > 351 && x < 379);
  assert.ok(quiet.length > 10 && quiet.every(([, y]) => y === CHART_H - 2), 'no MQTT traffic while it was down');
  // The state strip shows the outage in red.
  assert.match(html, /<rect x="350" y="0" width="20" height="10" class="st-bad" data-state="disconnected">/);
  // Readable labels, not counter names.
  assert.ok(html.includes('>Published to WAMP<') && !html.includes('>wampPublished<'));
  assert.ok(html.includes('Slow subscriber (event dropped)'));
});

test('the three answers: flowing, a problem named, backlog draining', async () => {
  const html = (await get('/')).body;
  assert.match(html, /data-tile="flowing" data-tone="ok"><h2>Traffic<\/h2><p class="answer">Flowing</);
  assert.match(html, /data-field="rate-in">50\/s</);
  assert.match(html, /data-tile="healthy" data-tone="bad"><h2>Health<\/h2><p class="answer">1 problem</);
  assert.ok(html.includes('Bridge thermo error for 3 min'));
  assert.match(html, /data-tile="backlog" data-tone="ok"><h2>Backlog<\/h2><p class="answer">Draining</);
  assert.match(html, /300\/min; empty in about 5 min/);
});

test('only GET and HEAD, known paths, and loopback Host names are served', async () => {
  assert.equal((await get('/', {}, 'POST')).status, 405);
  assert.equal((await get('/nope')).status, 404);
  const head = await get('/status.json', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  // A DNS-rebinding page would arrive with its own host name.
  assert.equal((await get('/status.json', { Host: 'attacker.example:80' })).status, 421);
  assert.equal((await get('/status.json', { Host: 'localhost:1234' })).status, 200);
});

test('a getStatus that throws gives a 500, and the server keeps serving', async () => {
  const broken = new StatusServer({
    port: 0,
    logger: createLogger({ sink: () => {} }),
    getStatus: () => {
      throw new Error('boom');
    },
  });
  const { port } = await broken.listen();
  try {
    const r = await new Promise<number>((resolve, reject) =>
      http
        .get(`http://127.0.0.1:${port}/status.json`, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject),
    );
    assert.equal(r, 500);
    assert.equal((await get('/healthz')).status, 200);
  } finally {
    await broken.close();
  }
});

for (const viewport of [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
]) {
  test(
    `headless Chromium at ${viewport.width} px: no horizontal scrolling, charts drawn, hostile text inert, refresh works`,
    { skip: skipBrowser },
    async () => {
      const browser = await Browser.launch();
      try {
        const page = await browser.open(`${base}/`, viewport);
        // The refresh script swaps in the next answer, where the uplink is connected.
        await page.waitFor(`document.querySelector('[data-field="uplink-state"]')?.textContent === 'connected'`, 'the page to refresh itself');
        const m = await page.evaluate<{
          scrollWidth: number;
          innerWidth: number;
          widest: number;
          title: string;
          imgs: number;
          authid: boolean;
          svg: number;
          svgRight: number;
          points: string | null;
        }>(`(() => {
        const svg = document.querySelector('[data-chart="messages"] svg');
        let widest = 0;
        for (const e of document.querySelectorAll('body *')) widest = Math.max(widest, e.getBoundingClientRect().right);
        return {
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          widest,
          title: document.title,
          imgs: document.querySelectorAll('img').length,
          authid: document.body.innerText.includes('<script>document.title="pwned"</script>'),
          svg: svg.getBoundingClientRect().width,
          svgRight: svg.getBoundingClientRect().right,
          points: document.querySelector('[data-chart="messages"] polyline[data-series="messages.in"]').getAttribute('points'),
        };
      })()`);
        assert.ok(m.scrollWidth <= m.innerWidth, `page ${m.scrollWidth} px wide in a ${m.innerWidth} px viewport`);
        assert.ok(m.widest <= m.innerWidth + 0.5, `an element reaches ${m.widest} px`);
        assert.equal(m.title, 'wampgate status', 'the hostile authid never ran');
        assert.equal(m.imgs, 0, 'no element was created from the authid');
        assert.ok(m.authid, 'the authid is shown as text');
        assert.ok(m.svg > 250 && m.svgRight <= m.innerWidth, `chart ${m.svg} px wide`);
        assert.ok(m.points?.startsWith('1.7,95.6 '), `points as served: ${m.points?.slice(0, 40)}`);
        const png = join(shots, `status-${viewport.width}.png`);
        await page.screenshot(png);
        assert.ok(statSync(png).size > 20_000);
        // What a person sees first, without scrolling; and the rest in screen-sized pieces.
        const total = await page.evaluate<number>('document.documentElement.scrollHeight');
        for (let i = 0; i * viewport.height < total; i++) {
          await page.screenshot(join(shots, `status-${viewport.width}-screen${i + 1}.png`), { y: i * viewport.height, height: viewport.height });
        }
        await page.close();
      } finally {
        await browser.close();
      }
    },
  );
}
