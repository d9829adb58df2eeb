// No oracle for principals: the time to refuse a ticket and the shape of a WAMP-CRA CHALLENGE do
// not depend on whether the authid exists, which role it has or how its secret is stored.
// Tests observe the work each attempt does (no timed assertions); bench/auth-timing.ts times it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSecret, loadPrincipals, pbkdf2Derive, PrincipalStore, type Kdf, type PrincipalConfig } from '../../../src/auth/principals';
import type { Authenticator } from '../../../src/core/ports';
import { ticketAuthenticator } from '../../../src/auth/ticket';
import { wampcraAuthenticator } from '../../../src/auth/wampcra';
import type { Dict } from '../../../src/protocol/messages';
import { authenticate, ctx } from './support';

const noFiles = {
  env: {},
  readFile: (): string => {
    throw new Error('no files');
  },
};

/** The real PBKDF2, with a record of every derivation's parameters. */
function recordingKdf(): { kdf: Kdf; calls: Array<{ iterations: number; keylen: number; saltLength: number }> } {
  const calls: Array<{ iterations: number; keylen: number; saltLength: number }> = [];
  return {
    calls,
    kdf: (presented, params) => {
      calls.push({ iterations: params.iterations, keylen: params.keylen, saltLength: params.salt.length });
      return pbkdf2Derive(presented, params);
    },
  };
}

const ticketStore = (principals: PrincipalConfig[]): PrincipalStore => new PrincipalStore(loadPrincipals({ principals }, 'auth.ticket', noFiles));

/** The derivations one ticket attempt ran, and its result. */
async function attempt(auth: Authenticator, calls: unknown[], authid: string, ticket: string): Promise<{ kind: string; work: unknown[] }> {
  const from = calls.length;
  const result = await authenticate(auth, ctx({ authmethods: ['ticket'], authid }), () => ticket);
  return { kind: result.kind, work: calls.slice(from) };
}

// The time to refuse is the time of the work done; the work is observed, not timed (the timing
// comparison itself is `node dist/bench/auth-timing.js`).
test('regression: refusing a ticket does the same work for an unknown authid, a plain ticket and a salted one: one PBKDF2 with the same parameters', async () => {
  const { kdf, calls } = recordingKdf();
  const auth = ticketAuthenticator({
    store: ticketStore([
      { authid: 'plain', role: 'device', ticket: 'plain-secret' },
      { authid: 'salted', role: 'admin', ticket: hashSecret('salted-secret', { iterations: 20_000 }) },
    ]),
    kdf,
  });
  const unknown = await attempt(auth, calls, 'nobody', 'wrong');
  const plain = await attempt(auth, calls, 'plain', 'wrong');
  const salted = await attempt(auth, calls, 'salted', 'wrong');
  const expected = [{ iterations: 20_000, keylen: 32, saltLength: 24 }];
  for (const [name, r] of Object.entries({ unknown, plain, salted })) {
    assert.equal(r.kind, 'deny', name);
    assert.deepEqual(r.work, expected, `${name}: one PBKDF2 with the salted principals' parameters`);
  }
  // Success costs the same as failure: the plain ticket's derivation is done and discarded.
  assert.deepEqual((await attempt(auth, calls, 'plain', 'plain-secret')).work, expected);
  assert.equal((await attempt(auth, calls, 'salted', 'salted-secret')).kind, 'accept');
  assert.equal(calls.length, 5);
});

test('regression: with only plain tickets an unknown authid and a known one still do the same derivation', async () => {
  const { kdf, calls } = recordingKdf();
  const auth = ticketAuthenticator({ store: ticketStore([{ authid: 'plain', role: 'device', ticket: 'plain-secret' }]), kdf });
  const unknown = await attempt(auth, calls, 'nobody', 'wrong');
  const plain = await attempt(auth, calls, 'plain', 'wrong');
  assert.equal(unknown.work.length, 1);
  assert.deepEqual(unknown.work, plain.work);
  assert.deepEqual([unknown.kind, plain.kind], ['deny', 'deny']);
});

test('regression: a WAMP-CRA CHALLENGE for an unknown authid looks like a real one and no CHALLENGE names a role', async () => {
  const store = new PrincipalStore(
    loadPrincipals(
      {
        principals: [
          { authid: 'a1', role: 'admin', secret: 's1', salt: 'c2FsdHNhbHRzYWx0', iterations: 1000, keylen: 32 },
          { authid: 'a2', role: 'device', secret: 's2', salt: 'b3RoZXJzYWx0c2Fs', iterations: 1000, keylen: 32 },
        ],
      },
      'auth.wampcra',
      noFiles,
    ),
  );
  const auth = wampcraAuthenticator({ store });
  const challengeOf = async (authid: string): Promise<{ extra: Dict; challenge: Dict }> => {
    const out = await auth.hello(ctx({ authmethods: ['wampcra'], authid }));
    assert.equal(out.kind, 'challenge');
    if (out.kind !== 'challenge') throw new Error('unreachable');
    return { extra: out.extra, challenge: JSON.parse(out.extra.challenge as string) as Dict };
  };
  const real = await challengeOf('a1');
  const decoy = await challengeOf('ghost');
  // Same keys in the CHALLENGE extra and in the signed challenge, same PBKDF2 parameters.
  assert.deepEqual(Object.keys(decoy.extra).sort(), Object.keys(real.extra).sort());
  assert.deepEqual(Object.keys(decoy.challenge).sort(), Object.keys(real.challenge).sort());
  assert.equal(decoy.extra.iterations, real.extra.iterations);
  assert.equal(decoy.extra.keylen, real.extra.keylen);
  assert.equal((decoy.extra.salt as string).length, (real.extra.salt as string).length);
  assert.equal(real.challenge.authrole, null, 'a real principal’s role is not disclosed');
  assert.equal(decoy.challenge.authrole, null);
  // The decoy is stable per authid: asking twice cannot tell a decoy from a real principal.
  assert.equal((await challengeOf('ghost')).extra.salt, decoy.extra.salt);
  assert.equal((await challengeOf('a1')).extra.salt, real.extra.salt);
});
