// Outbox throughput and footprint: append rates (single/batched × synchronous FULL/NORMAL), replay
// rate (peek+ack), file size and process RSS while N events are buffered. Standalone, prints a table.
// Usage: node dist/bench/outbox.js [--million | --events N] [--dir PATH] [--seconds S]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accountedBytes, encodePayload, type NewEntry } from '../src/uplink/outbox';
import { SqliteOutbox, type SqliteDurability } from '../src/uplink/sqlite-outbox';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const events = process.argv.includes('--million') ? 1_000_000 : Number(flag('--events') ?? 100_000);
const seconds = Number(flag('--seconds') ?? 2);
const baseDir = flag('--dir') ?? os.tmpdir();
const dir = fs.mkdtempSync(path.join(baseDir, 'wampgate-outbox-bench-'));
let files = 0;
const freshPath = () => path.join(dir, `bench-${++files}.db`);

// ~100 accounted bytes: a typical sensor reading.
const entry = (i: number): NewEntry => ({
  source: 'sensors',
  topic: 'com.example.sensor.temp',
  args: [i, 21.5 + (i % 10) / 10],
  kwargs: { unit: 'degC', id: 'probe-0042-livingroom-north' },
});
const entryBytes = accountedBytes(encodePayload(entry(123456)), entry(0).topic, entry(0).source);
const bigLimits = { maxCount: 10_000_000, maxBytes: 10 * 1024 ** 3 };

const rows: string[][] = [];
const row = (what: string, value: string, note = '') => {
  rows.push([what, value, note]);
  console.error(`  ${what}: ${value} ${note}`); // progress while it runs; the table comes last
};
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const fileSize = (p: string) => [p, `${p}-wal`].reduce((s, f) => s + (fs.existsSync(f) ? fs.statSync(f).size : 0), 0);

function appendRate(durability: SqliteDurability, batch: number): void {
  const ob = new SqliteOutbox({ path: freshPath(), durability, ...bigLimits });
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let n = 0;
  while (performance.now() < deadline) {
    if (batch === 1) ob.append(entry(n++));
    else {
      ob.appendBatch(Array.from({ length: batch }, () => entry(n++)));
    }
  }
  const ms = performance.now() - start;
  ob.close();
  row(
    `append ${batch === 1 ? 'single' : `batch ${batch}`}, synchronous=${durability.toUpperCase()}`,
    rate(n, ms),
    `(${n.toLocaleString('en-US')} in ${(ms / 1000).toFixed(1)} s)`,
  );
}

function fillAndReplay(): void {
  const file = freshPath();
  const ob = new SqliteOutbox({ path: file, durability: 'normal', ...bigLimits });
  const rss: string[] = [];
  const rssStart = process.memoryUsage().rss;
  const batch = 1000;
  const start = performance.now();
  for (let n = 0; n < events;) {
    ob.appendBatch(Array.from({ length: Math.min(batch, events - n) }, () => entry(n++)));
    if (n % Math.max(batch, Math.floor(events / 4 / batch) * batch) === 0 || n === events)
      rss.push(`${Math.round((n / events) * 100)}%:${mib(process.memoryUsage().rss)}`);
  }
  const fillMs = performance.now() - start;
  const stats = ob.stats();
  row(`fill ${events.toLocaleString('en-US')} events (batch ${batch}, NORMAL)`, rate(events, fillMs), `(${(fillMs / 1000).toFixed(1)} s)`);
  row('accounted bytes buffered', mib(stats.bytes), `(${entryBytes} B/event)`);
  row('file size while open (db + wal)', mib(fileSize(file)));
  row('RSS while filling', rss.join(' '), `(start ${mib(rssStart)}, JS heap now ${mib(process.memoryUsage().heapUsed)})`);
  ob.close();
  row('file size after close (checkpointed)', mib(fileSize(file)), `(${(fileSize(file) / events).toFixed(0)} B/event on disk)`);

  const openStart = performance.now();
  const re = new SqliteOutbox({ path: file, durability: 'full', ...bigLimits });
  row('reopen with N buffered (loads totals)', `${(performance.now() - openStart).toFixed(0)} ms`, `(RSS ${mib(process.memoryUsage().rss)})`);
  const replayStart = performance.now();
  let replayed = 0;
  let rssMax = 0;
  for (;;) {
    const page = re.peek(500);
    const last = page[page.length - 1];
    if (!last) break;
    re.ack({ upTo: last.seq });
    replayed += page.length;
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
  }
  const replayMs = performance.now() - replayStart;
  row('replay peek(500)+ack(upTo), FULL', rate(replayed, replayMs), `(max RSS ${mib(rssMax)})`);
  re.close();
  row('file size after replay (pages kept for reuse)', mib(fileSize(file)));
}

console.error(`outbox bench: ${events.toLocaleString('en-US')} events, ${seconds} s per rate, dir ${dir}, node ${process.version}, ${os.cpus().length} cpu`);
try {
  appendRate('full', 1);
  appendRate('normal', 1);
  appendRate('full', 100);
  appendRate('normal', 100);
  fillAndReplay();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length), 6));
const line = (r: string[]) =>
  r
    .map((cell, c) => cell.padEnd(widths[c] ?? 0))
    .join('  ')
    .trimEnd();
console.log(line(['measure', 'value', 'note']));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
