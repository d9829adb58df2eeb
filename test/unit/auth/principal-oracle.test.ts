// No oracle for principals: the time to refuse a ticket and the shape of a WAMP-CRA CHALLENGE do
// not depend on whether the authid exists, which role it has or how its secret is stored.
// Timing is compared as distributions (medians of interleaved samples), never as a fixed bound.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSecret, loadPrincipals, PrincipalStore } from '../../../src/auth/principals';
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

test('regression: refusing a ticket takes the same time for an unknown authid, a plain ticket and a salted one (p50 within 10%)', async () => {
  const store = new PrincipalStore(
    loadPrincipals(
      {
        principals: [
          { authid: 'plain', role: 'device', ticket: 'plain-secret' },
          { authid: 'salted', role: 'admin', ticket: hashSecret('salted-secret', { iterations: 20_000 }) },
        ],
      },
      'auth.ticket',
      noFiles,
    ),
  );
  const auth = ticketAuthenticator({ store });
  const kinds = ['unknown', 'plain', 'salted'] as const;
  const samples: Record<(typeof kinds)[number], number[]> = { unknown: [], plain: [], salted: [] };
  /** kind -> its time in each round relative to that round's mean: pairs cancel load drift. */
  const relative: Record<(typeof kinds)[number], number[]> = { unknown: [], plain: [], salted: [] };
  // Interleaved in a shuffled order per round, so load on a shared machine hits every kind alike.
  for (let round = 0; round < 61; round++) {
    const order = [...kinds].sort(() => Math.random() - 0.5);
    const t: Partial<Record<(typeof kinds)[number], number>> = {};
    for (const kind of order) {
      const start = process.hrtime.bigint();
      const result = await authenticate(auth, ctx({ authmethods: ['ticket'], authid: kind === 'unknown' ? `nobody-${round}` : kind }), () => 'wrong');
      t[kind] = Number(process.hrtime.bigint() - start) / 1e6;
      samples[kind].push(t[kind]);
      assert.equal(result.kind, 'deny');
    }
    const mean = kinds.reduce((a, k) => a + (t[k] as number), 0) / kinds.length;
    for (const k of kinds) relative[k].push((t[k] as number) / mean);
  }
  const p50 = Object.fromEntries(kinds.map((k) => [k, median(samples[k]).toFixed(2)]));
  for (const k of kinds) {
    const r = median(relative[k]);
    assert.ok(r > 0.9 && r < 1.1, `${k}: p50 of its time relative to the others is ${r.toFixed(3)} (p50 ms: ${JSON.stringify(p50)})`);
  }
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
