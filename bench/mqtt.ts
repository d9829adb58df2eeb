// MQTT bridge throughput: messages/s from an MQTT publisher through a real Mosquitto to (a) a
// plain MQTT subscriber and (b) the bridge and on to a WAMP subscriber, in the same run, at QoS 0
// and 1, with lost messages counted. Run: `npm run build && node dist/bench/mqtt.js [count] [rounds]`.
// The publisher is a child process so it does not share the event loop it is measuring.

import { fork, type ChildProcess } from 'node:child_process';
import { connectAsync, type MqttClient } from 'mqtt';
import { MqttBridge } from '../src/bridges/mqtt/mqtt-bridge';
import { resolveMqttBridge } from '../src/bridges/mqtt/config';
import { quietLogger } from '../src/util/logger';
import { startMosquitto, startRouter, wampClient } from '../test/integration/bridges/mqtt-helpers';
import { localSessions } from '../src/gateway-part';

type QoS = 0 | 1;

/** Child side: publish `count` messages on `topic`, as fast as the connection takes them. */
async function publisher(url: string, topic: string, qos: QoS, count: number): Promise<void> {
  const client = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
  // Messages handed to mqtt.js and not yet written (QoS 0) or acknowledged (QoS 1).
  const window = qos === 0 ? 500 : 2000;
  let acked = 0;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (sent < count && sent - acked < window) {
        const payload = `{"seq":${sent},"t":21.5}`;
        sent++;
        client.publish(topic, payload, { qos }, () => {
          acked++;
          if (acked === count) resolve();
          else if (sent - acked < window / 2) setImmediate(pump);
        });
      }
    };
    pump();
  });
  await client.endAsync();
}

interface Measure {
  received: number;
  lost: number;
  seconds: number;
  rate: number;
}

/** Starts the publisher child and waits until `count` arrived or arrivals stop for 3 s. */
async function measure(url: string, topic: string, qos: QoS, count: number, counter: { seen: Set<number>; first: number; last: number }): Promise<Measure> {
  const child: ChildProcess = fork(__filename, ['--publish', url, topic, String(qos), String(count)], { stdio: 'inherit' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let lastSize = -1;
  let idleSince = Date.now();
  while (counter.seen.size < count) {
    await new Promise((r) => setTimeout(r, 20));
    if (counter.seen.size !== lastSize) {
      lastSize = counter.seen.size;
      idleSince = Date.now();
    } else if (Date.now() - idleSince > 3000) break;
  }
  await exited;
  const seconds = (counter.last - counter.first) / 1000;
  const received = counter.seen.size;
  return { received, lost: count - received, seconds, rate: seconds > 0 ? received / seconds : 0 };
}

function newCounter(): { seen: Set<number>; first: number; last: number; add(seq: number): void } {
  const c = {
    seen: new Set<number>(),
    first: 0,
    last: 0,
    add(seq: number): void {
      const now = performance.now();
      if (c.seen.size === 0) c.first = now;
      c.last = now;
      c.seen.add(seq);
    },
  };
  return c;
}

function seqOf(text: string): number {
  return (JSON.parse(text) as { seq: number }).seq;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 100_000);
  // Interleaved rounds, median reported: a shared 2-core box is noisy, and alternating the two
  // paths keeps background load from favouring one of them.
  const rounds = Number(process.argv[3] ?? 3);
  const broker = await startMosquitto();
  const router = await startRouter();
  const results: Array<{ qos: QoS; plain: Measure[]; bridge: Measure[] }> = [];
  let run = 0;
  try {
    for (const qos of [0, 1] as const) {
      const r = { qos, plain: [] as Measure[], bridge: [] as Measure[] };
      results.push(r);
      for (let round = 0; round < rounds; round++) {
        run++;
        // (a) a plain MQTT subscriber, decoding the same JSON the bridge decodes.
        const plainCounter = newCounter();
        const plain: MqttClient = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
        plain.on('message', (_t, payload) => plainCounter.add(seqOf(payload.toString())));
        await plain.subscribeAsync(`bench/plain${run}/+`, { qos });
        r.plain.push(await measure(broker.url, `bench/plain${run}/x`, qos, count, plainCounter));
        await plain.endAsync();

        // (b) MQTT -> bridge -> WAMP subscriber over the local transport.
        const bridgeCounter = newCounter();
        const bridge = new MqttBridge(
          resolveMqttBridge({
            name: `bench${run}`,
            realm: 'realm1',
            broker: { url: broker.url, protocolVersion: 5 },
            topics: [{ mqtt: `bench/bridge${run}/+`, wamp: `bench.bridge${run}.{1}`, qos }],
          }),
          { router: localSessions(router), logger: quietLogger },
        );
        await bridge.start();
        const wamp = await wampClient(router, 'bench-subscriber');
        await wamp.subscribe(`bench.bridge${run}.x`, (_args, kwargs) => bridgeCounter.add(kwargs.seq as number));
        r.bridge.push(await measure(broker.url, `bench/bridge${run}/x`, qos, count, bridgeCounter));
        const status = bridge.status();
        await bridge.stop();
        await wamp.close();
        if (status.counters.decodeErrors + status.counters.dropped > 0) console.log(`  bridge counters: ${JSON.stringify(status.counters)}`);
      }
    }
  } finally {
    await router.close();
    await broker.close();
  }
  const fmt = (ms: Measure[]): string =>
    `${Math.round(median(ms.map((m) => m.rate)))
      .toString()
      .padStart(7)} msg/s  lost ${ms.reduce((a, m) => a + m.lost, 0)}`;
  console.log(`mqtt bench: ${count} messages x ${rounds} interleaved rounds per path, mosquitto, JSON payload ~25 bytes, node ${process.version}, median rate`);
  for (const r of results) {
    const ratio = median(r.bridge.map((m) => m.rate)) / median(r.plain.map((m) => m.rate));
    console.log(`QoS ${r.qos}  plain MQTT subscriber ${fmt(r.plain)}   bridge -> WAMP subscriber ${fmt(r.bridge)}   ratio ${ratio.toFixed(2)}`);
  }
  console.log(JSON.stringify({ bench: 'mqtt', count, rounds, results }));
}

if (process.argv[2] === '--publish') {
  const [, , , url, topic, qos, count] = process.argv;
  publisher(url!, topic!, Number(qos) as QoS, Number(count)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
