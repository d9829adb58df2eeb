import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createLogger, type LogLevel } from '../../../src/util/logger';
import { createNotifier, readWatchdogUsec, startWatchdog, Watchdog } from '../../../src/ops/systemd-notify';
import { startNotifyReceiver } from './notify-receiver';

function hasSystemdNotify(): boolean {
  try {
    execFileSync('systemd-notify', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
// CI installs Debian's `systemd` package; elsewhere a missing binary skips instead of failing.
const skip = !hasSystemdNotify() && !process.env.CI ? 'systemd-notify not installed (apt-get install systemd)' : false;

function capture(): { logger: ReturnType<typeof createLogger>; lines: Array<{ level: LogLevel; msg: string }> } {
  const lines: Array<{ level: LogLevel; msg: string }> = [];
  return { lines, logger: createLogger({ level: 'debug', sink: (level, _c, msg) => lines.push({ level, msg }) }) };
}

test('without NOTIFY_SOCKET the notifier is disabled and spawns nothing', async () => {
  const n = createNotifier({ env: {}, command: '/nonexistent/systemd-notify' });
  assert.equal(n.enabled, false);
  assert.equal(await n.ready('x'), false);
  assert.equal(await n.watchdog(), false);
});

test('READY=1, STATUS=, WATCHDOG=1 and STOPPING=1 reach the notify socket in order, attributed to our PID', { skip }, async () => {
  const rx = await startNotifyReceiver();
  try {
    const n = createNotifier({ env: { NOTIFY_SOCKET: rx.socketPath, PATH: process.env.PATH } });
    assert.equal(n.enabled, true);
    const results = await Promise.all([n.ready('listening on 2 transports'), n.status('3 sessions\nline two'), n.watchdog(), n.stopping()]);
    assert.deepEqual(results, [true, true, true, true]);
    const d = rx.datagrams;
    assert.equal(d.length, 4, JSON.stringify(d));
    assert.equal(d[0]?.fields.READY, '1');
    assert.equal(d[0]?.fields.STATUS, 'listening on 2 transports');
    assert.equal(d[0]?.fields.MAINPID, String(process.pid));
    // A newline would start a new assignment: it is flattened.
    assert.equal(d[1]?.fields.STATUS, '3 sessions line two');
    assert.equal(d[2]?.fields.WATCHDOG, '1');
    assert.equal(d[3]?.fields.STOPPING, '1');
    // As root systemd-notify --pid= sends with our PID as the credential; unprivileged it cannot.
    if (process.getuid?.() === 0) assert.equal(d[0]?.pid, process.pid);
  } finally {
    rx.close();
  }
});

test('a missing systemd-notify binary disables the notifier with one error line, never a throw', async () => {
  const { logger, lines } = capture();
  const n = createNotifier({ env: { NOTIFY_SOCKET: '/run/nowhere', PATH: '/usr/bin' }, command: '/nonexistent/systemd-notify', logger });
  assert.equal(await n.ready(), false);
  assert.equal(n.enabled, false);
  assert.equal(await n.watchdog(), false);
  assert.equal(lines.filter((l) => l.level === 'error').length, 1);
});

test('a socket nobody listens on makes sends resolve false and logs a warning', { skip }, async () => {
  const { logger, lines } = capture();
  const n = createNotifier({ env: { NOTIFY_SOCKET: '/tmp/wampgate-no-such-socket', PATH: process.env.PATH }, logger });
  assert.equal(await n.status('x'), false);
  assert.equal(n.enabled, true);
  assert.ok(lines.some((l) => l.level === 'warn'));
});

test('readWatchdogUsec follows sd_watchdog_enabled: WATCHDOG_PID must be ours', () => {
  assert.equal(readWatchdogUsec({}, 10), null);
  assert.equal(readWatchdogUsec({ WATCHDOG_USEC: '30000000' }, 10), 30000);
  assert.equal(readWatchdogUsec({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '10' }, 10), 30000);
  assert.equal(readWatchdogUsec({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '11' }, 10), null);
  assert.equal(readWatchdogUsec({ WATCHDOG_USEC: '0' }, 10), null);
  assert.equal(readWatchdogUsec({ WATCHDOG_USEC: 'abc' }, 10), null);
});

test('Watchdog pings at half of WATCHDOG_USEC and stays off without one', () => {
  const n = createNotifier({ env: { NOTIFY_SOCKET: '/x' }, command: '/bin/true' });
  const w = new Watchdog(n, { env: { WATCHDOG_USEC: '30000000' } });
  assert.equal(w.intervalMs, 15000);
  const off = new Watchdog(n, { env: {} });
  assert.equal(off.intervalMs, null);
  assert.equal(off.start(), false);
});

test('Watchdog pings from the event loop, and a blocked loop stops the pings', { skip }, async () => {
  const rx = await startNotifyReceiver();
  try {
    const n = createNotifier({ env: { NOTIFY_SOCKET: rx.socketPath, PATH: process.env.PATH } });
    const w = startWatchdog(n, { env: { WATCHDOG_USEC: '200000' } }); // 200 ms -> ping every 100 ms
    assert.equal(w.running, true);
    await rx.waitFor(() => rx.datagrams.filter((d) => d.fields.WATCHDOG === '1').length >= 3);
    // Block the loop for 700 ms: no timer fires, so no ping can be spawned meanwhile.
    const end = Date.now() + 700;
    while (Date.now() < end) {
      /* busy */
    }
    const before = rx.datagrams.length;
    await rx.waitFor(() => rx.datagrams.length >= before + 2);
    w.stop();
    // Sends are serialised: once this one is through, no ping from before stop() is in flight.
    assert.equal(await n.status('flushed'), true);
    const pings = rx.datagrams.filter((d) => d.fields.WATCHDOG === '1').map((d) => d.t);
    const maxGap = Math.max(...pings.slice(1).map((t, i) => t - (pings[i] ?? t)));
    assert.ok(maxGap >= 0.5, `expected a gap of at least 0.5 s while the loop was blocked, got ${maxGap}`);
    const count = rx.datagrams.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.datagrams.length, count, 'no pings after stop()');
  } finally {
    rx.close();
  }
});
