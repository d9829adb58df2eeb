// RoleAuthorizer: examples, a property test against a brute-force reference model (collect
// every matching rule, take the most specific by the spec order), and a soundness property
// for pattern-based subscribe/register.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RoleAuthorizer, type PermissionRule, type RoleConfig } from '../../../src/auth/authorizer';
import type { Action, SessionIdentity } from '../../../src/core/ports';
import type { MatchPolicy } from '../../../src/protocol/uri';
import { transport } from './support';

const who = (authrole: string): SessionIdentity => ({ session: 1, realm: 'r', authid: 'x', authrole, authmethod: 'ticket', transport: transport() });
const ACTIONS: Action[] = ['call', 'register', 'publish', 'subscribe'];

const device: RoleConfig = {
  name: 'device',
  permissions: [
    { uri: 'sensors.', match: 'prefix', allow: { publish: true, subscribe: true }, disclose: { publisher: true } },
    { uri: 'sensors.secret.', match: 'prefix', allow: {} },
    { uri: 'sensors.secret.ok', allow: { publish: true } },
    { uri: 'cmd..reboot', match: 'wildcard', allow: { call: true }, disclose: { caller: true } },
    { uri: 'wamp.session.count', allow: { call: true } },
  ],
};
const admin: RoleConfig = { name: 'admin', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] };
const authz = new RoleAuthorizer([device, admin]);

test('most specific rule wins: exact over prefix, longer prefix over shorter', () => {
  assert.deepEqual(authz.authorize(who('device'), 'publish', 'sensors.temp', {}), { allow: true, disclose: true });
  assert.deepEqual(authz.authorize(who('device'), 'publish', 'sensors.secret.key', {}), { allow: false });
  assert.equal(authz.authorize(who('device'), 'publish', 'sensors.secret.ok', {}).allow, true);
  assert.equal(authz.authorize(who('device'), 'call', 'sensors.temp', {}).allow, false, 'action not in the rule');
  assert.deepEqual(authz.authorize(who('device'), 'call', 'cmd.pump1.reboot', {}), { allow: true, disclose: true });
  assert.equal(authz.authorize(who('device'), 'call', 'cmd.pump1.halt', {}).allow, false);
});

test('deny by default: no rule, unknown role', () => {
  assert.equal(authz.authorize(who('device'), 'publish', 'other.topic', {}).allow, false);
  assert.equal(authz.authorize(who('ghost'), 'publish', 'sensors.temp', {}).allow, false);
});

test('wamp. URIs only for rules that name them; a catch-all does not grant them', () => {
  assert.equal(authz.authorize(who('device'), 'call', 'wamp.session.count', {}).allow, true);
  assert.equal(authz.authorize(who('device'), 'call', 'wamp.session.list', {}).allow, false);
  assert.equal(authz.authorize(who('admin'), 'call', 'anything.at.all', {}).allow, true);
  assert.equal(authz.authorize(who('admin'), 'call', 'wamp.session.count', {}).allow, false);
  assert.equal(authz.authorize(who('admin'), 'subscribe', 'wamp.session.on_join', {}).allow, false);
});

test('pattern subscriptions: allowed only when covered and nothing narrower denies', () => {
  assert.equal(authz.authorize(who('device'), 'subscribe', 'sensors.temp.', { match: 'prefix' }).allow, true);
  assert.equal(authz.authorize(who('device'), 'subscribe', 'sensors.', { match: 'prefix' }).allow, false, 'would reach sensors.secret.*');
  assert.equal(authz.authorize(who('device'), 'subscribe', 'sens', { match: 'prefix' }).allow, false, 'not covered by sensors.');
  assert.equal(authz.authorize(who('device'), 'subscribe', 'sensors..temp', { match: 'wildcard' }).allow, false, 'the wildcard reaches sensors.secret.temp');
  assert.equal(authz.authorize(who('device'), 'subscribe', 'sensors.room1.', { match: 'prefix' }).allow, true);
  assert.equal(authz.authorize(who('admin'), 'subscribe', 'wamp.', { match: 'prefix' }).allow, false);
  assert.equal(authz.authorize(who('admin'), 'subscribe', '.x', { match: 'wildcard' }).allow, false, 'could match wamp.x');
  assert.equal(authz.authorize(who('admin'), 'register', 'app..get', { match: 'wildcard' }).allow, true);
  // an exact rule does not cover a pattern with the same text
  const narrow = new RoleAuthorizer([{ name: 'n', permissions: [{ uri: 'a.b', allow: { subscribe: true } }] }]);
  assert.equal(narrow.authorize(who('n'), 'subscribe', 'a.b', { match: 'prefix' }).allow, false);
  assert.equal(narrow.authorize(who('n'), 'subscribe', 'a.b', {}).allow, true);
});

// ---- reference model ----------------------------------------------------------------------------

const COMPONENTS = ['a', 'ab', 'b', 'wamp'];

function uriMatches(rule: PermissionRule, uri: string): boolean {
  const m = rule.match ?? 'exact';
  if (m === 'exact') return rule.uri === uri;
  if (m === 'prefix') return uri.startsWith(rule.uri);
  const p = rule.uri.split('.');
  const u = uri.split('.');
  return p.length === u.length && p.every((c, i) => c === '' || c === u[i]);
}

/** Spec order: exact > prefix (longer first) > wildcard (concrete components earlier first). */
function specificity(rule: PermissionRule): number[] {
  const m = rule.match ?? 'exact';
  if (m === 'exact') return [3];
  if (m === 'prefix') return [2, rule.uri.length];
  return [1, ...rule.uri.split('.').map((c) => (c === '' ? 0 : 1))];
}

function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function reference(roles: RoleConfig[], role: string, action: Action, uri: string): { allow: boolean; disclose?: boolean } {
  const r = [...roles].reverse().find((x) => x.name === role);
  if (!r) return { allow: false };
  // later duplicates (same uri and match) replace earlier ones
  const rules: PermissionRule[] = [];
  for (const rule of r.permissions) {
    const i = rules.findIndex((x) => x.uri === rule.uri && (x.match ?? 'exact') === (rule.match ?? 'exact'));
    if (i >= 0) rules.splice(i, 1);
    rules.push(rule);
  }
  const meta = uri.startsWith('wamp.');
  const matching = rules.filter((rule) => uriMatches(rule, uri) && (!meta || rule.uri.startsWith('wamp.')));
  if (matching.length === 0) return { allow: false };
  matching.sort((a, b) => cmp(specificity(b), specificity(a)));
  const best = matching[0] as PermissionRule;
  if (best.allow[action] !== true) return { allow: false };
  const disclose =
    action === 'call'
      ? (best.disclose?.caller ?? r.disclose?.caller ?? false)
      : action === 'publish'
        ? (best.disclose?.publisher ?? r.disclose?.publisher ?? false)
        : false;
  return { allow: true, disclose };
}

const componentArb = fc.constantFrom(...COMPONENTS);
const uriArb = fc.array(componentArb, { minLength: 1, maxLength: 4 }).map((c) => c.join('.'));
const ruleArb: fc.Arbitrary<PermissionRule> = fc
  .record({
    match: fc.constantFrom<MatchPolicy>('exact', 'prefix', 'wildcard'),
    base: fc.array(fc.option(componentArb, { nil: '' }), { minLength: 1, maxLength: 4 }),
    cut: fc.nat(12),
    allow: fc.record({ call: fc.boolean(), register: fc.boolean(), publish: fc.boolean(), subscribe: fc.boolean() }),
    disclose: fc.option(fc.record({ caller: fc.boolean(), publisher: fc.boolean() }), { nil: undefined }),
  })
  .map(({ match, base, cut, allow, disclose }) => {
    let uri: string;
    if (match === 'exact') uri = base.map((c) => c || 'a').join('.');
    else if (match === 'prefix') {
      const full = base.map((c) => c || 'b').join('.') + '.';
      uri = full.slice(0, Math.min(cut, full.length));
    } else uri = base.join('.');
    const rule: PermissionRule = { uri, match, allow };
    if (disclose) rule.disclose = disclose;
    return rule;
  });
const roleArb = (name: string): fc.Arbitrary<RoleConfig> =>
  fc
    .record({
      permissions: fc.array(ruleArb, { maxLength: 8 }),
      disclose: fc.option(fc.record({ caller: fc.boolean(), publisher: fc.boolean() }), { nil: undefined }),
    })
    .map((r) => {
      const role: RoleConfig = { name, permissions: r.permissions };
      if (r.disclose) role.disclose = r.disclose;
      return role;
    });
const rolesArb = fc.tuple(roleArb('r1'), roleArb('r2'));

test('property: the decision for a URI equals the brute-force reference model', () => {
  fc.assert(
    fc.property(rolesArb, fc.constantFrom('r1', 'r2', 'r3'), fc.constantFrom(...ACTIONS), uriArb, (roles, role, action, uri) => {
      const got = new RoleAuthorizer(roles).authorize(who(role), action, uri, {});
      const want = reference(roles, role, action, uri);
      assert.deepEqual(got, want);
    }),
    { numRuns: 5000 },
  );
});

// Every URI of up to 4 components over the alphabet: small enough to check exhaustively.
const UNIVERSE: string[] = [];
(function fill(prefix: string[]): void {
  if (prefix.length > 0) UNIVERSE.push(prefix.join('.'));
  if (prefix.length < 4) for (const c of COMPONENTS) fill([...prefix, c]);
})([]);

const patternArb = fc.oneof(
  uriArb.chain((u) => fc.nat(u.length).map((n) => ({ pattern: (u + '.').slice(0, Math.max(1, n)), match: 'prefix' as const }))),
  fc.array(fc.option(componentArb, { nil: '' }), { minLength: 1, maxLength: 4 }).map((c) => ({ pattern: c.join('.'), match: 'wildcard' as const })),
);

test('property: an allowed pattern subscription/registration reaches no URI the role may not use', () => {
  let allowedCases = 0;
  fc.assert(
    fc.property(rolesArb, fc.constantFrom<Action>('subscribe', 'register'), patternArb, (roles, action, { pattern, match }) => {
      const authz2 = new RoleAuthorizer(roles);
      if (!authz2.authorize(who('r1'), action, pattern, { match }).allow) return;
      allowedCases++;
      for (const uri of UNIVERSE) {
        const inPattern = match === 'prefix' ? uri.startsWith(pattern) : uriMatches({ uri: pattern, match: 'wildcard', allow: {} }, uri);
        if (inPattern) assert.equal(authz2.authorize(who('r1'), action, uri, {}).allow, true, `${match} "${pattern}" allowed, but "${uri}" is not`);
      }
    }),
    { numRuns: 3000 },
  );
  assert.ok(allowedCases > 50, `the property must see allowed patterns (saw ${allowedCases})`);
});

test('property: a pattern covered by one allowing catch-all with nothing else is allowed', () => {
  fc.assert(
    fc.property(patternArb, ({ pattern, match }) => {
      if (pattern.startsWith('wamp') || pattern.startsWith('wam') || pattern === 'w' || pattern.startsWith('.') || 'wamp.'.startsWith(pattern)) return;
      const a = new RoleAuthorizer([{ name: 'r1', permissions: [{ uri: '', match: 'prefix', allow: { subscribe: true } }] }]);
      assert.equal(a.authorize(who('r1'), 'subscribe', pattern, { match }).allow, true, `${match} "${pattern}"`);
    }),
  );
});
