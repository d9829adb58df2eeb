// The seeded fuzzer (test/fuzz/wamp-fuzzer.ts) with a bounded count in every `npm test`: mutated
// WAMP requests and damaged raw frames over WebSocket and RawSocket, each serializer. Every
// request the router accepted is answered exactly once (or the connection ABORTed), the
// internal_error counter stays 0, and a fresh client still works. `npm run fuzz` runs the same
// with ≥ 100k frames per serializer and transport.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertServes, startTestGateway, type TestGateway } from '../support/gateway';
import { runFuzz, type FuzzSerializer, type FuzzTransport } from '../../fuzz/wamp-fuzzer';

const SEED = 20261206;
const FRAMES = 1500;

let tg: TestGateway;
before(async () => {
  tg = await startTestGateway({ helloTimeoutMs: 10_000, maxPendingConnectionsPerAddress: 256 });
});
after(async () => {
  await tg.stop();
});

for (const transport of ['websocket', 'rawsocket'] as FuzzTransport[]) {
  for (const serializer of ['json', 'msgpack', 'cbor'] as FuzzSerializer[]) {
    test(`fuzz ${transport}/${serializer}: ${FRAMES} mutated frames, every accepted request answered once, internal_error 0`, async () => {
      const report = await runFuzz({
        wsUrl: tg.wsUrl,
        tcpPort: tg.tcpPort,
        transport,
        serializer,
        seed: SEED,
        frames: FRAMES,
        internalErrors: () => tg.gateway.router.stats.internalErrors,
      });
      assert.deepEqual(report.failures, [], `fuzzing found: ${report.failures.slice(0, 5).join('; ')}`);
      assert.ok(report.frames >= FRAMES, `sent ${report.frames} frames`);
      assert.ok(report.answered > 0, 'some fuzzed requests were accepted and answered');
      assert.ok(report.replies > 0, 'some fuzzed requests got a reply, not only ERRORs: the mutations are mild enough to reach routing');
      assert.equal(report.unanswered, 0);
      assert.equal(tg.gateway.router.stats.internalErrors, 0);
      await assertServes(tg, transport === 'websocket' ? 'websocket' : 'rawsocket-tcp', serializer);
    });
  }
}
