// Memory and CPU of the status page's last hour: feeds a full hour of samples (the scripted hour
// of test/fixtures/status-hour.ts: 2 bridges, an uplink, the board) through the real sampler, in
// this process alone, and reports the rings' bytes, heap and RSS before and after, the cost of one
// sample, of rendering the page and of /status.json.
// Run: npx tsc -p . && node --expose-gc dist/bench/ops/series-memory.js

import { ChartCache } from '../../src/ops/charts';
import { renderStatusPage } from '../../src/ops/status-page';
import { scriptedHour } from '../../test/fixtures/status-hour';

const gc = (globalThis as { gc?: () => void }).gc;
function mem(): { rss: number; heap: number } {
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

const before = mem();
const t0 = process.cpuUsage();
const hour = scriptedHour();
const cpu = process.cpuUsage(t0);
const after = mem();
const samples = hour.ring.size;
console.log(
  `series: ${hour.ring.seriesCount} series × ${hour.ring.capacity} samples; ring bytes ${hour.ring.bytes} (${(hour.ring.bytes / 1024).toFixed(1)} KiB)`,
);
console.log(`sampling ${samples} samples: ${((cpu.user + cpu.system) / 1000 / samples).toFixed(3)} ms CPU per sample (fixture building included)`);
console.log(
  `heap ${mb(before.heap)} -> ${mb(after.heap)}; RSS ${mb(before.rss)} -> ${mb(after.rss)} with a full hour held${gc ? '' : ' (run with --expose-gc for steadier figures)'}`,
);

const status = { ...hour.status, series: hour.ring.snapshot() };
const json = JSON.stringify(status);
let t = process.hrtime.bigint();
const n = 50;
let html = '';
for (let i = 0; i < n; i++) html = renderStatusPage({ ...hour.status, series: hour.ring.snapshot() });
const renderMs = Number(process.hrtime.bigint() - t) / 1e6 / n;
// As the StatusServer renders: one ChartCache, so a second render within the same sample tick
// (another viewer, a refresh faster than sampling) reuses the polylines.
const cache = new ChartCache();
renderStatusPage({ ...hour.status, series: hour.ring.snapshot() }, { cache });
t = process.hrtime.bigint();
for (let i = 0; i < n; i++) renderStatusPage({ ...hour.status, series: hour.ring.snapshot() }, { cache });
const cachedMs = Number(process.hrtime.bigint() - t) / 1e6 / n;
t = process.hrtime.bigint();
for (let i = 0; i < n; i++) JSON.stringify({ ...hour.status, series: hour.ring.snapshot() });
const jsonMs = Number(process.hrtime.bigint() - t) / 1e6 / n;
console.log(
  `page: ${(html.length / 1024).toFixed(0)} KiB, ${renderMs.toFixed(1)} ms to render (${cachedMs.toFixed(1)} ms again within the same sample tick); /status.json: ${(json.length / 1024).toFixed(0)} KiB, ${jsonMs.toFixed(1)} ms`,
);
console.log(`RSS after rendering: ${mb(mem().rss)}`);
