// The version module is the one place wampgate's version is written in code: it must say what
// package.json says, or WELCOME's agent, `wampgate --version` and the status page would lie.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AGENT, VERSION } from '../../../src/util/version';

test('VERSION is package.json version and AGENT is wampgate-VERSION', () => {
  // dist/test/unit/util -> the repository root
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
  assert.equal(AGENT, `wampgate-${pkg.version}`);
});
