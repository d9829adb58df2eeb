// Cortex-M3, emulated: the same sensor example built with arm-none-eabi-gcc -Os for QEMU's
// mps2-an385 board (CMSDK UART0 on `-serial pty`), the same scenario as the simulated Uno:
// join, publish, be called, call, line noise both ways, gateway restart.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Simulator, makeFirmware, requireTools, runDeviceScenario } from './device-support';

let dir = '';
const cleanups: Array<() => Promise<void> | void> = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-m3-'));
});
after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  fs.rmSync(dir, { recursive: true, force: true });
});

test(
  'Cortex-M3 in QEMU (mps2-an385): joins over a pty, publishes, is called, calls, survives line noise, rejoins after a gateway restart',
  { timeout: 300_000 },
  async (t) => {
    requireTools({ 'arm-none-eabi-gcc': 'gcc-arm-none-eabi', 'qemu-system-arm': 'qemu-system-arm', make: 'make', socat: 'socat' });
    const build = path.join(dir, 'build');
    const made = makeFirmware('cortex-m3', build);
    // newlib-nano's libm/libc come from libnewlib-arm-none-eabi: the link fails without it.
    const sizes = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+[0-9a-f]+\s+\S+sensor\.elf$/m.exec(made);
    assert.ok(sizes, made);
    t.diagnostic(`arm-none-eabi-size: text ${sizes[1]} data ${sizes[2]} bss ${sizes[3]}`);

    const stats = await runDeviceScenario({
      prefix: 'sensor.m3',
      workDir: dir,
      cleanups,
      log: (m) => t.diagnostic(m),
      async startDevice() {
        const qemu = Simulator.start('qemu-system-arm', [
          '-M',
          'mps2-an385',
          '-cpu',
          'cortex-m3',
          '-display',
          'none',
          '-monitor',
          'none',
          '-serial',
          'pty',
          '-kernel',
          path.join(build, 'cortex-m3', 'sensor.elf'),
        ]);
        cleanups.push(() => qemu.stop());
        return { pty: await qemu.pty(/char device redirected to (\/dev\/pts\/\d+)/), stop: () => qemu.stop() };
      },
      checkReading(v) {
        // board.c: a synthetic temperature, 21.50 .. 21.56 degC in 0.01 degC.
        assert.ok(Number.isInteger(v) && v >= 2150 && v <= 2156, `reading ${v}`);
      },
    });
    t.diagnostic(`stack high-water ${stats.stack_used} B`);
    assert.ok(stats.stack_used < 2048, `stack high-water ${stats.stack_used} B`);
  },
);
