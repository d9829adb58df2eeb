// The event history's writer alone, in-process (issue 12, a diagnostic beside bench/history.ts):
// the CPU to record publications through a realm's history port — pack each into its topic's
// block, number it — and flush them into a real SQLite file, every `--flush` publications as
// the writer does, with no router and no sockets. Each payload is a ~90-byte JSON args list as
// a transport hands it over (already encoded).
//
//   node dist/bench/history-writer.js [--events N (300000)] [--rounds N (5)] [--flush N (2000)] [--topics N (1)]
//
// Figures: CPU ms (process.cpuUsage) per 100k publications, each round, sorted; the smallest is
// the steadiest on a shared machine (other jobs only ever add time). And the bytes handed to
// write() per publication (/proc/self/io wchar: the WAL and its checkpoints into the file),
// which is what wears an SD card: `--flush 1` is a board whose publications come slower than
// history.flushIntervalMs, each committed on its own.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventHistoryService } from '../src/history/event-history';
import type { HistoryRule } from '../src/history/history-config';
import { setEncoded, type Payload } from '../src/protocol/messages';
import { quietLogger } from '../src/util/logger';

/** Bytes this process has passed to write() so far (Linux). */
function writtenBytes(): number {
  return Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
}

function main(argv: string[]): void {
  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const events = opt('--events', 300_000);
  const rounds = opt('--rounds', 5);
  const flushEvery = opt('--flush', 2000);
  const topics = Array.from({ length: opt('--topics', 1) }, (_, i) => `bench.t${i}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wampgate-history-writer-'));
  const rule: HistoryRule = { uri: 'bench.', match: 'prefix', maxEvents: 1e9, maxAgeMs: null };
  const service = new EventHistoryService({
    dataDir: dir,
    // Limits out of the way: the queue never fills, nothing is evicted.
    settings: { maxBytes: 2 ** 40, maxQueuedEvents: 1e9, maxQueuedBytes: 2 ** 40, flushIntervalMs: 50 },
    rules: new Map([['realm1', [rule]]]),
    logger: quietLogger,
  });
  const port = service.portFor('realm1');
  if (!port) throw new Error('no history port');
  const bytes = Buffer.from(JSON.stringify(['x'.repeat(80), 12345]));
  const publisher = { session: 42, authid: 'sensor', authrole: 'device' };
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const topic = topics[i % topics.length] as string;
      const payload: Payload = { args: ['x', i] };
      setEncoded(payload, { serializer: 'json', bytes, count: 1 });
      if (port.records(topic)) port.record({ topic, publication: i * 7919, publisher, options: {}, payload });
      if (i % flushEvery === flushEvery - 1) service.flush();
    }
    service.flush();
  };
  try {
    run(Math.min(events, 50_000)); // warm-up: JIT and the file's first pages
    const perRound: number[] = [];
    const w0 = writtenBytes();
    for (let r = 0; r < rounds; r++) {
      const c0 = process.cpuUsage();
      run(events);
      const c = process.cpuUsage(c0);
      perRound.push(((c.user + c.system) / 1000 / events) * 100_000);
    }
    const written = (writtenBytes() - w0) / (events * rounds);
    perRound.sort((a, b) => a - b);
    process.stdout.write(
      `history writer: ${events} publications x ${rounds} rounds, flush every ${flushEvery}, ${topics.length} topic(s)\n` +
        `CPU ms per 100k publications, rounds sorted: ${perRound.map((x) => x.toFixed(0)).join(' ')} (min ${perRound[0]?.toFixed(0)}, median ${perRound[Math.floor(rounds / 2)]?.toFixed(0)})\n` +
        `written to the file system: ${(written / 1024).toFixed(1)} KiB per publication\n`,
    );
  } finally {
    service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2));
