// The time to refuse a ticket for an unknown authid, a plain ticket and a salted one, compared as
// distributions: interleaved rounds in a shuffled order (so load on a shared machine hits every
// kind alike), each kind's time relative to its round's mean, medians of those. The no-oracle
// property itself is tested by the work done (test/unit/auth/principal-oracle.test.ts); this
// shows what it buys. Options: --rounds N (default 201), --iterations N (default 100000, as
// `wampgate hash-secret` writes).

import { hashSecret, loadPrincipals, PrincipalStore } from '../src/auth/principals';
import { ticketAuthenticator } from '../src/auth/ticket';
import type { Authenticator } from '../src/core/ports';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const noFiles = {
  env: {},
  readFile: (): string => {
    throw new Error('no files');
  },
};

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))] as number;
};

async function refuse(auth: Authenticator, authid: string): Promise<number> {
  const start = process.hrtime.bigint();
  const out = await auth.hello({
    realm: 'realm1',
    details: { authmethods: ['ticket'], authid },
    transport: { type: 'websocket', serializer: 'json', peer: '10.0.0.7:1', loopback: false, listener: 'bench' },
  });
  if (out.kind !== 'challenge') throw new Error(`expected a CHALLENGE for ${authid}`);
  const result = await out.verify('wrong', {});
  if (result.kind !== 'deny') throw new Error(`expected a refusal for ${authid}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds') ?? 201);
  const iterations = Number(arg('iterations') ?? 100_000);
  const store = new PrincipalStore(
    loadPrincipals(
      {
        principals: [
          { authid: 'plain', role: 'device', ticket: 'plain-secret' },
          { authid: 'salted', role: 'admin', ticket: hashSecret('salted-secret', { iterations }) },
        ],
      },
      'auth.ticket',
      noFiles,
    ),
  );
  const auth = ticketAuthenticator({ store });
  const kinds = ['unknown', 'plain', 'salted'] as const;
  const ms: Record<(typeof kinds)[number], number[]> = { unknown: [], plain: [], salted: [] };
  const relative: Record<(typeof kinds)[number], number[]> = { unknown: [], plain: [], salted: [] };
  for (let round = 0; round < rounds; round++) {
    const order = [...kinds].sort(() => Math.random() - 0.5);
    const t: Partial<Record<(typeof kinds)[number], number>> = {};
    for (const kind of order) t[kind] = await refuse(auth, kind === 'unknown' ? `nobody-${round}` : kind);
    const mean = kinds.reduce((a, k) => a + (t[k] as number), 0) / kinds.length;
    for (const k of kinds) {
      ms[k].push(t[k] as number);
      relative[k].push((t[k] as number) / mean);
    }
  }
  console.log(`ticket refusal time, ${rounds} interleaved rounds, PBKDF2 ${iterations} iterations (node ${process.version})`);
  for (const k of kinds)
    console.log(
      `  ${k.padEnd(8)} p50 ${quantile(ms[k], 0.5).toFixed(2)} ms, p90 ${quantile(ms[k], 0.9).toFixed(2)} ms; median relative to its round ${quantile(relative[k], 0.5).toFixed(3)}`,
    );
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
