// The package on arm64, as on a Raspberry Pi with the 64-bit OS: a Debian 12 arm64 root file
// system run through qemu-user-static, Node's arm64 build, `npm install -g` of the packed
// tarball. Records for each native dependency whether it came prebuilt or was compiled, then a
// smoke test: start, an AutobahnJS publish and call, an uplink outbox append to SQLite, and a
// serial line through a pty. Slow (qemu): `npm run test:arm64`, not part of `npm test`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Container, containerSupport, waitUntil } from '../systemd/container';
import { installPackage, type Installed } from '../systemd/install';
import { openAutobahn, type AbClient } from '../integration/support/third-party';

const skipReason = containerSupport();
if (skipReason && process.env.CI) throw new Error(`arm64 tests cannot run: ${skipReason}`);
/** The newest Node LTS line (see .ci/run). */
const NODE_MAJOR = process.env.WAMPGATE_ARM64_NODE ?? '24';

let c: Container;
let installed: Installed;
let router: ChildProcess | undefined;
let ports: { ws: number; status: number; serial: number };
let ab: AbClient | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** What `npm install -g` did for each native dependency, seen from inside the arm64 tree. */
const INSPECT = `
const fs = require('fs'), path = require('path');
const nm = '/usr/local/lib/node_modules/wampgate/node_modules/';
const has = (p) => fs.existsSync(nm + p);
const loads = (f) => { try { f(); return 'loads'; } catch (e) { return 'fails: ' + e.message.split('\\n')[0]; } };
const out = {};
out['better-sqlite3'] = {
  how: has('better-sqlite3/build/Release/obj.target') ? 'compiled (node-gyp)' : has('better-sqlite3/build/Release/better_sqlite3.node') ? 'prebuilt (prebuild-install)' : 'missing',
  check: loads(() => new (require(nm + 'better-sqlite3'))(':memory:').prepare('select 1').get()),
};
const gyp = require(nm + 'node-gyp-build');
const bind = nm + '@serialport/bindings-cpp';
let sp;
try { sp = gyp.path(bind); } catch (e) { sp = 'none: ' + e.message; }
out['@serialport/bindings-cpp'] = { how: sp.includes('/prebuilds/') ? 'prebuilt (inside the npm package): ' + path.relative(bind, sp) : sp.includes('/build/') ? 'compiled (node-gyp)' : sp, check: loads(() => require(bind)) };
for (const [name, opt] of [['cbor-extract', '@cbor-extract/cbor-extract-linux-arm64'], ['msgpackr-extract', '@msgpackr-extract/msgpackr-extract-linux-arm64']]) {
  out[name] = {
    how: !has(name) ? 'not installed' : has(opt) ? 'prebuilt (optional package ' + opt + ')' : has(name + '/build/Release') ? 'compiled (node-gyp)' : 'no binary (pure-JS fallback)',
    check: has(name) ? loads(() => require(nm + name)) : 'n/a',
  };
}
out['bufferutil'] = { how: has('bufferutil') ? (has('bufferutil/build/Release') ? 'compiled (node-gyp)' : 'prebuilt') : 'not installed (not a dependency: ws uses its JavaScript code)', check: 'n/a' };
out.fastPaths = {
  cbor: loads(() => { if (!require(nm + 'cbor-x').isNativeAccelerationEnabled) throw new Error('cbor-x runs without its native extension'); }),
  msgpack: loads(() => { if (!require(nm + 'msgpackr').isNativeAccelerationEnabled) throw new Error('msgpackr runs without its native extension'); }),
};
console.log(JSON.stringify(out));
`;

before(
  async () => {
    if (skipReason) return;
    c = await Container.create('arm64');
    assert.match((await c.run('uname -m')).stdout, /aarch64/);
    installed = await installPackage(c, { nodeMajor: NODE_MAJOR, arch: 'arm64', timeoutMs: 3_600_000 });
    process.stdout.write(`# arm64: npm install -g ${installed.tarball} (Node ${NODE_MAJOR}) took ${installed.installSeconds} s under qemu-user\n`);
    writeFileSync(join(tmpdir(), 'wampgate-arm64-install.log'), installed.output);
    process.stdout.write(`# arm64: npm's output in ${join(tmpdir(), 'wampgate-arm64-install.log')}\n`);
  },
  { timeout: 3_900_000 },
);

after(async () => {
  if (ab) await ab.close().catch(() => undefined);
  router?.kill('SIGKILL');
  if (c) await c.destroy();
});

const opts = { skip: skipReason ?? false, timeout: 600_000 };

test('each native dependency: prebuilt or compiled, and it loads on arm64', opts, async () => {
  writeFileSync(join(c.root, 'root/inspect.js'), INSPECT);
  const r = await c.run('node /root/inspect.js', 300_000);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, { how: string; check: string }>;
  process.stdout.write(`# arm64 native dependencies: ${JSON.stringify(report, null, 1).replace(/\n/g, '\n# ')}\n`);
  assert.equal(report['better-sqlite3']?.check, 'loads');
  assert.equal(report['@serialport/bindings-cpp']?.check, 'loads');
});

test('the gateway starts on arm64: AutobahnJS publishes and calls, the uplink appends to SQLite, a serial line arrives through a pty', opts, async () => {
  ports = { ws: await freePort(), status: await freePort(), serial: await freePort() };
  const config = {
    realms: [{ name: 'realm1' }],
    listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: ports.ws }],
    status: { host: '127.0.0.1', port: ports.status },
    dataDir: '/root/data',
    bridges: {
      serial: [
        {
          name: 'probe',
          path: '/root/serial',
          mode: 'line',
          realm: 'realm1',
          rules: [{ match: '^T=(?<value>-?\\d+(\\.\\d+)?)$', topic: 'sensors.{port}.temperature', args: ['{value:number}'] }],
        },
      ],
    },
    // A cloud that is not there: everything forwarded up stays in the SQLite outbox.
    uplink: {
      url: 'ws://127.0.0.1:9/ws',
      realm: 'cloud',
      gatewayId: 'pi',
      forward: [{ name: 'up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors.' }],
    },
  };
  writeFileSync(join(c.root, 'root/smoke.json'), JSON.stringify(config));
  // socat joins a pty (the "serial device" wampgate opens) to a TCP port the test writes to.
  const t0 = Date.now();
  router = c.start(
    `mkdir -p /root/data; socat pty,link=/root/serial,raw,echo=0 tcp-listen:${ports.serial},bind=127.0.0.1,reuseaddr & ` +
      `while [ ! -e /root/serial ]; do sleep 0.2; done; exec wampgate start --config /root/smoke.json`,
    'arm64-router.log',
  );
  await waitUntil(
    async () => (/\[wampgate\.main\] ready/.test(c.log('arm64-router.log')) ? true : undefined),
    'wampgate on arm64 to log "ready"',
    300_000,
    500,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${c.log('arm64-router.log')}`);
  });
  process.stdout.write(`# arm64: from spawn to "ready" ${Math.round((Date.now() - t0) / 1000)} s under qemu-user\n`);

  ab = await openAutobahn({ url: `ws://127.0.0.1:${ports.ws}/ws` });
  const session = ab.session;
  await session.register('com.example.add2', (args) => (args[0] as number) + (args[1] as number));
  assert.equal(await session.call('com.example.add2', [2, 3]), 5);
  const events: unknown[][] = [];
  await session.subscribe('sensors.', (args) => events.push(args), { match: 'prefix' });
  await session.publish('sensors.manual.temperature', [19.5], {}, { acknowledge: true, exclude_me: false });

  // A line on the serial device becomes an event.
  const sock = net.connect(ports.serial, '127.0.0.1');
  await new Promise<void>((res, rej) => sock.once('connect', res).once('error', rej));
  sock.write('T=21.5\n');
  await waitUntil(async () => (events.some((a) => a[0] === 21.5) ? true : undefined), 'the serial line as an event on sensors.probe.temperature', 60_000);
  sock.destroy();
  assert.deepEqual(
    events.find((a) => a[0] === 19.5),
    [19.5],
  );

  // Both went into the uplink's SQLite outbox (the cloud is unreachable).
  const status = await waitUntil(
    async () => {
      const r = await fetch(`http://127.0.0.1:${ports.status}/status.json`);
      const s = r.ok ? ((await r.json()) as { uplink?: { buffer?: { depth: number } } }) : undefined;
      return s && (s.uplink?.buffer?.depth ?? 0) >= 2 ? s : undefined;
    },
    'two events in the uplink buffer',
    60_000,
  );
  assert.equal(status.uplink?.buffer?.depth, 2);
  // Seen from the host: a second nspawn cannot enter a tree the router's nspawn holds.
  assert.ok(existsSync(join(c.root, 'root/data/uplink.sqlite')), 'the outbox is a SQLite file in dataDir');
});
