// Runs the firmware-bridge C unit tests (gcc -std=c99 -Werror, plus the g++ header check) so
// that `npm test` covers the device library too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
