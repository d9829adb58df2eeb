// Runs the firmware-bridge C unit tests (gcc -std=c99 -Werror, plus the g++ header check) so
// that `npm test` covers the device library too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

test('firmware-bridge: make test builds with -Werror and every C unit test passes', () => {
  const dir = path.resolve(__dirname, '../../../../firmware-bridge');
  const run = spawnSync('make', ['-C', dir, 'test'], { encoding: 'utf8', timeout: 240_000 });
  const output = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.status, 0, output);
  const summary = /(\d+) passed, (\d+) failed/.exec(run.stdout);
  assert.ok(summary, output);
  assert.ok(Number(summary[1]) > 0, output);
  assert.equal(summary[2], '0', output);
});

test('firmware-bridge: the ESP32 sketch and its sensor app compile for the ESP32-C3 (rv32imc) with -Werror against the Arduino/Wi-Fi API declarations', () => {
  const dir = path.resolve(__dirname, '../../../../firmware-bridge');
  for (const [tool, pkg] of [
    ['riscv64-unknown-elf-gcc', 'gcc-riscv64-unknown-elf'],
    ['riscv64-unknown-elf-size', 'binutils-riscv64-unknown-elf'],
  ]) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    assert.equal(found.status, 0, `${tool} is not installed: apt-get install ${pkg} picolibc-riscv64-unknown-elf (.ci/run installs them)`);
  }
  const build = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-esp32c3-'));
  try {
    const run = spawnSync('make', ['-C', dir, 'esp32c3-check', `BUILD=${build}`], { encoding: 'utf8', timeout: 240_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, output);
    // Every object was built: the sketch, the sensor app and the four library files.
    for (const o of ['Esp32Sensor.o', 'sensor.o', 'wampdev.o', 'wampdev_cbor.o', 'wampdev_cobs.o', 'wampdev_crc32.o'])
      assert.match(run.stdout, new RegExp(`/esp32c3/${o.replace('.', '\\.')}$`, 'm'), output);
  } finally {
    fs.rmSync(build, { recursive: true, force: true });
  }
});
