// `wampgate start` under a fake systemd: READY=1 only once the listeners accept connections,
// WATCHDOG=1 pings from the event loop, STOPPING=1 on SIGTERM and a clean exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { WampClient } from '../../../src/client/wamp-client';
import { jsonSerializer } from '../../../src/serializers/json';
import { connectWebSocket } from '../../../src/transports/websocket/client';
import { opsWired, startCli, writeTempConfig } from './cli-child';
import { startNotifyReceiver } from './notify-receiver';

function hasSystemdNotify(): boolean {
  try {
    execFileSync('systemd-notify', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const skip = !hasSystemdNotify() && !process.env.CI ? 'systemd-notify not installed (apt-get install systemd)' : false;

test('READY=1 after the listeners are up, watchdog pings, STOPPING=1 on SIGTERM, exit 0', { skip }, async () => {
  const rx = await startNotifyReceiver();
  // With the ops part wired, keep its status listener off the default port 8089.
  const cfg = await writeTempConfig(({ statusPort }) => (opsWired ? { status: { port: statusPort } } : {}));
  const gw = startCli(['start', '--config', cfg.path], { NOTIFY_SOCKET: rx.socketPath, WATCHDOG_USEC: '400000' });
  try {
    const ready = await rx.waitFor((d) => d.fields.READY === '1', 15_000);
    // Right after READY: a WAMP session joins over the WebSocket listener.
    const client = await WampClient.connect(await connectWebSocket({ url: `ws://127.0.0.1:${cfg.wsPort}/ws`, serializer: jsonSerializer }), {
      realm: 'realm1',
    });
    assert.ok(client.sessionId > 0);
    await client.close();
    assert.equal(rx.datagrams[0], ready, 'READY=1 is the first notification');
    assert.match(ready.fields.STATUS ?? '', /listening on ws:\/\/127\.0\.0\.1:\d+\/ws/);
    assert.match(gw.output(), /listening listener=websocket[\s\S]*\[wampgate\.main\] ready /);

    // Half of WATCHDOG_USEC: pings keep coming while the loop turns.
    await rx.waitFor((d) => d.fields.WATCHDOG === '1', 10_000);
    await rx.waitFor((d) => d.fields.WATCHDOG === '1' && d !== rx.datagrams.find((x) => x.fields.WATCHDOG === '1'), 10_000);

    gw.child.kill('SIGTERM');
    const stopping = await rx.waitFor((d) => d.fields.STOPPING === '1', 10_000);
    assert.match(stopping.fields.STATUS ?? '', /SIGTERM/);
    const { code, signal } = await gw.exited;
    assert.equal(signal, null, gw.output());
    assert.equal(code, 0, gw.output());
  } finally {
    if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGKILL');
    rx.close();
    cfg.cleanup();
  }
});

test('a config error exits 78 and never says READY', { skip }, async () => {
  const rx = await startNotifyReceiver();
  const cfg = await writeTempConfig(() => ({ listeners: [{ name: 'ws', type: 'websocket', port: 'nope' }] }));
  try {
    const gw = startCli(['start', '--config', cfg.path], { NOTIFY_SOCKET: rx.socketPath });
    const { code } = await gw.exited;
    assert.equal(code, 78, gw.output());
    assert.match(gw.output(), /listeners\[0\]\.port: must be an integer/);
    assert.ok(!rx.datagrams.some((d) => d.fields.READY === '1'));
  } finally {
    rx.close();
    cfg.cleanup();
  }
});
