// Arduino Uno, simulated: the sensor example built for the ATmega328P with avr-gcc -Os runs in
// simavr (firmware-bridge/targets/avr/simavr_uno.c) with USART0 on a pty, end to end against a
// Gateway's frame-mode serial port and AutobahnJS. Also checks it fits an Uno with room to spare.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Simulator, makeFirmware, requireTools, runDeviceScenario } from './device-support';

let dir = '';
const cleanups: Array<() => Promise<void> | void> = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-avr-'));
});
after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  fs.rmSync(dir, { recursive: true, force: true });
});

// An Uno: 32 KiB flash less the 0.5 KiB Optiboot bootloader, 2 KiB SRAM.
const UNO_FLASH = 32 * 1024 - 512;
const UNO_RAM = 2048;
const ADC0_MV = 1234;

test(
  'ATmega328P in simavr: joins over a pty, publishes, is called, calls, survives line noise, rejoins after a gateway restart; fits an Uno',
  { timeout: 300_000 },
  async (t) => {
    requireTools({ 'avr-gcc': 'gcc-avr', 'avr-size': 'binutils-avr', make: 'make', socat: 'socat' });
    assert.ok(
      fs.existsSync('/usr/include/simavr/sim_avr.h') || fs.existsSync('/usr/local/include/simavr/sim_avr.h'),
      'libsimavr headers missing: apt-get install libsimavr-dev (.ci/run installs it)',
    );
    assert.ok(fs.existsSync('/usr/include/avr/io.h') || fs.existsSync('/usr/lib/avr/include/avr/io.h'), 'avr-libc missing: apt-get install avr-libc');
    const build = path.join(dir, 'build');
    const made = makeFirmware('avr', build);
    const elf = path.join(build, 'avr', 'sensor.elf');

    // Memory: flash = .text + .data (initial values), RAM = .data + .bss, then the stack.
    const sizes = /Program:\s+(\d+) bytes[\s\S]*Data:\s+(\d+) bytes/.exec(made);
    assert.ok(sizes, made);
    const flash = Number(sizes[1]);
    const ramStatic = Number(sizes[2]);
    t.diagnostic(`avr-size: flash ${flash} B of ${UNO_FLASH}, static RAM ${ramStatic} B of ${UNO_RAM}`);
    assert.ok(flash < UNO_FLASH - 8 * 1024, `flash ${flash} leaves under 8 KiB for the sketch`);

    const stats = await runDeviceScenario({
      prefix: 'sensor.uno',
      workDir: dir,
      cleanups,
      log: (m) => t.diagnostic(m),
      async startDevice() {
        const sim = Simulator.start(path.join(build, 'simavr-uno'), [elf, '--adc0', String(ADC0_MV)]);
        cleanups.push(() => sim.stop());
        return { pty: await sim.pty(/^PTY (\S+)/), stop: () => sim.stop() };
      },
      checkReading(v) {
        // 10-bit ADC against AVcc = 5000 mV.
        const expected = (ADC0_MV * 1024) / 5000;
        assert.ok(Math.abs(v - expected) <= 2, `ADC0 reading ${v}, expected about ${expected}`);
      },
    });
    // The stack never reached the static data, and what it never touched is the sketch's.
    t.diagnostic(`stack high-water ${stats.stack_used} B, never touched ${stats.stack_free} B`);
    assert.equal(ramStatic + stats.stack_used + stats.stack_free, UNO_RAM);
    assert.ok(stats.stack_free >= 256, `only ${stats.stack_free} B of RAM left for the sketch`);
  },
);
