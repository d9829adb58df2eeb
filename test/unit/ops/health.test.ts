import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type LogLevel } from '../../../src/util/logger';
import { decodeThrottled, HealthMonitor, parseThrottled } from '../../../src/ops/health';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'wampgate-health-'));
}

test('decodeThrottled reads the firmware bits: 0x50005 is under-voltage and throttled, now and since boot', () => {
  assert.deepEqual(decodeThrottled(0x50005), {
    raw: 0x50005,
    underVoltageNow: true,
    frequencyCappedNow: false,
    throttledNow: true,
    softTempLimitNow: false,
    underVoltageOccurred: true,
    frequencyCappedOccurred: false,
    throttledOccurred: true,
    softTempLimitOccurred: false,
  });
  const none = decodeThrottled(0);
  assert.ok(Object.entries(none).every(([k, v]) => k === 'raw' || v === false));
  const all = decodeThrottled(0xf000f);
  assert.ok(Object.entries(all).every(([k, v]) => k === 'raw' || v === true));
  // 0x80008: only the soft temperature limit, now and since boot.
  const soft = decodeThrottled(0x80008);
  assert.equal(soft.softTempLimitNow, true);
  assert.equal(soft.softTempLimitOccurred, true);
  assert.equal(soft.throttledNow, false);
  assert.equal(decodeThrottled(0x20002).frequencyCappedNow, true);
});

test('parseThrottled accepts the vcgencmd and sysfs spellings and nothing else', () => {
  assert.equal(parseThrottled('throttled=0x50005\n'), 0x50005);
  assert.equal(parseThrottled('50005\n'), 0x50005);
  assert.equal(parseThrottled('0x0'), 0);
  assert.equal(parseThrottled('0'), 0);
  assert.equal(parseThrottled(''), null);
  assert.equal(parseThrottled('error=1 error_msg="Command not registered"'), null);
});

test('a snapshot of this machine has plausible values', async () => {
  const dir = tempDir();
  try {
    const m = new HealthMonitor({ dataDir: dir, throttledPath: join(dir, 'none'), vcgencmd: join(dir, 'no-vcgencmd') });
    assert.equal(m.snapshot, null);
    await m.poll();
    const s = await m.poll(); // the second poll has a CPU usage delta
    assert.equal(m.snapshot, s);
    assert.ok(s.takenAt > 0);
    assert.ok(s.board.cpuCores >= 1);
    assert.equal(s.board.arch, process.arch);
    assert.ok(s.memory.totalBytes !== null && s.memory.totalBytes > 0);
    assert.ok(s.memory.availableBytes !== null && s.memory.availableBytes <= s.memory.totalBytes);
    assert.ok(s.cpu.usage === null || (s.cpu.usage >= 0 && s.cpu.usage <= 1));
    assert.ok(s.cpu.load1 >= 0);
    assert.ok(s.cpu.temperatureC === null || (s.cpu.temperatureC > -40 && s.cpu.temperatureC < 150));
    assert.ok(s.disk);
    assert.equal(s.disk.path, dir);
    assert.ok(s.disk.totalBytes > 0 && s.disk.availableBytes <= s.disk.totalBytes);
    assert.ok(s.disk.usedRatio >= 0 && s.disk.usedRatio <= 1);
    assert.ok(Array.isArray(s.network));
    assert.ok(s.network.every((n) => n.name !== 'lo'));
    for (const n of s.network) {
      assert.equal(typeof n.up, 'boolean');
      assert.ok(n.ip4 === null || /^\d+\.\d+\.\d+\.\d+$/.test(n.ip4));
      assert.ok(n.rxBytes === null || n.rxBytes >= 0);
    }
    assert.ok(s.uptimeSeconds > 0);
    assert.ok(s.process.rssBytes > 0 && s.process.heapUsedBytes > 0);
    assert.ok(s.process.cpuSeconds > 0);
    assert.equal(s.throttled, null);
    assert.doesNotThrow(() => JSON.stringify(s));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loopback is reported only when asked for', async () => {
  const s = await new HealthMonitor({ includeLoopback: true }).poll();
  const lo = s.network.find((n) => n.name === 'lo');
  assert.ok(lo);
  assert.equal(lo.ip4, '127.0.0.1');
  assert.equal(lo.up, true);
});

test('throttling comes from the sysfs attribute when present', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'get_throttled'), '50005\n');
    const s = await new HealthMonitor({ throttledPath: join(dir, 'get_throttled') }).poll();
    assert.equal(s.throttled?.source, 'sysfs');
    assert.equal(s.throttled?.underVoltageNow, true);
    assert.equal(s.throttled?.throttledOccurred, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('throttling falls back to vcgencmd, asked at most once per interval', async () => {
  const dir = tempDir();
  try {
    const fake = join(dir, 'vcgencmd');
    const calls = join(dir, 'calls');
    writeFileSync(fake, `#!/bin/sh\necho x >> ${calls}\necho throttled=0x20002\n`);
    chmodSync(fake, 0o755);
    const m = new HealthMonitor({ throttledPath: join(dir, 'missing'), vcgencmd: fake, vcgencmdIntervalMs: 60_000 });
    const s = await m.poll();
    assert.equal(s.throttled?.source, 'vcgencmd');
    assert.equal(s.throttled?.frequencyCappedNow, true);
    const again = await m.poll();
    assert.equal(again.throttled?.raw, 0x20002);
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(calls, 'utf8').trim().split('\n').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing probe yields null and one log line, and the poll still succeeds', async () => {
  const lines: Array<{ level: LogLevel; msg: string; fields?: Record<string, unknown> }> = [];
  const logger = createLogger({ level: 'debug', sink: (level, _c, msg, fields) => lines.push({ level, msg, ...(fields ? { fields } : {}) }) });
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'get_throttled'), 'garbage');
    const m = new HealthMonitor({ logger, dataDir: join(dir, 'does-not-exist'), throttledPath: join(dir, 'get_throttled') });
    const s = await m.poll();
    await m.poll();
    assert.equal(s.disk, null);
    assert.equal(s.throttled, null);
    assert.ok(s.memory.totalBytes !== null);
    const warns = lines.filter((l) => l.level === 'warn');
    assert.deepEqual(warns.map((l) => l.fields?.part).sort(), ['disk', 'throttled'], 'each failing part logs once, not per poll');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('start/stop poll on a timer that does not keep the process alive', async () => {
  const m = new HealthMonitor({ intervalMs: 1000 });
  m.start();
  m.start(); // idempotent
  const s = await m.poll();
  assert.ok(s);
  m.stop();
});
