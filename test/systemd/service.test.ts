// The unit as a user runs it: a Debian 12 container booted with systemd as PID 1, the `npm pack`
// tarball installed with `npm install -g` and systemd/install-service.sh as hardware-notes.md
// says. Checks READY ordering, the hardening, the journal priorities, a dialout serial device,
// an uplink authenticated from an encrypted systemd credential, the watchdog restart, exit 78
// without a restart loop, and an uplink backlog that survives a hard kill of the container.
// Run with `npm run test:systemd` (root, systemd-nspawn, debootstrap); not part of `npm test`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Container, containerSupport, waitUntil } from './container';
import { installPackage } from './install';

const skipReason = containerSupport();
if (skipReason && process.env.CI) throw new Error(`systemd tests cannot run: ${skipReason}`);

const UPLINK_TICKET = 'tk-7f3a9c-uplink';
/** The uplink dials LINK_PORT; a socat forwarder there ("the link") reaches the cloud on CLOUD_PORT. */
const LINK_PORT = 9000;
const CLOUD_PORT = 9001;
/** The serial device: a pty pair, the wampgate end owned by group dialout. */
const SERIAL = '/run/wg-serial/dev';
const SERIAL_PEER = '/run/wg-serial/peer';

let c: Container;

const gatewayConfig = {
  realms: [{ name: 'realm1' }],
  // Default ports: the container has its own network namespace, so they are free.
  listeners: [
    { name: 'ws', type: 'websocket', host: '127.0.0.1', port: 8080 },
    // Every documented way to give the service a secret, as principals' tickets.
    {
      name: 'lan',
      type: 'websocket',
      host: '127.0.0.1',
      port: 8082,
      auth: {
        ticket: {
          principals: [
            // A plain file in /etc/wampgate/credentials, which the unit loads as secret_dev1-ticket.
            { authid: 'dev1', role: 'device', ticket: { credential: 'dev1-ticket' } },
            // The same directory, by path.
            { authid: 'dev2', role: 'device', ticket: { file: '${CREDENTIALS_DIRECTORY}/secret_dev2-ticket' } },
            // An environment variable from a drop-in.
            { authid: 'dev3', role: 'device', ticket: { env: 'DEV3_TICKET' } },
          ],
        },
      },
    },
  ],
  dataDir: '/var/lib/wampgate',
  bridges: {
    serial: [
      {
        name: 'probe',
        path: SERIAL,
        mode: 'line',
        realm: 'realm1',
        rules: [{ match: '^T=(?<value>-?\\d+(\\.\\d+)?)$', topic: 'sensors.{port}.temperature', args: ['{value:number}'] }],
      },
    ],
  },
  uplink: {
    url: `ws://127.0.0.1:${LINK_PORT}/ws`,
    realm: 'cloud',
    gatewayId: 'gw1',
    // Exactly as hardware-notes.md "Secrets" says.
    auth: { authid: 'gw1', authmethods: ['ticket'], ticket: { credential: 'uplink-ticket' } },
    reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
    forward: [{ name: 'sensors-up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors.' }],
  },
};

const cloudConfig = {
  realms: [{ name: 'cloud' }],
  listeners: [
    {
      name: 'ws',
      type: 'websocket',
      host: '127.0.0.1',
      port: CLOUD_PORT,
      auth: { ticket: { principals: [{ authid: 'gw1', role: 'gateway', ticket: UPLINK_TICKET }] }, anonymous: { role: 'anonymous' } },
    },
  ],
  status: { enabled: false },
  health: { enabled: false },
};

/** A cloud-side subscriber that appends every event's args to a file, one JSON line each. */
const SUBSCRIBER = `
const { appendFileSync } = require('node:fs');
const pkg = '/usr/local/lib/node_modules/wampgate/dist/src/';
const { connectWebSocket } = require(pkg + 'transports/websocket/client');
const { serializerByName } = require(pkg + 'serializers');
const { WampClient } = require(pkg + 'client/wamp-client');
(async () => {
  const peer = await connectWebSocket({ url: 'ws://127.0.0.1:${CLOUD_PORT}/ws', serializer: serializerByName('json') });
  const client = await WampClient.connect(peer, { realm: 'cloud' });
  await client.subscribe('site.gw1.sensors.', (args) => appendFileSync('/root/received.jsonl', JSON.stringify(args) + '\\n'), { match: 'prefix' });
  console.log('subscribed');
})().catch((err) => { console.error(err); process.exit(1); });
`;

/** Joins realm1 of the built-in default config over WebSocket 8080 (JSON) and RawSocket 8081
 * (MessagePack); registers on one, calls from the other. */
const DEFAULTS_CLIENT = `
const pkg = '/usr/local/lib/node_modules/wampgate/dist/src/';
const { connectWebSocket } = require(pkg + 'transports/websocket/client');
const { connectRawSocket } = require(pkg + 'transports/rawsocket/client');
const { serializerByName } = require(pkg + 'serializers');
const { WampClient } = require(pkg + 'client/wamp-client');
(async () => {
  const ws = await WampClient.connect(await connectWebSocket({ url: 'ws://127.0.0.1:8080/ws', serializer: serializerByName('json') }), { realm: 'realm1' });
  const rs = await WampClient.connect(await connectRawSocket({ host: '127.0.0.1', port: 8081 }, serializerByName('msgpack')), { realm: 'realm1' });
  await ws.register('com.example.add2', (args) => args[0] + args[1]);
  const r = await rs.call('com.example.add2', [2, 3]);
  console.log('result', JSON.stringify(r.args));
  await ws.close(); await rs.close();
})().catch((err) => { console.error(err); process.exit(1); });
`;

/** Joins the "lan" listener with a ticket: node ticket-client.js AUTHID TICKET. */
const TICKET_CLIENT = `
const pkg = '/usr/local/lib/node_modules/wampgate/dist/src/';
const { connectWebSocket } = require(pkg + 'transports/websocket/client');
const { serializerByName } = require(pkg + 'serializers');
const { WampClient } = require(pkg + 'client/wamp-client');
const [authid, ticket] = process.argv.slice(2);
(async () => {
  const peer = await connectWebSocket({ url: 'ws://127.0.0.1:8082/ws', serializer: serializerByName('json') });
  const client = await WampClient.connect(peer, { realm: 'realm1', authid, authmethods: ['ticket'], onChallenge: () => ticket });
  console.log('joined', authid);
  await client.close();
})().catch((err) => { console.error(String(err && err.message || err)); process.exit(1); });
`;

async function status(): Promise<{
  uplink?: { state: string; buffer?: { depth: number } };
  bridges?: Array<{ name: string; state: string; counters?: Record<string, number> }>;
}> {
  return JSON.parse(await c.sh('wampgate status --json --url http://127.0.0.1:8089')) as Awaited<ReturnType<typeof status>>;
}

async function show(unit: string, ...props: string[]): Promise<Record<string, string>> {
  const out = await c.sh(`systemctl show ${unit} ${props.map((p) => `-p ${p}`).join(' ')}`);
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

async function startCloud(): Promise<void> {
  await c.sh(`systemd-run --unit=cloud --property=Type=exec --property=SyslogIdentifier=cloud /usr/local/bin/wampgate start --config /root/cloud.json`);
  await c.sh(
    `rm -f /root/received.jsonl; systemd-run --unit=cloud-subscriber --property=Type=exec --property=Restart=on-failure --property=RestartSec=1 /usr/local/bin/node /root/subscriber.js`,
  );
  await waitUntil(
    async () => ((await c.exec(['journalctl', '-b', '-u', 'cloud-subscriber', '-o', 'cat'])).stdout.includes('subscribed') ? true : undefined),
    'the cloud subscriber to subscribe',
    60_000,
  );
  // Only now the link: whatever the uplink sends (a replayed backlog) finds the subscriber there.
  await c.sh(`systemd-run --unit=link --property=Type=exec socat tcp-listen:${LINK_PORT},bind=127.0.0.1,reuseaddr,fork tcp:127.0.0.1:${CLOUD_PORT}`);
}

async function received(): Promise<unknown[][]> {
  const r = await c.exec(['cat', '/root/received.jsonl']);
  return r.code === 0
    ? r.stdout
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as unknown[])
    : [];
}

async function serialLine(line: string): Promise<void> {
  await c.sh(`printf '%s\\n' '${line}' > ${SERIAL_PEER}`);
}

/** The pty pair; started again after a reboot (a device that comes back). */
async function startSerialDevice(): Promise<void> {
  await c.sh(
    `mkdir -p /run/wg-serial && systemd-run --unit=serial-device --property=Type=exec socat pty,link=${SERIAL},group=dialout,mode=660,raw,echo=0 pty,link=${SERIAL_PEER},raw,echo=0`,
  );
  await waitUntil(async () => ((await c.exec(['test', '-e', SERIAL_PEER])).code === 0 ? true : undefined), 'socat to create the pty pair', 20_000);
}

before(
  async () => {
    if (skipReason) return;
    const t0 = Date.now();
    c = await Container.create('amd64');
    // Node of the same major as the Node running this test (native modules are built for it).
    const inst = await installPackage(c, { nodeMajor: process.versions.node.split('.')[0] as string, arch: 'x64' });
    process.stdout.write(`# npm install -g ${inst.tarball} in the container: ${inst.installSeconds} s\n`);
    await c.boot();
    process.stdout.write(`# container ready in ${Math.round((Date.now() - t0) / 1000)} s\n`);
    // As hardware-notes.md says: the install script, then the secret as an encrypted credential
    // with its LoadCredentialEncrypted= drop-in, then config.json.
    const installed = await c.sh('/usr/local/lib/node_modules/wampgate/systemd/install-service.sh');
    assert.match(installed, /ExecStart binary: \/usr\/local\/bin\/wampgate/);
    await c.sh(`systemd-creds encrypt --name=uplink-ticket - /etc/credstore.encrypted/uplink-ticket`, { input: UPLINK_TICKET });
    await c.sh(
      `mkdir -p /etc/systemd/system/wampgate.service.d && printf '[Service]\\nLoadCredentialEncrypted=uplink-ticket:/etc/credstore.encrypted/uplink-ticket\\n' > /etc/systemd/system/wampgate.service.d/credential.conf && systemctl daemon-reload`,
    );
    // The plain-file way and an environment variable, for the "lan" listener's principals.
    await c.sh(
      `printf %s dev1-secret > /etc/wampgate/credentials/dev1-ticket && printf %s dev2-secret > /etc/wampgate/credentials/dev2-ticket && chmod 0600 /etc/wampgate/credentials/* && printf '[Service]\\nEnvironment=DEV3_TICKET=dev3-secret\\n' > /etc/systemd/system/wampgate.service.d/env.conf && systemctl daemon-reload`,
    );
    await c.sh(`cat > /etc/wampgate/config.json && chgrp wampgate /etc/wampgate/config.json && chmod 0640 /etc/wampgate/config.json`, {
      input: JSON.stringify(gatewayConfig, null, 2),
    });
    await c.sh('cat > /root/cloud.json', { input: JSON.stringify(cloudConfig) });
    await c.sh('cat > /root/subscriber.js', { input: SUBSCRIBER });
    await c.sh('cat > /root/ticket-client.js', { input: TICKET_CLIENT });
    await startSerialDevice();
    await startCloud();
  },
  { timeout: 1_800_000 },
);

after(async () => {
  if (c) await c.destroy();
});

const opts = { skip: skipReason ?? false, timeout: 300_000 };

test('without --config the built-in default serves ws://127.0.0.1:8080/ws, rawsocket 8081 and the status page on 8089', opts, async () => {
  // Fixed ports are safe here: the container has its own network namespace. wampgate.service is
  // not started yet, so they are free.
  await c.sh('cat > /root/defaults-client.js', { input: DEFAULTS_CLIENT });
  await c.sh('systemd-run --unit=defaults --property=Type=exec --property=WorkingDirectory=/tmp /usr/local/bin/wampgate start');
  try {
    const report = await waitUntil(
      async () => {
        const r = await c.exec(['wampgate', 'status']);
        return r.code === 0 ? r.stdout : undefined;
      },
      'wampgate status to reach the default status listener on 127.0.0.1:8089',
      60_000,
    );
    assert.match(report, /ws:\/\/127\.0\.0\.1:8080\/ws/);
    assert.match(report, /rawsocket:\/\/127\.0\.0\.1:8081/);
    const out = await c.sh('node /root/defaults-client.js');
    assert.match(out, /result \[5\]/);
  } finally {
    await c.sh('systemctl stop defaults');
  }
});

test('systemctl start returns only after READY: listeners bound, uplink and serial bridge started', opts, async () => {
  await c.sh('systemctl start wampgate', { timeoutMs: 120_000 });
  const s = await show('wampgate', 'ActiveState', 'SubState', 'Type', 'NRestarts');
  assert.equal(s.ActiveState, 'active');
  assert.equal(s.Type, 'notify');
  // Right after `systemctl start` returned, the WebSocket listener accepts connections.
  await c.sh(`node -e "require('net').connect(8080,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',(e)=>{console.error(e);process.exit(1)})"`);
  // The gateway logged "ready" before systemd logged the unit as started.
  const journal = await c.sh('journalctl -o cat --no-pager _SYSTEMD_UNIT=wampgate.service + UNIT=wampgate.service');
  const ready = journal.indexOf('[wampgate.main] ready');
  const started = journal.search(/Started wampgate\.service/);
  assert.ok(ready >= 0 && started > ready, `"ready" must come before "Started": \n${journal}`);
});

test('secrets by credential: the uplink authenticates with the ticket from an encrypted credential', opts, async () => {
  const st = await waitUntil(
    async () => {
      const s = await status();
      return s.uplink?.state === 'connected' ? s : undefined;
    },
    'the uplink to connect to the cloud (ticket from LoadCredentialEncrypted=)',
    60_000,
  );
  assert.equal(st.uplink?.state, 'connected');
  // The cloud saw the authid gw1 with role gateway: the ticket was right.
  const cloudLog = await c.sh('journalctl -u cloud -o cat --no-pager');
  assert.doesNotMatch(cloudLog, /authentication_failed/);
  // The secret is nowhere in the config and never in the journal.
  assert.doesNotMatch(await c.sh('cat /etc/wampgate/config.json; journalctl -o cat --no-pager'), new RegExp(UPLINK_TICKET));
  // Encrypted at rest: the file holds no clear text.
  assert.doesNotMatch(await c.sh('cat /etc/credstore.encrypted/uplink-ticket | base64 -w0; echo'), new RegExp(Buffer.from(UPLINK_TICKET).toString('base64')));
  assert.ok(!(await c.sh('cat /etc/credstore.encrypted/uplink-ticket')).includes(UPLINK_TICKET));
});

test('a dialout serial device is read by the service, and its lines go up to the cloud', opts, async () => {
  await serialLine('T=21.5');
  const got = await waitUntil(
    async () => {
      const r = await received();
      return r.length >= 1 ? r : undefined;
    },
    'the serial reading to reach the cloud subscriber',
    30_000,
  ).catch(async (err: unknown) => {
    throw new Error(`${String(err)}\nbridges: ${JSON.stringify((await status()).bridges)}`);
  });
  assert.deepEqual(got[0], [21.5]);
  // The pty is root:dialout 0660: only the supplementary group lets the service read it.
  assert.match(await c.sh(`stat -L -c '%U:%G %a' ${SERIAL}`), /^root:dialout 660$/m);
});

test('hardening: unprivileged user in dialout, no capabilities, seccomp, read-only /usr and /etc', opts, async () => {
  const pid = (await show('wampgate', 'MainPID')).MainPID;
  const procStatus = await c.sh(`cat /proc/${pid}/status`);
  const uid = (await c.sh('id -u wampgate')).trim();
  const dialout = (await c.sh('getent group dialout | cut -d: -f3')).trim();
  assert.match(procStatus, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'));
  assert.match(procStatus, new RegExp(`^Groups:.*\\b${dialout}\\b`, 'm'));
  assert.match(procStatus, /^CapEff:\s+0+$/m);
  assert.match(procStatus, /^NoNewPrivs:\s+1$/m);
  assert.match(procStatus, /^Seccomp:\s+2$/m);
  // The V8 limits from the unit reach the process.
  assert.match(await c.sh(`tr '\\0' '\\n' < /proc/${pid}/environ`), /^NODE_OPTIONS=--max-old-space-size=128 --max-semi-space-size=2$/m);
  // ProtectSystem=strict: writing /usr or /etc fails for the service's mount namespace.
  const nsenter = `nsenter -t ${pid} -m --`;
  for (const path of ['/usr/wampgate-probe', '/etc/wampgate-probe']) {
    const r = await c.exec(['/bin/sh', '-c', `${nsenter} touch ${path}`]);
    assert.notEqual(r.code, 0, `${path} must be read-only for the service`);
    assert.match(r.stderr, /Read-only file system/);
  }
  // The state directory is writable (the outbox lives there) and owned by the service user.
  assert.match(await c.sh('stat -c %U /var/lib/wampgate'), /^wampgate$/m);
  const sec = await c.exec(['systemd-analyze', 'security', '--no-pager', 'wampgate.service']);
  const m = /Overall exposure level for wampgate\.service: ([\d.]+)/.exec(sec.stdout);
  assert.ok(m, sec.stdout + sec.stderr);
  assert.ok(Number(m[1]) <= 3, `exposure ${m[1]}`);
});

test('journal priorities: a normal run logs nothing at warning or above', opts, async () => {
  const warn = await c.sh('journalctl -t wampgate -p warning -o cat --no-pager');
  assert.equal(warn.trim(), '', `wampgate logged at warning or above during a normal run:\n${warn}`);
  const info = await c.sh('journalctl -t wampgate -p info -o cat --no-pager');
  assert.match(info, /\[wampgate\.main\] ready/);
});

test('systemctl reload re-reads the config in the same process (ExecReload sends SIGHUP), no restart', opts, async () => {
  const before = await show('wampgate', 'MainPID', 'NRestarts');
  await c.sh('systemctl reload wampgate', { timeoutMs: 60_000 });
  await waitUntil(
    async () => ((await c.sh('journalctl -t wampgate -o cat --no-pager')).includes('config reloaded') ? true : undefined),
    'the gateway to log the reload',
    30_000,
  );
  const after = await show('wampgate', 'ActiveState', 'MainPID', 'NRestarts');
  assert.equal(after.ActiveState, 'active');
  assert.equal(after.MainPID, before.MainPID, 'the same process');
  assert.equal(after.NRestarts, before.NRestarts, 'not restarted');
});

test('every documented secret form works under the unit: a credential file by name, ${CREDENTIALS_DIRECTORY} path, env', opts, async () => {
  for (const [authid, ticket] of [
    ['dev1', 'dev1-secret'],
    ['dev2', 'dev2-secret'],
    ['dev3', 'dev3-secret'],
  ] as const) {
    const r = await c.exec(['node', '/root/ticket-client.js', authid, ticket]);
    assert.equal(r.code, 0, `${authid}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`joined ${authid}`));
  }
  const wrong = await c.exec(['node', '/root/ticket-client.js', 'dev1', 'not-the-ticket']);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /authentication_failed/);
});

test('a backlog buffered while the cloud is down survives a hard kill of the container and replays after the next boot', opts, async () => {
  // The link goes down (and the cloud with it).
  await c.sh('systemctl stop link cloud');
  await waitUntil(async () => ((await status()).uplink?.state !== 'connected' ? true : undefined), 'the uplink to notice the cloud is gone', 30_000);
  const n = 20;
  for (let i = 0; i < n; i++) await serialLine(`T=${100 + i}`);
  await waitUntil(async () => ((await status()).uplink?.buffer?.depth === n ? true : undefined), `${n} events in the uplink buffer`, 30_000);
  // Power cut: everything in the container dies at once; no stop, no GOODBYE, no checkpoint.
  await c.hardKill();
  await c.boot();
  // wampgate is enabled: it starts on boot by itself.
  await waitUntil(async () => ((await show('wampgate', 'ActiveState')).ActiveState === 'active' ? true : undefined), 'wampgate to start at boot', 60_000);
  const afterBoot = await status();
  assert.equal(afterBoot.uplink?.buffer?.depth, n, 'the buffer survived the power cut');
  await c.sh('rm -f /root/received.jsonl');
  await startSerialDevice();
  await startCloud();
  const got = await waitUntil(
    async () => {
      const r = await received();
      return r.length >= n ? r : undefined;
    },
    `the ${n} buffered events to be replayed to the cloud`,
    60_000,
  );
  assert.deepEqual(
    got.slice(0, n).map((a) => a[0]),
    Array.from({ length: n }, (_, i) => 100 + i),
    'replayed in order',
  );
  await waitUntil(async () => ((await status()).uplink?.buffer?.depth === 0 ? true : undefined), 'the buffer to drain after the cloud acknowledged', 30_000);
});

test('watchdog: a stopped event loop gets the service killed and restarted', opts, async () => {
  // The unit's WatchdogSec=30 would make this test wait 30 s; the mechanism is the same at 4 s.
  await c.sh(
    `printf '[Service]\\nWatchdogSec=4\\n' > /etc/systemd/system/wampgate.service.d/watchdog-test.conf && systemctl daemon-reload && systemctl restart wampgate`,
    {
      timeoutMs: 120_000,
    },
  );
  const prev = await show('wampgate', 'MainPID', 'NRestarts');
  await c.sh(`kill -STOP ${prev.MainPID}`);
  const restarted = await waitUntil(
    async () => {
      const s = await show('wampgate', 'MainPID', 'NRestarts', 'ActiveState');
      return s.ActiveState === 'active' && s.MainPID !== prev.MainPID && s.MainPID !== '0' ? s : undefined;
    },
    'systemd to kill the stopped process (watchdog) and start a new one',
    60_000,
  );
  assert.equal(Number(restarted.NRestarts), Number(prev.NRestarts) + 1);
  assert.match(await c.sh('journalctl -u wampgate -o cat --no-pager'), /Watchdog timeout/);
  await c.sh('rm /etc/systemd/system/wampgate.service.d/watchdog-test.conf && systemctl daemon-reload');
});

test('a config error exits 78, is not restarted, and its reason is in journalctl -p err', opts, async () => {
  await c.sh(`cp /etc/wampgate/config.json /root/config.good.json`);
  const bad = { ...gatewayConfig, listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: 70000 }] };
  await c.sh('cat > /etc/wampgate/config.json', { input: JSON.stringify(bad) });
  const cursor = (await c.sh('journalctl -n 0 --show-cursor --no-pager')).match(/-- cursor: (.*)/)?.[1] ?? '';
  const r = await c.exec(['systemctl', 'restart', 'wampgate'], { timeoutMs: 60_000 });
  assert.notEqual(r.code, 0, 'systemctl restart must report the failure');
  // Wait past RestartSec=2 several times over: a restart loop would show up as NRestarts > before.
  await new Promise((res) => setTimeout(res, 8000));
  const s = await show('wampgate', 'ActiveState', 'Result', 'ExecMainStatus', 'NRestarts');
  assert.equal(s.ActiveState, 'failed');
  assert.equal(s.ExecMainStatus, '78');
  // NRestarts counts automatic restarts since the last manual start: RestartPreventExitStatus=78
  // keeps it at 0, and systemd never scheduled one.
  assert.equal(Number(s.NRestarts), 0, 'RestartPreventExitStatus=78: no restart');
  assert.doesNotMatch(await c.sh(`journalctl --after-cursor='${cursor}' -u wampgate -o cat --no-pager`), /Scheduled restart job/);
  const err = await c.sh(`journalctl --after-cursor='${cursor}' -t wampgate -p err -o cat --no-pager`);
  assert.match(err, /listeners\[0\]\.port: must be an integer from 0 to 65535/);
  // And a credential that is not there names the paths it looked for, at err.
  await c.sh('cat > /etc/wampgate/config.json', {
    input: JSON.stringify({ ...gatewayConfig, uplink: { ...gatewayConfig.uplink, auth: { ...gatewayConfig.uplink.auth, ticket: { credential: 'no-such' } } } }),
  });
  const cursor2 = (await c.sh('journalctl -n 0 --show-cursor --no-pager')).match(/-- cursor: (.*)/)?.[1] ?? '';
  await c.exec(['systemctl', 'restart', 'wampgate'], { timeoutMs: 60_000 });
  const err2 = await waitUntil(
    async () => {
      const out = await c.sh(`journalctl --after-cursor='${cursor2}' -t wampgate -p err -o cat --no-pager`);
      return /credential "no-such" not found/.test(out) ? out : undefined;
    },
    'the missing credential in journalctl -p err',
    30_000,
  );
  assert.match(err2, /looked for \/run\/credentials\/wampgate\.service\/no-such and \/run\/credentials\/wampgate\.service\/secret_no-such/);
  await c.sh('cp /root/config.good.json /etc/wampgate/config.json && systemctl reset-failed wampgate && systemctl start wampgate', { timeoutMs: 120_000 });
});
