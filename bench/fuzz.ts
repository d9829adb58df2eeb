// `npm run fuzz`: the seeded fuzzer of the test suite at full length — by default 100,000 fuzzed
// frames per serializer and transport (WebSocket, RawSocket × json, msgpack, cbor) against one
// gateway in this process, then the router's RSS after every connection closed. Options:
// --frames N, --seed N. Exits non-zero when a case fails.

import { join } from 'node:path';
import { Gateway } from '../src/gateway';
import { quietLogger } from '../src/util/logger';
import { testConfig, tempDir } from '../test/integration/support/gateway';
import { runFuzz, type FuzzSerializer, type FuzzTransport } from '../test/fuzz/wamp-fuzzer';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const frames = arg('frames', 100_000);
  const seed = arg('seed', 20261206);
  const dir = tempDir('wampgate-fuzz-');
  const gateway = await Gateway.start(testConfig(join(dir.path, 'wamp.sock'), { helloTimeoutMs: 10_000, maxPendingConnectionsPerAddress: 256 }), {
    logger: quietLogger,
  });
  const ws = gateway.listeners[0]?.address as { port: number };
  const tcp = gateway.listeners[1]?.address as { port: number };
  const wsUrl = `ws://127.0.0.1:${ws.port}/ws`;
  const mib = (): number => process.memoryUsage().rss / 2 ** 20;
  const baseline = mib();
  let failed = 0;
  for (const transport of ['websocket', 'rawsocket'] as FuzzTransport[]) {
    for (const serializer of ['json', 'msgpack', 'cbor'] as FuzzSerializer[]) {
      const started = Date.now();
      const r = await runFuzz({ gateway, wsUrl, tcpPort: tcp.port, transport, serializer, seed, frames });
      failed += r.failures.length;
      const line = `${transport}/${serializer}: ${r.frames} frames, ${r.connections} connections, ${r.answered} requests answered once, ${r.aborts} ABORTed, failures ${r.failures.length}, internal_error ${gateway.router.stats.internalErrors}, ${((Date.now() - started) / 1000).toFixed(0)} s`;
      console.log(line);
      for (const f of r.failures.slice(0, 10)) console.log(`  ${f}`);
    }
  }
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 2000));
  const after = mib();
  const summary = `RSS ${baseline.toFixed(0)} MiB before, ${after.toFixed(0)} MiB after every connection closed (seed ${seed})`;
  console.log(summary);
  await gateway.stop();
  dir.remove();
  process.exit(failed > 0 || gateway.router.stats.internalErrors > 0 ? 1 : 0);
}

void main();
