// Event history with Debian's Autobahn|Python (python3-autobahn): events published before a
// gateway restart are read back with wamp.subscription.get_events(subscription_id, limit) after
// it, over WebSocket with JSON and MessagePack; the dicts have Crossbar.io's field names.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GatewayConfig } from '../../../src/config/types';
import { Gateway } from '../../../src/gateway';
import { quietLogger } from '../../../src/util/logger';
import { deferred, tempDir, testConfig, within } from '../support/gateway';
import { openAutobahn } from '../support/third-party';

const SCRIPT = String.raw`
import asyncio, json, sys
from autobahn.asyncio.component import Component

url, serializer, topic, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
comp = Component(transports=[{"type": "websocket", "url": url, "serializers": [serializer], "max_retries": 0}], realm="realm1")

@comp.on_join
async def joined(session, details):
    try:
        sub = await session.subscribe(lambda *a, **k: None, topic)
        events = await session.call("wamp.subscription.get_events", sub.id, limit)
        print(json.dumps({"subscription": sub.id, "events": events}), flush=True)
    except Exception as e:
        print(json.dumps({"error": repr(e)}), flush=True)
    await session.leave()

# Debian 12's python3-autobahn: component.run() needs asyncio.coroutine (gone in 3.11); drive start().
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
try:
    loop.run_until_complete(comp.start(loop=loop))
except Exception:
    pass
`;

function findPython(): { python?: string; reason: string } {
  const tried: string[] = [];
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(candidate, ['-c', 'import autobahn, txaio'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
      return { python: candidate, reason: candidate };
    } catch (err) {
      tried.push(
        `${candidate}: ${
          String((err as { stderr?: string }).stderr ?? err)
            .trim()
            .split('\n')
            .pop() ?? ''
        }`,
      );
    }
  }
  return { reason: `Autobahn|Python is not importable (apt-get install python3-autobahn); tried ${tried.join('; ')}` };
}

const found = findPython();
let dir: ReturnType<typeof tempDir>;
let scriptPath: string;
before(() => {
  dir = tempDir('wampgate-history-py-');
  scriptPath = join(dir.path, 'get_events.py');
  writeFileSync(scriptPath, SCRIPT);
});
after(() => dir.remove());

function runPython(args: string[]): Promise<{ subscription?: number; events?: Array<Record<string, unknown>>; error?: string }> {
  const py = spawn(found.python as string, [scriptPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  py.stdout.on('data', (d: Buffer) => (out += d.toString()));
  py.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = deferred<{ subscription?: number; events?: Array<Record<string, unknown>>; error?: string }>();
  py.on('close', () => {
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (line) done.resolve(JSON.parse(line) as never);
    else done.reject(new Error(`Autobahn|Python printed no answer; stderr:\n${err}`));
  });
  return within(done.promise, 'the Autobahn|Python client to answer').finally(() => {
    if (py.exitCode === null) py.kill('SIGKILL');
  });
}

const realms: GatewayConfig['realms'] = [{ name: 'realm1', history: [{ uri: 'plant.', match: 'prefix', maxEvents: 50 }] }];

async function start(): Promise<{ gateway: Gateway; wsUrl: string }> {
  const config = testConfig(join(dir.path, 'wamp.sock'), {}, realms);
  config.dataDir = join(dir.path, 'data');
  const gateway = await Gateway.start(config, { logger: quietLogger });
  return { gateway, wsUrl: `ws://127.0.0.1:${(gateway.listeners[0]?.address as { port: number }).port}/ws` };
}

test('Autobahn|Python reads the last N events after a gateway restart (json and msgpack)', async (t) => {
  if (!found.python) {
    if (process.env.CI) assert.fail(found.reason);
    t.skip(found.reason);
    return;
  }
  let { gateway, wsUrl } = await start();
  const publications: number[] = [];
  try {
    const ab = await openAutobahn({ url: wsUrl });
    for (let i = 0; i < 6; i++) {
      const pub = await ab.session.publish('plant.boiler.temp', [20 + i], { seq: i }, { acknowledge: true });
      publications.push((pub as { id: number }).id);
    }
    await ab.close();
    await gateway.stop();
    ({ gateway, wsUrl } = await start());
    for (const serializer of ['json', 'msgpack']) {
      const answer = await runPython([wsUrl, serializer, 'plant.boiler.temp', '4']);
      assert.equal(answer.error, undefined, `Autobahn|Python (${serializer}) got an error: ${String(answer.error)}`);
      const events = answer.events ?? [];
      assert.deepEqual(
        events.map((e) => e.publication),
        publications.slice(2).reverse(),
        `${serializer}: the last four, newest first`,
      );
      assert.deepEqual(events[0]?.args, [25]);
      assert.deepEqual(events[0]?.kwargs, { seq: 5 });
      for (const k of ['time_ns', 'realm', 'session_id', 'authid', 'authrole', 'publication', 'topic', 'args', 'kwargs'])
        assert.ok(k in (events[0] ?? {}), `${serializer}: field ${k}`);
      assert.equal(events[0]?.topic, 'plant.boiler.temp');
      assert.equal(events[0]?.subscription, answer.subscription);
      // Exact nanoseconds over msgpack and JSON alike (Python ints are unbounded).
      assert.equal(typeof events[0]?.time_ns, 'number');
    }
  } finally {
    await gateway.stop();
  }
});
