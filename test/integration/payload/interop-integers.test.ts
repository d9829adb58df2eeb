// Exact payloads across serializers with third-party clients (issue 9): the edge integers 0,
// ±(2^53−1), ±2^53, 2^53+1, 2^63−1, −2^63, 2^64−1 and a byte string, through RPC and pub/sub,
// between Autobahn|Python (Debian's python3-autobahn; JSON and MessagePack, exact Python ints),
// AutobahnJS (CBOR, whose node-cbor carries BigInt; JSON up to 2^53) and wampy (MessagePack,
// msgpackr writes BigInt as 64-bit integers). Python reports what it received as repr() strings,
// so the check is made where the values are exact, not after a lossy JavaScript decode.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deferred, Inbox, startTestGateway, tempDir, within, type TestGateway } from '../support/gateway';
import { openAutobahn, openWampy, type AbClient, type AbSerializerName } from '../support/third-party';

const SCRIPT = String.raw`
import asyncio, json, sys
from autobahn.asyncio.component import Component
from autobahn.wamp.types import PublishOptions, CallResult

url, serializer = sys.argv[1], sys.argv[2]
EDGE = [0, 2**53-1, -(2**53-1), 2**53, -(2**53), 2**53+1, 2**63-1, -(2**63), 2**64-1, b'\x00\x01\x02']

def say(**kw):
    print(json.dumps(kw), flush=True)

def reprs(args):
    return ['%s:%r' % (type(a).__name__, a) for a in args]

comp = Component(transports=[{"type": "websocket", "url": url, "serializers": [serializer], "max_retries": 0}], realm="realm1")

@comp.on_join
async def joined(session, details):
    def on_event(*args):
        session.publish("com.py.seen", *reprs(args), options=PublishOptions(acknowledge=False))
    await session.subscribe(on_event, "com.py.topic")
    await session.register(lambda *args: reprs(args), "com.py.repr")
    async def go():
        res = await session.call("com.js.echo", *EDGE)
        res = list(res.results) if isinstance(res, CallResult) else [res]
        return [res == EDGE] + reprs(res)
    await session.register(go, "com.py.go")
    say(step="ready")

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
loop.run_until_complete(comp.start(loop=loop))
`;

function findPython(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(candidate, ['-c', 'import autobahn, txaio'], { stdio: 'ignore', timeout: 10_000 });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

const python = findPython();
const EXPECTED = [
  'int:0',
  'int:9007199254740991',
  'int:-9007199254740991',
  'int:9007199254740992',
  'int:-9007199254740992',
  'int:9007199254740993',
  'int:9223372036854775807',
  'int:-9223372036854775808',
  'int:18446744073709551615',
  "bytes:b'\\x00\\x01\\x02'",
];
/** What a JavaScript client sends for EDGE: BigInt wherever a double is not exact or the
 * client library would write a float (msgpackr writes numbers above 2^32 as float64). */
const EDGE_JS: unknown[] = [
  0,
  2n ** 53n - 1n,
  -(2n ** 53n - 1n),
  2n ** 53n,
  -(2n ** 53n),
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 64n - 1n,
  Buffer.from([0, 1, 2]),
];

let tg: TestGateway;
let dir: ReturnType<typeof tempDir>;
let scriptPath: string;

before(async () => {
  tg = await startTestGateway();
  dir = tempDir('wampgate-py-int-');
  scriptPath = join(dir.path, 'edge.py');
  writeFileSync(scriptPath, SCRIPT);
});
after(async () => {
  await tg.stop();
  dir.remove();
});

async function startPython(serializer: 'json' | 'msgpack'): Promise<ChildProcess> {
  assert.ok(python, 'Autobahn|Python is not importable (apt-get install python3-autobahn)');
  const py = spawn(python, [scriptPath, tg.wsUrl, serializer], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = deferred();
  let stderr = '';
  py.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  py.stdout?.on('data', (d: Buffer) => {
    if (d.toString().includes('"ready"')) ready.resolve();
  });
  py.once('exit', (code) => ready.reject(new Error(`python exited (${code}) before ready: ${stderr}`)));
  await within(ready.promise, `Autobahn|Python (${serializer}) to join and register`);
  return py;
}

/** Subscribes to com.py.seen with AutobahnJS JSON (the reprs are plain strings). */
async function seenInbox(): Promise<{ client: AbClient; inbox: Inbox<unknown[]> }> {
  const client = await openAutobahn({ url: tg.wsUrl, serializer: 'json' });
  const inbox = new Inbox<unknown[]>();
  await client.session.subscribe('com.py.seen', (args) => inbox.push(args));
  return { client, inbox };
}

for (const pySerializer of ['json', 'msgpack'] as const) {
  for (const js of ['cbor', 'json'] as AbSerializerName[]) {
    test(`AutobahnJS ${js} → Autobahn|Python ${pySerializer}: the edge integers arrive exactly, by CALL and by EVENT`, async () => {
      const py = await startPython(pySerializer);
      const { client: watcher, inbox } = await seenInbox();
      const ab = await openAutobahn({ url: tg.wsUrl, serializer: js });
      try {
        // AutobahnJS's JSON serializer cannot write a BigInt: it carries the values a double holds.
        const count = js === 'json' ? 5 : EDGE_JS.length;
        const values = js === 'json' ? [0, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, -(2 ** 53)] : EDGE_JS;
        const got = await within(ab.session.call<unknown[]>('com.py.repr', values), 'the com.py.repr call');
        assert.deepEqual(got, EXPECTED.slice(0, count));
        void ab.session.publish('com.py.topic', values);
        assert.deepEqual(await inbox.next('the reprs of the event Python received'), EXPECTED.slice(0, count));
      } finally {
        await ab.close();
        await watcher.close();
        py.kill();
      }
    });
  }

  test(`Autobahn|Python ${pySerializer} → AutobahnJS cbor callee → back: the edge integers survive both crossings`, async () => {
    const ab = await openAutobahn({ url: tg.wsUrl, serializer: 'cbor' });
    const seen: unknown[][] = [];
    await ab.session.register('com.js.echo', (args) => {
      seen.push(args);
      return new (require('autobahn') as { Result: new (a: unknown[]) => unknown }).Result(args);
    });
    const py = await startPython(pySerializer);
    try {
      const got = await within(ab.session.call<unknown>('com.py.go'), 'com.py.go (Python calls the AutobahnJS echo)');
      const list = Array.isArray(got) ? got : [got];
      assert.deepEqual(list.slice(1), EXPECTED, 'Python got back exactly what it sent');
      assert.equal(list[0], true);
      // And the CBOR side saw the exact values (node-cbor gives BigInt beyond 2^53).
      const inJs = seen[0] ?? [];
      assert.equal(BigInt(inJs[8] as bigint), 2n ** 64n - 1n);
      assert.equal(BigInt(inJs[7] as bigint), -(2n ** 63n));
      assert.equal(BigInt(inJs[5] as bigint), 2n ** 53n + 1n);
    } finally {
      await ab.close();
      py.kill();
    }
  });

  test(`wampy msgpack → Autobahn|Python ${pySerializer}: 64-bit integers arrive exactly, by CALL and by EVENT`, async () => {
    const py = await startPython(pySerializer);
    const { client: watcher, inbox } = await seenInbox();
    const w = await openWampy(tg.wsUrl, 'msgpack');
    try {
      const res = await within(w.wampy.call('com.py.repr', EDGE_JS), 'wampy call to com.py.repr');
      assert.deepEqual(res.argsList?.[0], EXPECTED); // Python returned one list
      await w.wampy.publish('com.py.topic', EDGE_JS);
      assert.deepEqual(await inbox.next('the reprs of the event Python received from wampy'), EXPECTED);
    } finally {
      await w.close();
      await watcher.close();
      py.kill();
    }
  });
}
