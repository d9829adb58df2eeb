import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// dist/test/unit/ops -> repository root
const ROOT = resolve(__dirname, '../../../..');
const UNIT = join(ROOT, 'systemd/wampgate.service');
const INSTALL = join(ROOT, 'systemd/install-service.sh');

function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}
// CI installs Debian's `systemd` package; elsewhere a missing binary skips instead of failing.
const skip = !has('systemd-analyze') && !process.env.CI ? 'systemd-analyze not installed (apt-get install systemd)' : false;

function verify(path: string): { status: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

test('the shipped unit passes systemd-analyze verify with no warnings', { skip }, () => {
  // As shipped, ExecStart= is /usr/bin/env wampgate …: verify only checks /usr/bin/env exists.
  const r = verify(UNIT);
  assert.equal(r.status, 0, r.output);
  assert.equal(r.output, '', 'unknown keys and bad values are warnings with exit status 0; there must be none');
});

test('the unit as install-service.sh renders it (absolute ExecStart) passes verify', { skip }, () => {
  // Point ExecStart at a binary that exists here, as the install script does with `command -v wampgate`.
  const dir = mkdtempSync(join(tmpdir(), 'wampgate-unit-'));
  try {
    const bin = join(ROOT, 'bin/wampgate.js');
    const text = readFileSync(UNIT, 'utf8').replace(/^ExecStart=\/usr\/bin\/env wampgate /m, `ExecStart=${process.execPath} ${bin} `);
    assert.ok(text.includes(`ExecStart=${process.execPath}`));
    const copy = join(dir, 'wampgate.service');
    writeFileSync(copy, text);
    const r = verify(copy);
    assert.equal(r.status, 0, r.output);
    assert.equal(r.output, '');
    // And verify does catch a broken unit, so the two passes above mean something.
    const broken = join(dir, 'broken.service');
    writeFileSync(broken, text.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/wampgate'));
    assert.notEqual(verify(broken).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the unit carries the settings the gateway relies on', () => {
  const text = readFileSync(UNIT, 'utf8');
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) settings.set(m[1] as string, [...(settings.get(m[1] as string) ?? []), m[2] as string]);
  }
  const one = (k: string): string | undefined => settings.get(k)?.[0];
  assert.equal(one('Type'), 'notify');
  assert.equal(one('NotifyAccess'), 'all', 'systemd-notify runs as a child process');
  assert.equal(one('WatchdogSec'), '30');
  assert.equal(one('Restart'), 'on-failure');
  assert.equal(one('User'), 'wampgate');
  assert.equal(one('SupplementaryGroups'), 'dialout');
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('StateDirectory'), 'wampgate');
  assert.equal(one('RuntimeDirectory'), 'wampgate');
  assert.ok(one('MemoryMax'));
  // The V8 limits chosen from the memory figures in hardware-notes.md.
  assert.ok(settings.get('Environment')?.includes('"NODE_OPTIONS=--max-old-space-size=128 --max-semi-space-size=2"'));
  assert.ok(one('LoadCredential'));
  // Regression: by name (char-ttyUSB) the rule was empty when the service started before the
  // first USB-serial adapter was plugged in (the driver, and its /proc/devices line, came later).
  const deviceAllow = settings.get('DeviceAllow') ?? [];
  assert.ok(deviceAllow.includes('char-188 rw'), 'ttyUSB* by its fixed major number');
  assert.ok(deviceAllow.includes('char-166 rw'), 'ttyACM* by its fixed major number');
  assert.ok(!deviceAllow.some((v) => /^char-tty(USB|ACM)/.test(v)), 'module-loaded drivers must not be named');
  assert.equal(settings.has('MemoryDenyWriteExecute'), false, 'V8 JIT needs W+X pages');
  assert.equal(settings.has('PrivateDevices'), false, 'would hide serial ports');
});

test('the hardened unit scores OK in systemd-analyze security --offline', { skip }, () => {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], { encoding: 'utf8' });
  const m = /Overall exposure level for wampgate\.service: ([\d.]+)/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  assert.ok(Number(m[1]) <= 3, `exposure ${m[1]}`);
});

test('install-service.sh --dry-run says what it would do and changes nothing', () => {
  execFileSync('sh', ['-n', INSTALL]);
  const unitDir = mkdtempSync(join(tmpdir(), 'wampgate-units-'));
  try {
    const out = execFileSync('sh', [INSTALL, '--dry-run', '--exec', '/opt/wampgate/bin/wampgate', '--unit-dir', unitDir], { encoding: 'utf8' });
    assert.match(out, /unit ExecStart=\/opt\/wampgate\/bin\/wampgate start --config \/etc\/wampgate\/config\.json/);
    assert.match(out, new RegExp(`would run: install -D -m 0644 \\S+ ${unitDir}/wampgate.service`));
    assert.match(out, /would run: systemctl enable wampgate\.service/);
    assert.deepEqual(execFileSync('ls', ['-A', unitDir], { encoding: 'utf8' }), '', 'dry run wrote nothing');
    const bad = spawnSync('sh', [INSTALL, '--dry-run', '--bogus'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
  } finally {
    rmSync(unitDir, { recursive: true, force: true });
  }
});
