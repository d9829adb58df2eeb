// Shared helpers for auth unit tests: HELLO contexts and driving a challenge to its result.

import assert from 'node:assert/strict';
import type { Dict } from '../../../src/protocol/messages';
import type { TransportInfo } from '../../../src/protocol/peer';
import type { Authenticator, AuthResult, HelloContext, HelloOutcome } from '../../../src/core/ports';

export function transport(overrides: Partial<TransportInfo> = {}): TransportInfo {
  return { type: 'websocket', serializer: 'json', peer: '10.0.0.7:40000', loopback: false, listener: 'test', ...overrides };
}

export function ctx(details: Dict, realm = 'realm1', t: Partial<TransportInfo> = {}): HelloContext {
  return { realm, details, transport: transport(t) };
}

export async function hello(a: Authenticator, c: HelloContext): Promise<HelloOutcome> {
  return await a.hello(c);
}

/** Runs HELLO, expects a CHALLENGE, answers it with sign(extra) and returns the result. */
export async function authenticate(a: Authenticator, c: HelloContext, sign: (extra: Dict, authmethod: string) => string): Promise<AuthResult> {
  const out = await a.hello(c);
  assert.equal(out.kind, 'challenge', `expected a CHALLENGE, got ${JSON.stringify(out)}`);
  if (out.kind !== 'challenge') throw new Error('unreachable');
  return await out.verify(sign(out.extra, out.authmethod), {});
}

export function assertAccepted(r: AuthResult | HelloOutcome, authid: string, authrole: string, authmethod: string): void {
  assert.equal(r.kind, 'accept', JSON.stringify(r));
  if (r.kind !== 'accept') return;
  assert.equal(r.authid, authid);
  assert.equal(r.authrole, authrole);
  assert.equal(r.authmethod, authmethod);
}

/** The one uniform credential failure: same reason, same message, whatever was wrong. */
export function assertRejected(r: AuthResult | HelloOutcome): void {
  assert.equal(r.kind, 'deny', JSON.stringify(r));
  if (r.kind !== 'deny') return;
  assert.equal(r.reason, 'wamp.error.authentication_failed');
  assert.equal(r.message, 'authentication failed');
}
