// Loopback detection behind the secure defaults (anonymous access, the status page).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopbackHost, isLoopbackListener } from '../../../src/util/loopback';

test('loopback hosts and listeners, and what is not loopback', () => {
  for (const h of [undefined, 'localhost', '::1', '127.0.0.1', '127.1.2.3']) assert.equal(isLoopbackHost(h), true, String(h));
  for (const h of ['0.0.0.0', '::', '192.168.1.2', '127.example.com', 'example.com']) assert.equal(isLoopbackHost(h), false, h);
  assert.equal(isLoopbackListener({ unixPath: '/run/wampgate/wamp.sock', host: '0.0.0.0' }), true);
  assert.equal(isLoopbackListener({ host: '0.0.0.0' }), false);
});
