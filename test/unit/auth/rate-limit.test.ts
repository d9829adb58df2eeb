// The failed-attempt limiter: blocking after N failures in a window, cool-down, bounded memory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthRateLimiter, remoteAddress } from '../../../src/auth/rate-limit';
import type { Authenticator } from '../../../src/core/ports';
import { ctx, transport } from './support';

test('remoteAddress drops the port, keeps other transports whole', () => {
  assert.equal(remoteAddress(transport({ peer: '10.1.2.3:5555' })), '10.1.2.3');
  assert.equal(remoteAddress(transport({ peer: '[::1]:5555', type: 'rawsocket' })), '::1');
  assert.equal(remoteAddress(transport({ peer: 'unix:/run/x.sock', type: 'rawsocket' })), 'unix:/run/x.sock');
  assert.equal(remoteAddress(transport({ peer: 'local:uplink', type: 'local' })), 'local:uplink');
});

test('after maxFailures in the window the address is blocked for blockMs, with a clear ABORT', () => {
  let t = 0;
  const rl = new AuthRateLimiter({ maxFailures: 3, windowMs: 1000, blockMs: 5000, now: () => t });
  const tr = transport({ peer: '10.0.0.9:1' });
  rl.onAuthFailure(tr);
  rl.onAuthFailure(transport({ peer: '10.0.0.9:2' }));
  assert.equal(rl.check(tr), undefined, 'two failures: still allowed');
  rl.onAuthFailure(transport({ peer: '10.0.0.9:3' }));
  const deny = rl.check(transport({ peer: '10.0.0.9:4' }));
  assert.equal(deny?.kind, 'deny');
  assert.equal(deny?.reason, 'wamp.error.not_authorized');
  assert.match(deny?.message ?? '', /too many failed authentication attempts.*try again in 5 s/);
  assert.equal(rl.check(transport({ peer: '10.0.0.10:1' })), undefined, 'other addresses are not affected');
  t = 4999;
  assert.ok(rl.check(tr));
  t = 5000;
  assert.equal(rl.check(tr), undefined, 'the block ends after the cool-down');
});

test('failures spread beyond the window do not add up', () => {
  let t = 0;
  const rl = new AuthRateLimiter({ maxFailures: 3, windowMs: 1000, blockMs: 5000, now: () => t });
  for (let i = 0; i < 10; i++) {
    rl.recordFailure('a');
    rl.recordFailure('a');
    t += 1500;
  }
  assert.equal(rl.blockedFor('a'), 0);
});

test('memory is bounded: the least recently failing addresses are forgotten', () => {
  const rl = new AuthRateLimiter({ maxAddresses: 100 });
  for (let i = 0; i < 1000; i++) rl.recordFailure(`10.0.${i >> 8}.${i & 255}`);
  assert.equal(rl.size, 100);
});

test('wrap refuses a blocked address before the inner authenticator runs', async () => {
  let asked = 0;
  const inner: Authenticator = { hello: () => (asked++, { kind: 'accept', authid: 'a', authrole: 'r', authmethod: 'anonymous', authprovider: 'static' }) };
  const rl = new AuthRateLimiter({ maxFailures: 1 });
  const wrapped = rl.wrap(inner);
  assert.equal((await wrapped.hello(ctx({}))).kind, 'accept');
  rl.onAuthFailure(ctx({}).transport);
  assert.equal((await wrapped.hello(ctx({}))).kind, 'deny');
  assert.equal(asked, 1);
});
