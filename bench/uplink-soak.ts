// Soak of the uplink against a Crossbar-like RawSocket peer: the ping-blind fake of the tests
// (test/fixtures/ping-blind-rawsocket-proxy.ts: Twisted's framing, closes on a header read as a
// length over 16 MiB) in front of a real wampgate cloud process. Two gateway processes with the
// uplink's DEFAULT keepalive and reconnect settings run side by side for --minutes (default 10):
// one idle, one loaded (a steady stream of upward events and cloud -> device calls). Reports
// reconnects, drops, order, duplicates and failed calls for each.
// Usage: node dist/bench/uplink-soak.js [--minutes N] [--rate EVENTS_PER_S] [--call-every-ms N]

import type { WampClient } from '../src/client/wamp-client';
import type { Dict } from '../src/protocol/messages';
import { connect, freePort, startCloud, startGateway, tempDir, uplinkStatus, waitFor } from '../test/fixtures/uplink-harness';
import { PingBlindRawSocketProxy } from '../test/fixtures/ping-blind-rawsocket-proxy';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const minutes = Number(flag('--minutes') ?? 10);
const rate = Number(flag('--rate') ?? 50);
const callEveryMs = Number(flag('--call-every-ms') ?? 1000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = tempDir('wampgate-soak-');
  const [cloudPort, rawPort, idlePort, loadedPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const cloud = await startCloud(dir.path, cloudPort, rawPort);
  const proxies = await Promise.all([new PingBlindRawSocketProxy(rawPort).listen(), new PingBlindRawSocketProxy(rawPort).listen()]);
  const uplink = (proxyPort: number, id: string): Dict => ({
    url: `rawsocket://127.0.0.1:${proxyPort}`,
    realm: 'cloud',
    gatewayId: id,
    forward: [
      { name: 'up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors.' },
      { name: 'rpc', direction: 'up', type: 'procedure', local: 'dev.', remote: 'site.{gatewayId}.dev.' },
    ],
  });
  // Each gateway its own data directory: the buffer file is opened exclusively.
  const idle = await startGateway(dir.path, idlePort, uplink(proxies[0].port, 'idle'), { dataDir: `${dir.path}/idle` });
  const loaded = await startGateway(dir.path, loadedPort, uplink(proxies[1].port, 'loaded'), { dataDir: `${dir.path}/loaded` });
  const [idleLocal, loadedLocal, app] = await Promise.all([connect(idlePort, 'realm1'), connect(loadedPort, 'realm1'), connect(cloudPort, 'cloud')]);
  const online = (c: WampClient): Promise<unknown> => waitFor('uplink online', async () => (await uplinkStatus(c)).state === 'online', 30_000);
  await Promise.all([online(idleLocal), online(loadedLocal)]);
  await loadedLocal.register('dev.echo', (args) => args[0]);

  const got: number[] = [];
  await app.subscribe('site.loaded.sensors.t', (args) => got.push(args[0] as number));
  let sent = 0;
  let calls = 0;
  let callFailures = 0;
  const callErrors = new Map<string, number>();
  const endAt = Date.now() + minutes * 60_000;
  const started = Date.now();
  console.log(`soak: ${minutes} min, default keepalive (15 s / 10 s), ${rate} events/s up and a call every ${callEveryMs} ms on the loaded gateway`);
  const publisher = (async () => {
    while (Date.now() < endAt) {
      // Paced by the clock, not by the loop: a steady stream.
      const due = Math.floor(((Date.now() - started) * rate) / 1000);
      while (sent < due) await loadedLocal.publish('sensors.t', [sent++]);
      await sleep(10);
    }
  })();
  const caller = (async () => {
    while (Date.now() < endAt) {
      calls++;
      try {
        const r = await app.call('site.loaded.dev.echo', [calls], {}, { timeout: 5000 });
        if (r.args[0] !== calls) throw new Error(`wrong result ${String(r.args[0])}`);
      } catch (err) {
        callFailures++;
        const key = err instanceof Error ? ((err as { error?: string }).error ?? err.message) : String(err);
        callErrors.set(key, (callErrors.get(key) ?? 0) + 1);
      }
      await sleep(callEveryMs);
    }
  })();
  const ticker = setInterval(() => {
    void Promise.all([uplinkStatus(idleLocal), uplinkStatus(loadedLocal)]).then(([i, l]) =>
      console.log(
        `  t=${Math.round((Date.now() - started) / 1000)}s idle: ${i.state} connects=${String(i.connects)} | loaded: ${l.state} connects=${String(l.connects)} sent=${sent} received=${got.length} calls=${calls} failed=${callFailures}`,
      ),
    );
  }, 60_000);
  await Promise.all([publisher, caller]);
  clearInterval(ticker);
  await waitFor('the stream to drain', () => got.length >= sent, 60_000).catch(() => undefined);
  const [i, l] = await Promise.all([uplinkStatus(idleLocal), uplinkStatus(loadedLocal)]);
  let outOfOrder = 0;
  for (let n = 1; n < got.length; n++) if ((got[n] as number) <= (got[n - 1] as number)) outOfOrder++;
  const duplicates = got.length - new Set(got).size;
  const missing = sent - new Set(got).size;
  console.log(`result after ${minutes} min:`);
  console.log(
    `  idle gateway:   connects=${String(i.connects)} (1 = never reconnected), state=${i.state}, proxy closes for length=${proxies[0].closedForLength.length}`,
  );
  console.log(
    `  loaded gateway: connects=${String(l.connects)}, state=${l.state}, events sent=${sent} received=${got.length} missing=${missing} duplicates=${duplicates} out-of-order=${outOfOrder}, calls=${calls} failed=${callFailures}${callErrors.size ? ' ' + JSON.stringify(Object.fromEntries(callErrors)) : ''}, proxy closes for length=${proxies[1].closedForLength.length}`,
  );
  await Promise.allSettled([idleLocal.close(), loadedLocal.close(), app.close()]);
  await Promise.allSettled([idle.stop(), loaded.stop(), cloud.stop()]);
  await Promise.all(proxies.map((p) => p.close()));
  dir.remove();
}

main().then(
  // Client sockets of the harness may linger for their close grace; the figures are out.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
