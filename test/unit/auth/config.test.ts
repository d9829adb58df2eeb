// Validators of the listener `auth` and realm `roles`/`authorizer` sections: every problem,
// each with its path; the anonymous-exposure rule.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAnonymousExposure, isAllowAllRole, validateDynamicAuthorizer, validateListenerAuth, validateRoles } from '../../../src/auth/config';

const paths = (ps: { path: string }[]): string[] => ps.map((p) => p.path).sort();

test('a full, valid listener auth section has no problems', () => {
  const auth = {
    anonymous: { role: 'anonymous' },
    ticket: {
      principals: [
        { authid: 'dev1', role: 'device', ticket: { env: 'DEV1_TICKET' } },
        { authid: 'dev9', role: 'device', ticket: { salt: 's', iterations: 1000, keylen: 32, derived: { credential: 'dev9' } } },
      ],
    },
    wampcra: { principals: [{ authid: 'app', role: 'app', secret: 'x', salt: 'y', iterations: 1000, keylen: 32 }], principalsFile: '/etc/wampgate/cra.json' },
    cryptosign: { principals: [{ authid: 'dev2', role: 'device', pubkeys: ['a'.repeat(64)] }] },
    tls: {
      principals: [
        { cn: 'device-7', role: 'device' },
        { fingerprint: 'AB'.repeat(32), role: 'admin' },
      ],
    },
    dynamic: { procedure: 'com.example.authenticate', realm: 'realm1', timeoutMs: 3000, cacheTtlMs: 60000 },
    rateLimit: { maxFailures: 5, windowMs: 60000, blockMs: 300000 },
  };
  assert.deepEqual(validateListenerAuth(auth, 'listeners[0].auth', true), []);
});

test('listener auth: every problem is reported with its path', () => {
  const problems = validateListenerAuth(
    {
      anonymous: { role: '', bogus: 1 },
      ticket: {
        principals: [
          { authid: 'a', role: 'r' },
          { authid: 'a', role: 'r', ticket: { env: '' } },
        ],
      },
      wampcra: { principals: [{ authid: 'b', role: 'r', secret: 'x', salt: 's' }] },
      cryptosign: { principals: [{ authid: 'c', role: 'r', pubkeys: ['xyz'] }] },
      tls: { principals: [{ role: 'r' }] },
      dynamic: { procedure: 'bad uri' },
      rateLimit: { maxFailures: -1 },
      kerberos: {},
    },
    'listeners[1].auth',
    false,
  );
  assert.deepEqual(paths(problems), [
    'listeners[1].auth.anonymous',
    'listeners[1].auth.anonymous.bogus',
    'listeners[1].auth.anonymous.role',
    'listeners[1].auth.cryptosign.principals[0].pubkeys[0]',
    'listeners[1].auth.dynamic.procedure',
    'listeners[1].auth.dynamic.realm',
    'listeners[1].auth.kerberos',
    'listeners[1].auth.rateLimit.maxFailures',
    'listeners[1].auth.ticket.principals[0].ticket',
    'listeners[1].auth.ticket.principals[1].authid',
    'listeners[1].auth.ticket.principals[1].ticket.env',
    'listeners[1].auth.tls.principals[0]',
    'listeners[1].auth.wampcra.principals[0].iterations',
    'listeners[1].auth.wampcra.principals[0].keylen',
  ]);
});

test('anonymous on a non-loopback listener needs allowRemoteAnonymous', () => {
  assert.deepEqual(validateListenerAuth({ anonymous: {} }, 'l', true), []);
  assert.equal(validateListenerAuth({ anonymous: {} }, 'l', false).length, 1);
  assert.deepEqual(validateListenerAuth({ anonymous: { allowRemoteAnonymous: true } }, 'l', false), []);
  assert.equal(validateListenerAuth({}, 'l', true).length, 1, 'no method at all');
});

test('roles: valid config, and every problem with its path', () => {
  assert.deepEqual(
    validateRoles(
      [
        {
          name: 'device',
          disclose: { caller: true },
          permissions: [
            { uri: 'sensors.', match: 'prefix', allow: { publish: true, subscribe: true }, disclose: { publisher: true } },
            { uri: '', match: 'prefix', allow: {} },
            { uri: 'a..c', match: 'wildcard', allow: { call: true } },
          ],
        },
      ],
      'realms[0].roles',
    ),
    [],
  );
  const problems = validateRoles(
    [
      {
        name: 'x',
        permissions: [
          { uri: 'a b', allow: {} },
          { uri: 'ok', match: 'regex', allow: { fly: true } },
          { uri: 'dup', allow: {} },
          { uri: 'dup', allow: { call: 'yes' } },
        ],
      },
      { name: 'x', permissions: 'all' },
      { permissions: [], disclose: { caller: 1 } },
    ],
    'realms[0].roles',
  );
  assert.deepEqual(paths(problems), [
    'realms[0].roles[0].permissions[0].uri',
    'realms[0].roles[0].permissions[1].allow.fly',
    'realms[0].roles[0].permissions[1].match',
    'realms[0].roles[0].permissions[3].allow.call',
    'realms[0].roles[0].permissions[3].uri',
    'realms[0].roles[1].name',
    'realms[0].roles[1].permissions',
    'realms[0].roles[2].disclose.caller',
    'realms[0].roles[2].name',
  ]);
  assert.equal(validateRoles('x', 'r').length, 1);
});

test('dynamic authorizer section', () => {
  assert.deepEqual(validateDynamicAuthorizer({ procedure: 'com.example.authorize', cacheTtlMs: 1000 }, 'a'), []);
  assert.deepEqual(paths(validateDynamicAuthorizer({ timeoutMs: 0 }, 'a')), ['a.procedure', 'a.timeoutMs']);
});

test('anonymous exposure: remote anonymous with an allow-all role or a realm without roles needs allowAnonymousAllowAll', () => {
  const allowAll = {
    name: 'anonymous',
    permissions: [{ uri: '', match: 'prefix' as const, allow: { call: true, register: true, publish: true, subscribe: true } }],
  };
  const narrow = { name: 'anonymous', permissions: [{ uri: 'public.', match: 'prefix' as const, allow: { subscribe: true } }] };
  assert.equal(isAllowAllRole(allowAll), true);
  assert.equal(isAllowAllRole(narrow), false);
  const remote = { anonymous: { allowRemoteAnonymous: true } };
  assert.equal(checkAnonymousExposure(remote, 'l', false, [{ name: 'r', roles: [allowAll] }]).length, 1);
  assert.equal(checkAnonymousExposure(remote, 'l', false, [{ name: 'r' }]).length, 1, 'no roles = allow-all');
  assert.equal(checkAnonymousExposure(remote, 'l', false, [{ name: 'r', roles: [narrow] }]).length, 0);
  assert.equal(checkAnonymousExposure(remote, 'l', true, [{ name: 'r' }]).length, 0, 'loopback is fine');
  assert.equal(checkAnonymousExposure({ anonymous: { allowRemoteAnonymous: true, allowAnonymousAllowAll: true } }, 'l', false, [{ name: 'r' }]).length, 0);
});
