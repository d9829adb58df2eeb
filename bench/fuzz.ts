// `npm run fuzz`: the seeded fuzzer of the test suite at full length — by default 100,000 fuzzed
// frames per serializer and transport (WebSocket, RawSocket × json, msgpack, cbor) against a
// gateway in its own process (bench/hostile/router-process.ts, run with --expose-gc), so the
// router's memory is measured without the fuzzer's. Prints frames, requests owed and answered,
// ERROR URIs, ABORT reasons, internal_error, and the router's memory before, at the end and after
// every connection closed (heap, external, array buffers, native). Options: --frames N,
// --seed N, --only combination (e.g. rawsocket/cbor), --case N (replay one case; with --only),
// --malloc-arena-max N (the router's glibc MALLOC_ARENA_MAX), --snapshot DIR (heap snapshots
// before and after). Exits non-zero when a case fails.

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { RouterMemory } from './hostile/router-process';
import { startRouterChild } from './hostile/router-child';
import { testConfig, tempDir } from '../test/integration/support/gateway';
import { runFuzz, type FuzzSerializer, type FuzzTransport } from '../test/fuzz/wamp-fuzzer';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
const memLine = (m: RouterMemory): string =>
  `RSS ${mib(m.rss)} MiB (heap ${mib(m.heapUsed)}/${mib(m.heapTotal)}, external ${mib(m.external)} of which array buffers ${mib(m.arrayBuffers)}, native ${mib(m.native)}), peak ${mib(m.hwm)}`;

async function main(): Promise<void> {
  const frames = Number(arg('frames') ?? 100_000);
  const seed = Number(arg('seed') ?? 20261206);
  const only = arg('only');
  const oneCase = arg('case');
  const arenaMax = arg('malloc-arena-max');
  const snapshotDir = arg('snapshot');
  const dir = tempDir('wampgate-fuzz-');
  const config = testConfig(join(dir.path, 'wamp.sock'), { helloTimeoutMs: 10_000, maxPendingConnectionsPerAddress: 256 });
  const router = await startRouterChild({
    config,
    nodeArgs: ['--expose-gc'],
    ...(arenaMax ? { env: { MALLOC_ARENA_MAX: arenaMax } } : {}),
  });
  const ws = router.addresses[0] as { port: number };
  const tcp = router.addresses[1] as { port: number };
  const wsUrl = `ws://127.0.0.1:${ws.port}/ws`;
  if (snapshotDir) mkdirSync(snapshotDir, { recursive: true });
  const before = await router.stats(true);
  if (snapshotDir) await router.snapshot(join(snapshotDir, 'before.heapsnapshot'));
  console.log(`router pid ${router.pid}${arenaMax ? `, MALLOC_ARENA_MAX=${arenaMax}` : ''}; before: ${memLine(before.memory)}`);
  let failed = 0;
  let totalFrames = 0;
  const started = Date.now();
  for (const transport of ['websocket', 'rawsocket'] as FuzzTransport[]) {
    for (const serializer of ['json', 'msgpack', 'cbor'] as FuzzSerializer[]) {
      if (only && only !== `${transport}/${serializer}`) continue;
      const t0 = Date.now();
      const r = await runFuzz({
        wsUrl,
        tcpPort: tcp.port,
        transport,
        serializer,
        seed,
        frames,
        internalErrors: async () => (await router.stats()).internalErrors,
        ...(oneCase !== undefined ? { only: [Number(oneCase)] } : {}),
      });
      failed += r.failures.length;
      totalFrames += r.frames;
      const s = (Date.now() - t0) / 1000;
      const topErrors = Object.entries(r.errors)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([uri, n]) => `${uri} ${n}`)
        .join(', ');
      const aborts = Object.entries(r.aborts)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([why, n]) => `${why} ${n}`)
        .join(', ');
      console.log(
        `${transport}/${serializer}: ${r.frames} frames in ${s.toFixed(0)} s (${(r.frames / s).toFixed(0)}/s), ${r.connections} connections; ` +
          `${r.owed} requests owed, ${r.answered} answered once (${r.replies} replies), ${r.unanswered} unanswered; internal_error +${r.internalErrorsRise}; failures ${r.failures.length}`,
      );
      console.log(`  ERRORs: ${topErrors || 'none'}`);
      console.log(`  sessions ended by the router: ${aborts || 'none'}`);
      for (const f of r.failures.slice(0, 10)) console.log(`  FAIL ${f}`);
      const now = await router.stats();
      console.log(`  router ${memLine(now.memory)}; sessions ${now.sessions}`);
    }
  }
  // Every fuzz connection is closed by now; give the router a moment to finish closing them.
  await new Promise((r) => setTimeout(r, 2000));
  const after = await router.stats(true);
  if (snapshotDir) await router.snapshot(join(snapshotDir, 'after.heapsnapshot'));
  console.log(`${totalFrames} frames in ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${seed}; internal_error ${after.internalErrors}`);
  console.log(`after every connection closed (sessions ${after.sessions}, pending ${after.pending}, held ${after.heldBytes} B): ${memLine(after.memory)}`);
  await router.stop();
  dir.remove();
  process.exit(failed > 0 || after.internalErrors > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
