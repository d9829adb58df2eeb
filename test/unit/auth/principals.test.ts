// Principal loading from config, files, environment and systemd credentials, and the
// constant-time comparisons.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pbkdf2Sync } from 'node:crypto';
import { ConfigError } from '../../../src/config/problem';
import { constantTimeEqual, hashSecret, loadPrincipals, PrincipalStore, roleFor, ticketMatches } from '../../../src/auth/principals';
import { processSecretEnv, resolveSecret, type SecretEnv } from '../../../src/config/secrets';
import type { ConfigProblem } from '../../../src/config/problem';

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

/** A real $CREDENTIALS_DIRECTORY laid out as the unit's credential settings lay it out. */
function withCredentialDir(files: Record<string, string>, body: (dir: string, senv: SecretEnv) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'wampgate-creds-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    body(dir, { env: { CREDENTIALS_DIRECTORY: dir }, readFile: processSecretEnv.readFile });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function resolved(source: Parameters<typeof resolveSecret>[0], senv: SecretEnv): { value: string | undefined; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const value = resolveSecret(source, 'uplink.auth.ticket', problems, senv);
  return { value, problems };
}

test('{credential: name} finds what LoadCredential=name:PATH, SetCredential= and the unit directory deliver', () => {
  // LoadCredential=uplink-key:/etc/... or LoadCredentialEncrypted=uplink-key:... -> "uplink-key";
  // the unit's LoadCredential=secret:/etc/wampgate/credentials turns the file uplink-ticket into
  // "secret_uplink-ticket" (systemd.exec(5), loading a directory).
  withCredentialDir({ 'uplink-key': 'k1\n', 'secret_uplink-ticket': 't1\n', both: 'by-name', secret_both: 'by-dir' }, (_dir, senv) => {
    assert.deepEqual(resolved({ credential: 'uplink-key' }, senv), { value: 'k1', problems: [] });
    assert.deepEqual(resolved({ credential: 'uplink-ticket' }, senv), { value: 't1', problems: [] }, 'the directory form needs no secret_ prefix in config');
    assert.deepEqual(resolved({ credential: 'secret_uplink-ticket' }, senv), { value: 't1', problems: [] }, 'the full credential ID works too');
    assert.equal(resolved({ credential: 'both' }, senv).value, 'by-name', 'a credential loaded by its own name wins');
  });
});

test('a missing credential names every path looked for; no CREDENTIALS_DIRECTORY says what sets it', () => {
  withCredentialDir({}, (dir, senv) => {
    const r = resolved({ credential: 'uplink-key' }, senv);
    assert.equal(r.value, undefined);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]?.path, 'uplink.auth.ticket');
    assert.match(r.problems[0]?.message ?? '', /credential "uplink-key" not found/);
    assert.ok(r.problems[0]?.message.includes(join(dir, 'uplink-key')), r.problems[0]?.message);
    assert.ok(r.problems[0]?.message.includes(join(dir, 'secret_uplink-key')), r.problems[0]?.message);
    const slash = resolved({ credential: '../etc/passwd' }, senv);
    assert.match(slash.problems[0]?.message ?? '', /must be a file name/);
  });
  const none = resolved({ credential: 'uplink-key' }, { env: {}, readFile: processSecretEnv.readFile });
  assert.match(none.problems[0]?.message ?? '', /needs \$CREDENTIALS_DIRECTORY.*LoadCredential=/);
});

test('{file} expands ${CREDENTIALS_DIRECTORY} and nothing else, and a missing file is named', () => {
  withCredentialDir({ 'secret_uplink-ticket': 'tt\n' }, (dir, senv) => {
    assert.deepEqual(resolved({ file: '${CREDENTIALS_DIRECTORY}/secret_uplink-ticket' }, senv), { value: 'tt', problems: [] });
    assert.deepEqual(resolved({ file: '$CREDENTIALS_DIRECTORY/secret_uplink-ticket' }, senv), { value: 'tt', problems: [] });
    const missing = resolved({ file: '${CREDENTIALS_DIRECTORY}/nope' }, senv);
    assert.equal(missing.problems[0]?.message, `cannot read secret ${join(dir, 'nope')}: ENOENT`);
    const other = resolved({ file: '${HOME}/x' }, { env: { HOME: '/root', CREDENTIALS_DIRECTORY: dir }, readFile: processSecretEnv.readFile });
    assert.match(other.problems[0]?.message ?? '', /unknown variable \$\{HOME\}/);
    const unset = resolved({ file: '${CREDENTIALS_DIRECTORY}/x' }, { env: {}, readFile: processSecretEnv.readFile });
    assert.match(unset.problems[0]?.message ?? '', /\$\{CREDENTIALS_DIRECTORY\} is not set/);
  });
});

test('principalsFile may live in the credentials directory too', () => {
  withCredentialDir({}, (dir, senv) => {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'p.json'), JSON.stringify([{ authid: 'x', role: 'app', ticket: 't' }]));
    const ps = loadPrincipals({ principalsFile: '${CREDENTIALS_DIRECTORY}/sub/p.json' }, 'auth.ticket', senv);
    assert.deepEqual(
      ps.map((p) => p.authid),
      ['x'],
    );
  });
});
