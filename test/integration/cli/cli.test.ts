// The command line as a user runs it (`node bin/wampgate.js …`, what `npx wampgate` runs once
// the package is installed): version, init, check with every problem listed, start serving an
// AutobahnJS session and stopping on SIGTERM with GOODBYE system_shutdown, and a busy port. The
// built-in default config (fixed ports 8080/8081/8089) is tested in a container with its own
// network (test/systemd/service.test.ts): no test here binds a fixed port.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import { deferred, freePort, tempDir, within } from '../support/gateway';
import { BIN, REPO, runCli, startCli } from '../support/cli';
import { openAutobahn, type AbClient } from '../support/third-party';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };

test('version prints the package version', async () => {
  const r = await runCli(['version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), `wampgate ${pkg.version}`);
});

test('init writes a starter config that check accepts; init refuses to overwrite without --force', async () => {
  const dir = tempDir('wampgate-cli-');
  try {
    const file = join(dir.path, 'w.json');
    const init = await runCli(['init', file]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /wrote /);
    assert.match(readFileSync(file, 'utf8'), /"realms"/);
    const check = await runCli(['check', '--config', file]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /: OK \(\d+ realms?, \d+ listeners?\)/);

    writeFileSync(file, '{ "realms": [{ "name": "mine" }] }');
    const again = await runCli(['init', file]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /exists; use --force/);
    assert.equal(readFileSync(file, 'utf8'), '{ "realms": [{ "name": "mine" }] }', 'the existing file is untouched');

    const forced = await runCli(['init', file, '--force']);
    assert.equal(forced.code, 0);
    assert.match(readFileSync(file, 'utf8'), /"realm1"/);
    assert.equal((await runCli(['check', '--config', file])).code, 0);
  } finally {
    dir.remove();
  }
});

test('check lists every problem with its path and exits 78', async () => {
  const dir = tempDir('wampgate-cli-');
  try {
    const file = join(dir.path, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify(
        {
          realms: [{ name: 'realm1' }],
          listeners: [
            { name: 'ws', type: 'websocket', port: 70000 },
            { name: 'ws', type: 'rawsocket', port: 9001 },
            { name: 'lan', type: 'websocket', host: '0.0.0.0', port: 9002 },
          ],
          log: { level: 'verbose' },
          colour: true,
        },
        null,
        2,
      ),
    );
    const r = await runCli(['check', '--config', file]);
    assert.equal(r.code, 78);
    const out = r.stdout + r.stderr;
    assert.match(out, /5 problems/);
    assert.match(out, /^\s+colour: unknown key/m);
    assert.match(out, /^\s+listeners\[0\]\.port: must be an integer from 0 to 65535/m);
    assert.match(out, /^\s+listeners\[1\]\.name: duplicate listener name "ws"/m);
    assert.match(out, /^\s+log\.level: must be one of debug, info, warn, error/m);
    assert.match(out, /^\s+listeners\[2\]\.auth: listener on 0\.0\.0\.0 is reachable from the network/m);
  } finally {
    dir.remove();
  }
});

test('check reports a syntax error with its line and column and exits 78', async () => {
  const dir = tempDir('wampgate-cli-');
  try {
    const file = join(dir.path, 'syntax.json');
    writeFileSync(file, '{\n  // a comment is fine\n  "realms": [{ "name": "realm1" }]\n  "log": {}\n}\n');
    const r = await runCli(['check', '--config', file]);
    assert.equal(r.code, 78);
    assert.match(r.stdout + r.stderr, /line 4, column 3/);
  } finally {
    dir.remove();
  }
});

/** Runs `wampgate start` with stderr on a file that JOURNAL_STREAM names, as systemd connects
 * it to the journal; returns the exit code and what was written there. */
async function startUnderJournal(dir: string, config: unknown, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const file = join(dir, 'wampgate.json');
  writeFileSync(file, JSON.stringify(config));
  const errPath = join(dir, 'stderr');
  const fd = openSync(errPath, 'w');
  try {
    const st = fstatSync(fd, { bigint: true });
    const child = spawn(process.execPath, [BIN, 'start', '--config', file], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', fd],
      env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}`, ...env },
    });
    const code = await within(new Promise<number | null>((r) => child.on('exit', (c) => r(c))), 'wampgate start to exit on its bad config').finally(() =>
      child.kill('SIGKILL'),
    );
    return { code, stderr: readFileSync(errPath, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

test('under journald a config error reaches the journal at err priority with its reason (every line "<3>")', async () => {
  const dir = tempDir('wampgate-cli-');
  try {
    const r = await startUnderJournal(dir.path, { realms: [{ name: 'realm1' }], listeners: [{ name: 'ws', type: 'websocket', port: 70000 }] });
    assert.equal(r.code, 78);
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    assert.ok(lines.length >= 2, r.stderr);
    for (const l of lines) assert.match(l, /^<3>/, `line without err priority: ${l}`);
    assert.match(r.stderr, /listeners\[0\]\.port: must be an integer from 0 to 65535/);
  } finally {
    dir.remove();
  }
});

test('a missing systemd credential stops start with exit 78, at err priority, naming the paths looked for', async () => {
  const dir = tempDir('wampgate-cli-');
  try {
    const creds = join(dir.path, 'creds');
    const r = await startUnderJournal(
      dir.path,
      {
        realms: [{ name: 'realm1' }],
        listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: 0 }],
        status: { port: 0 },
        dataDir: dir.path,
        uplink: {
          url: 'ws://127.0.0.1:9/ws',
          realm: 'cloud',
          gatewayId: 'gw1',
          auth: { authid: 'gw1', authmethods: ['ticket'], ticket: { credential: 'uplink-ticket' } },
          forward: [{ name: 'up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.sensors.' }],
        },
      },
      { CREDENTIALS_DIRECTORY: creds },
    );
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /^<3>.*uplink\.auth\.ticket: credential "uplink-ticket" not found/m);
    assert.ok(r.stderr.includes(join(creds, 'secret_uplink-ticket')), r.stderr);
  } finally {
    dir.remove();
  }
});

/** Publishes to itself and calls its own procedure: what a newcomer's first script does. */
async function publishAndCall(ab: AbClient): Promise<void> {
  await ab.session.register('com.example.add2', (args) => (args[0] as number) + (args[1] as number));
  assert.equal(await ab.session.call('com.example.add2', [2, 3]), 5);
  const got = deferred<unknown[]>();
  await ab.session.subscribe('com.example.hello', (args) => got.resolve(args));
  await ab.session.publish('com.example.hello', ['world'], {}, { acknowledge: true, exclude_me: false });
  assert.deepEqual(await within(got.promise, 'the event'), ['world']);
}

test('start --config: logs "ready", serves AutobahnJS, and on SIGTERM sends GOODBYE system_shutdown and exits 0', async () => {
  const dir = tempDir('wampgate-cli-');
  const [wsPort, rsPort] = [await freePort(), await freePort()];
  const file = join(dir.path, 'wampgate.json');
  writeFileSync(
    file,
    JSON.stringify({
      realms: [{ name: 'realm1' }],
      listeners: [
        { name: 'websocket', type: 'websocket', host: '127.0.0.1', port: wsPort, path: '/ws' },
        { name: 'rawsocket', type: 'rawsocket', host: '127.0.0.1', port: rsPort },
      ],
      // the status page defaults to 127.0.0.1:8089, which parallel tests would fight over
      status: { port: 0 },
    }),
  );
  const gw = startCli(['start', '--config', file]);
  try {
    await gw.waitFor(/\bready\b/, 'the "ready" log line');
    assert.match(gw.output(), new RegExp(`ws://127\\.0\\.0\\.1:${wsPort}/ws`), 'the ready line names the WebSocket URL');
    const ab = await openAutobahn({ url: `ws://127.0.0.1:${wsPort}/ws`, serializer: 'json' });
    await publishAndCall(ab);
    const rs = await openAutobahn({ rawsocket: { host: '127.0.0.1', port: rsPort } });
    assert.equal(await rs.session.call('com.example.add2', [40, 2]), 42, 'RawSocket clients reach the same realm');
    await rs.close();
    const { code } = await gw.stop();
    const closed = await within(ab.closed, 'the AutobahnJS session to be closed by the router');
    assert.equal(closed.details.reason, 'wamp.close.system_shutdown');
    assert.equal(code, 0, gw.output());
  } finally {
    await gw.stop().catch(() => undefined);
    dir.remove();
  }
});

test('start on a busy port exits 1 and names the cause', async () => {
  const dir = tempDir('wampgate-cli-');
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const busy = (blocker.address() as net.AddressInfo).port;
  const file = join(dir.path, 'wampgate.json');
  writeFileSync(file, JSON.stringify({ listeners: [{ name: 'websocket', type: 'websocket', host: '127.0.0.1', port: busy }], status: { port: 0 } }));
  const gw = startCli(['start', '--config', file]);
  try {
    const { code } = await within(gw.exited, 'wampgate to give up');
    assert.equal(code, 1);
    assert.match(gw.output(), /EADDRINUSE/);
    assert.match(gw.output(), /another process uses that port/);
    assert.match(gw.output(), new RegExp(String(busy)));
  } finally {
    await gw.stop().catch(() => undefined);
    await new Promise<void>((r) => blocker.close(() => r()));
    dir.remove();
  }
});
