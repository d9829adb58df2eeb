// The pure pieces of remote administration: the admin section, who may call, redaction, the
// commit-confirmed files on disk, and the reload plan.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { adminSection, callerAllowed, resolveAdmin, validateAdmin } from '../../../src/admin/admin-config';
import { withSection } from '../../../src/config/section';
import { uplinkSection } from '../../../src/uplink/uplink-section';
import { CommitConfirmedStore } from '../../../src/admin/commit-confirmed';
import { maskSecrets, redactConfig, secretValues } from '../../../src/admin/redact';
import { defaultConfig } from '../../../src/config/defaults';
import { planReload } from '../../../src/gateway-reload';
import { tempDir } from '../../integration/support/gateway';

test('the admin section: nobody is allowed by default, every problem has its path', () => {
  assert.deepEqual(
    validateAdmin({ enabled: true }, 'admin').map((p) => p.path),
    ['admin.allow'],
  );
  const problems = validateAdmin({ allow: [{}, { authid: 7 }, { role: 'x' }], prefix: 'no-dot', confirmWithinS: 5, extra: 1 }, 'admin').map((p) => p.path);
  assert.deepEqual(
    problems.sort(),
    ['admin.allow[0]', 'admin.allow[1].authid', 'admin.allow[2]', 'admin.allow[2].role', 'admin.confirmWithinS', 'admin.extra', 'admin.prefix'].sort(),
  );
  assert.deepEqual(validateAdmin({ allow: [{ authrole: 'ops' }] }, 'admin'), []);
  assert.deepEqual(validateAdmin({ enabled: false }, 'admin'), [], 'off needs no allow list');
});

test('the admin prefix takes the uplink gateway id; admin off resolves to nothing', () => {
  const config = withSection(defaultConfig(), uplinkSection, { url: 'ws://127.0.0.1:1/ws', realm: 'cloud', gatewayId: 'gw7' });
  withSection(config, adminSection, { allow: [{ authrole: 'ops' }] });
  assert.equal(resolveAdmin(config)?.prefix, 'site.gw7.');
  withSection(config, adminSection, { enabled: false });
  assert.equal(resolveAdmin(config), undefined);
});

test('a caller is allowed only by what the cloud disclosed, and only when every named field matches', () => {
  const allow = [{ authrole: 'ops' }, { authid: 'alice', authrole: 'dev' }];
  assert.equal(callerAllowed(allow, {}), false, 'nothing disclosed: refused');
  assert.equal(callerAllowed(allow, { caller_authid: 'bob', caller_authrole: 'ops' }), true);
  assert.equal(callerAllowed(allow, { caller_authid: 'alice', caller_authrole: 'dev' }), true);
  assert.equal(callerAllowed(allow, { caller_authid: 'bob', caller_authrole: 'dev' }), false);
  assert.equal(callerAllowed(allow, { caller: 123 }), false, 'a session id alone is no identity');
});

test('config.get redacts secret fields; logs.tail masks secrets named inline or by environment variable', () => {
  const config = {
    uplink: { auth: { authid: 'gw1', ticket: 'inline-secret' } },
    listeners: [{ auth: { ticket: { principals: [{ authid: 'd', ticket: { env: 'ADMIN_TEST_T' } }] } } }],
  };
  const shown = JSON.stringify(redactConfig(config));
  assert.ok(!shown.includes('inline-secret'));
  assert.match(shown, /"authid":"gw1"/, 'what is not secret stays');
  assert.match(
    shown,
    /"principals":\[\{"authid":"d","ticket":\{"env":"ADMIN_TEST_T"\}\}\]/,
    "a listener's ticket method and a secret's reference stay readable",
  );
  const secrets = secretValues(config, { ADMIN_TEST_T: 'env-secret-value' });
  assert.deepEqual(secrets.sort(), ['env-secret-value', 'inline-secret'].sort());
  assert.equal(maskSecrets('a inline-secret b env-secret-value', secrets), 'a [redacted] b [redacted]');
});

test('commit confirmed on disk: begin, rollback to the base file or to the previous config, confirm', () => {
  const dir = tempDir('wampgate-cc-');
  try {
    const store = new CommitConfirmedStore(dir.path);
    const a = { baseSha256: 'x', config: { v: 'a' } };
    const b = { baseSha256: 'x', config: { v: 'b' } };
    store.begin(undefined, a, 1000, 0);
    assert.deepEqual(store.applied(), a);
    assert.equal(store.pending()?.previous, 'base');
    assert.equal(store.rollback(), undefined, 'back to the base file');
    assert.equal(store.applied(), undefined);
    store.begin(undefined, a, 1000, 0);
    store.confirm();
    assert.equal(store.pending(), undefined);
    assert.deepEqual(store.applied(), a, 'confirmed stays');
    store.begin(a, b, 2000, 0);
    assert.deepEqual(store.rollback(), a, 'back to the previous applied config');
    assert.deepEqual(store.applied(), a);
    assert.ok(!existsSync(join(dir.path, 'admin', 'pending.json')));
  } finally {
    dir.remove();
  }
});

test('the reload plan: what restarts, what is live, what needs a restart', () => {
  const before = defaultConfig();
  const after = defaultConfig();
  after.limits = { ...after.limits, maxPendingCalls: 3, maxMessageBytes: 1024 };
  after.listeners = [...after.listeners.map((l) => ({ ...l, auth: { anonymous: {} } })), { name: 'extra', type: 'rawsocket', port: 0 }];
  const plan = planReload(before, after);
  assert.deepEqual(plan.liveLimits, ['maxPendingCalls']);
  assert.deepEqual(plan.restartRequired, ['limits.maxMessageBytes']);
  const withHistory = defaultConfig();
  withHistory.realms = withHistory.realms.map((r) => ({ ...r, history: [{ uri: 'sensors.', match: 'prefix' }] }));
  assert.deepEqual(planReload(before, withHistory).restartRequired, [], 'history rules are applied live');
  assert.equal(planReload(before, withHistory).history, true);
  assert.equal(plan.history, false);
  assert.equal(plan.auth, true);
  assert.equal(plan.listeners.extra, 'added');
  for (const l of before.listeners) assert.equal(plan.listeners[l.name], 'kept', 'an auth change alone keeps a listener');
});

test('a listener on port 0 is kept by a reload that names the port it is bound to, restarted by one that names another', () => {
  const before = defaultConfig();
  before.listeners = [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: 0, path: '/ws' }];
  const same = defaultConfig();
  same.listeners = [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: 40123, path: '/ws' }];
  const bound = new Map([['ws', 40123]]);
  assert.equal(planReload(before, same, bound).listeners.ws, 'kept', 'the bound port is what port 0 meant');
  assert.equal(planReload(before, before, bound).listeners.ws, 'kept', 'port 0 again: nothing changed');
  const other = defaultConfig();
  other.listeners = [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: 40124, path: '/ws' }];
  assert.equal(planReload(before, other, bound).listeners.ws, 'restarted', 'another port is a change');
  assert.equal(planReload(before, same).listeners.ws, 'restarted', 'without the bound port there is nothing to compare with');
});
