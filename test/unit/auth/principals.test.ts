// Principal loading from config, files, environment and systemd credentials, and the
// constant-time comparisons.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pbkdf2Sync } from 'node:crypto';
import { ConfigError } from '../../../src/config/problem';
import { constantTimeEqual, hashSecret, loadPrincipals, PrincipalStore, roleFor, ticketMatches, type SecretEnv } from '../../../src/auth/principals';

function senv(env: Record<string, string>, files: Record<string, string> = {}): SecretEnv {
  return {
    env,
    readFile: (p) => {
      const v = files[p];
      if (v === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
      return v;
    },
  };
}

test('secrets come from literals, env vars, files and systemd credentials', () => {
  const ps = loadPrincipals(
    {
      principals: [
        { authid: 'a', role: 'r', ticket: 'lit' },
        { authid: 'b', role: 'r', ticket: { env: 'B_TICKET' } },
        { authid: 'c', role: 'r', ticket: { file: '/etc/c' } },
        { authid: 'd', role: 'r', ticket: { credential: 'd-ticket' } },
      ],
    },
    'auth.ticket',
    senv({ B_TICKET: 'from-env', CREDENTIALS_DIRECTORY: '/run/creds' }, { '/etc/c': 'from-file\n', '/run/creds/d-ticket': 'from-cred\n' }),
  );
  const store = new PrincipalStore(ps);
  const plain = (id: string): string => {
    const t = store.get(id)?.ticket;
    assert.equal(t?.kind, 'plain');
    return t?.kind === 'plain' ? t.value.toString() : '';
  };
  assert.equal(plain('a'), 'lit');
  assert.equal(plain('b'), 'from-env');
  assert.equal(plain('c'), 'from-file', 'a trailing newline of a file is dropped');
  assert.equal(plain('d'), 'from-cred');
});

test('principal lists load from a JSON file, an env var and a credential, all merged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wampgate-principals-'));
  try {
    const file = join(dir, 'cra.json');
    writeFileSync(file, JSON.stringify({ principals: [{ authid: 'f', role: 'app', secret: 's1' }] }));
    writeFileSync(join(dir, 'creds'), JSON.stringify([{ authid: 'k', role: 'app', secret: 's3' }]));
    const ps = loadPrincipals({ principalsFile: file, principalsEnv: 'PRINCIPALS', principalsCredential: 'creds' }, 'auth.wampcra', {
      env: { PRINCIPALS: JSON.stringify([{ authid: 'e', roles: ['x', 'y'], secret: 's2' }]), CREDENTIALS_DIRECTORY: dir },
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    assert.deepEqual(ps.map((p) => p.authid).sort(), ['e', 'f', 'k']);
    assert.deepEqual(ps.find((p) => p.authid === 'e')?.roles, ['x', 'y']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every loading problem is reported with its path, and no secret appears in a message', () => {
  try {
    loadPrincipals(
      {
        principals: [
          { authid: 'a', role: 'r', ticket: { env: 'MISSING' } },
          { authid: '', role: 'r', ticket: 'x' },
          { authid: 'c', ticket: 'x' },
          { authid: 'd', role: 'r', pubkeys: ['zz'] },
        ],
        principalsFile: '/nope.json',
        principalsEnv: 'BAD_JSON',
      },
      'listeners.ws.auth.ticket',
      senv({ BAD_JSON: '{"secret-value": ' }),
    );
    assert.fail('expected ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const paths = err.problems.map((p) => p.path);
    assert.ok(paths.includes('listeners.ws.auth.ticket.principals[0].ticket'));
    assert.ok(paths.includes('listeners.ws.auth.ticket.principals[1].authid'));
    assert.ok(paths.includes('listeners.ws.auth.ticket.principals[2].role'));
    assert.ok(paths.includes('listeners.ws.auth.ticket.principals[3].pubkeys[0]'));
    assert.ok(paths.includes('listeners.ws.auth.ticket.principalsFile'));
    assert.ok(paths.includes('listeners.ws.auth.ticket.principalsEnv'));
    assert.ok(!err.message.includes('secret-value'), 'parser errors must not quote the content');
  }
});

test('salted WAMP-CRA secrets are derived with PBKDF2-HMAC-SHA256 and stored as the base64 key', () => {
  const [p] = loadPrincipals({ principals: [{ authid: 'a', role: 'r', secret: 'pw', salt: 'salt123', iterations: 100, keylen: 32 }] }, 'x', senv({}));
  const expected = pbkdf2Sync('pw', 'salt123', 100, 32, 'sha256').toString('base64');
  assert.equal(p?.cra?.key.toString(), expected);
  assert.deepEqual(p?.cra?.salt, { salt: 'salt123', iterations: 100, keylen: 32 });
  const [q] = loadPrincipals({ principals: [{ authid: 'b', role: 'r', derived: expected, salt: 'salt123', iterations: 100, keylen: 32 }] }, 'x', senv({}));
  assert.equal(q?.cra?.key.toString(), expected, 'a stored derived key needs no password on the router');
});

test('constant-time comparison: equal, different, different lengths', async () => {
  assert.equal(constantTimeEqual('abc', 'abc'), true);
  assert.equal(constantTimeEqual('abc', 'abd'), false);
  assert.equal(constantTimeEqual('abc', 'abcd'), false);
  assert.equal(constantTimeEqual('', ''), true);
  const h = hashSecret('tick', { iterations: 10 });
  const stored = { kind: 'pbkdf2' as const, salt: h.salt, iterations: h.iterations, keylen: h.keylen, derived: Buffer.from(h.derived as string, 'base64') };
  assert.equal(await ticketMatches('tick', stored), true);
  assert.equal(await ticketMatches('tock', stored), false);
});

test('roleFor: realm restriction and requested roles', () => {
  const p = { authid: 'a', roles: ['reader', 'writer'], realm: 'r1', pubkeys: [] };
  assert.equal(roleFor(p, 'r1', undefined), 'reader');
  assert.equal(roleFor(p, 'r1', 'writer'), 'writer');
  assert.equal(roleFor(p, 'r1', 'admin'), undefined);
  assert.equal(roleFor(p, 'r2', undefined), undefined);
});
