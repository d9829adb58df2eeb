import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isReserved, isValidPattern, isValidUri, parseMatch } from '../../../src/protocol/uri';

test('loose URIs: any non-empty components without whitespace, "." or "#"', () => {
  for (const ok of ['com.myapp.topic1', 'a', 'Com.MyApp.Topic-1', 'com.myapp.über', 'a1.b2.c3', 'x:y.z', 'wamp.session.on_join']) {
    assert.equal(isValidUri(ok, 'loose'), true, ok);
  }
  for (const bad of ['', '.', 'a.', '.a', 'a..b', 'a b.c', 'a.b\tc', 'a.b\nc', 'a#b', 'com.myapp.#']) {
    assert.equal(isValidUri(bad, 'loose'), false, JSON.stringify(bad));
  }
});

test('strict URIs: only lowercase letters, digits and "_" in non-empty components', () => {
  for (const ok of ['com.myapp.topic1', 'a', 'a_b.c_1', '0.1']) assert.equal(isValidUri(ok, 'strict'), true, ok);
  for (const bad of ['', 'Com.myapp', 'com.my-app', 'com.my app', 'a..b', 'a.', 'com.myapp.über', 'a:b']) {
    assert.equal(isValidUri(bad, 'strict'), false, JSON.stringify(bad));
  }
});

test('every strict URI is a loose URI', () => {
  const strictComponent = fc.stringMatching(/^[0-9a-z_]{1,6}$/);
  fc.assert(
    fc.property(fc.array(strictComponent, { minLength: 1, maxLength: 6 }), (components) => {
      const uri = components.join('.');
      assert.equal(isValidUri(uri, 'strict'), true);
      assert.equal(isValidUri(uri, 'loose'), true);
    }),
  );
});

test('loose URI validity is exactly: non-empty components free of whitespace, ".", "#"', () => {
  const component = fc.string({ unit: fc.constantFrom('a', 'B', '1', '-', ' ', '#', 'é', '_', '\t'), maxLength: 4 });
  fc.assert(
    fc.property(fc.array(component, { minLength: 1, maxLength: 5 }), (components) => {
      const uri = components.join('.');
      const expected = components.every((c) => c.length > 0 && !/[\s#]/.test(c));
      assert.equal(isValidUri(uri, 'loose'), expected, JSON.stringify(uri));
    }),
  );
});

test('prefix patterns may end with a dot (spec: "com.myapp." matches everything below com.myapp)', () => {
  assert.equal(isValidPattern('com.myapp.', 'prefix', 'loose'), true);
  assert.equal(isValidPattern('com.myapp.', 'prefix', 'strict'), true);
  assert.equal(isValidPattern('com.myapp', 'prefix', 'strict'), true);
  assert.equal(isValidPattern('com.MyApp.', 'prefix', 'strict'), false);
  assert.equal(isValidPattern('com.my app.', 'prefix', 'loose'), false);
  assert.equal(isValidPattern('', 'prefix', 'loose'), false);
});

test('wildcard patterns may have empty components anywhere', () => {
  for (const ok of ['com.myapp..myprocedure1', '.a.b', 'a.b.', 'a...d', '..']) {
    assert.equal(isValidPattern(ok, 'wildcard', 'loose'), true, ok);
    assert.equal(isValidPattern(ok, 'wildcard', 'strict'), true, ok);
  }
  assert.equal(isValidPattern('A..b', 'wildcard', 'strict'), false);
  assert.equal(isValidPattern('a..b c', 'wildcard', 'loose'), false);
  assert.equal(isValidPattern('a.#.b', 'wildcard', 'loose'), false);
  assert.equal(isValidPattern('', 'wildcard', 'loose'), false);
});

test('exact patterns follow the URI rules (no empty components)', () => {
  assert.equal(isValidPattern('a.b', 'exact', 'loose'), true);
  assert.equal(isValidPattern('a..b', 'exact', 'loose'), false);
  assert.equal(isValidPattern('a.b.', 'exact', 'loose'), false);
});

test('the wamp. namespace is reserved, nothing else is', () => {
  assert.equal(isReserved('wamp.session.count'), true);
  assert.equal(isReserved('wamp.x'), true);
  assert.equal(isReserved('wampx.y'), false);
  assert.equal(isReserved('com.wamp.x'), false);
  assert.equal(isReserved('wamp'), false);
});

test('parseMatch: absent means exact; only the three spec policies are known', () => {
  assert.equal(parseMatch(undefined), 'exact');
  assert.equal(parseMatch('exact'), 'exact');
  assert.equal(parseMatch('prefix'), 'prefix');
  assert.equal(parseMatch('wildcard'), 'wildcard');
  assert.equal(parseMatch('regex'), undefined);
  assert.equal(parseMatch(1), undefined);
  assert.equal(parseMatch(null), undefined);
});
