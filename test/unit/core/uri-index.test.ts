import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UriIndex } from '../../../src/core/uri-index';
import type { MatchPolicy } from '../../../src/protocol/uri';

test('get/set/delete keep exact, prefix and wildcard entries apart', () => {
  const index = new UriIndex<string>();
  index.set('a.b', 'exact', 'E');
  index.set('a.b', 'prefix', 'P');
  index.set('a.b', 'wildcard', 'W');
  assert.equal(index.size, 3);
  assert.equal(index.get('a.b', 'exact'), 'E');
  assert.equal(index.get('a.b', 'prefix'), 'P');
  assert.equal(index.get('a.b', 'wildcard'), 'W');
  assert.equal(index.delete('a.b', 'prefix'), true);
  assert.equal(index.delete('a.b', 'prefix'), false);
  assert.equal(index.get('a.b', 'prefix'), undefined);
  assert.equal(index.delete('a.b', 'wildcard'), true);
  assert.equal(index.delete('a..b', 'wildcard'), false);
  assert.equal(index.size, 1);
  assert.deepEqual([...index.entries()], [{ uri: 'a.b', match: 'exact', value: 'E' }]);
});

test('setting the same wildcard pattern twice replaces it and counts it once', () => {
  const index = new UriIndex<number>();
  index.set('a..c', 'wildcard', 1);
  index.set('a..c', 'wildcard', 2);
  assert.equal(index.size, 1);
  assert.deepEqual(index.matchAll('a.b.c'), [2]);
  index.delete('a..c', 'wildcard');
  assert.equal(index.size, 0);
  assert.deepEqual(index.matchAll('a.b.c'), []);
  assert.equal(index.matchBest('a.b.c'), undefined);
});

test('matchAll returns the exact, every matching prefix and every matching wildcard entry', () => {
  const index = new UriIndex<string>();
  index.set('com.myapp.topic1', 'exact', 'exact');
  index.set('com.myapp', 'prefix', 'prefix-short');
  index.set('com.myapp.topic', 'prefix', 'prefix-long');
  index.set('com.other', 'prefix', 'prefix-other');
  index.set('com..topic1', 'wildcard', 'wild-1');
  index.set('..', 'wildcard', 'wild-all3');
  index.set('com.myapp..', 'wildcard', 'wild-4');
  assert.deepEqual(new Set(index.matchAll('com.myapp.topic1')), new Set(['exact', 'prefix-short', 'prefix-long', 'wild-1', 'wild-all3']));
  assert.deepEqual(index.matchAll('org.x'), []);
});

test('prefix matching is on the string, as the spec examples show', () => {
  // spec "Prefix Matching": REGISTER "com.myapp.myobject1" with match=prefix
  const index = new UriIndex<number>();
  index.set('com.myapp.myobject1', 'prefix', 1);
  for (const uri of [
    'com.myapp.myobject1.myprocedure1',
    'com.myapp.myobject1-mysubobject1',
    'com.myapp.myobject1.mysubobject1.myprocedure1',
    'com.myapp.myobject1',
  ]) {
    assert.deepEqual(index.matchAll(uri), [1], uri);
    assert.equal(index.matchBest(uri)?.value, 1, uri);
  }
  for (const uri of ['com.myapp.myobject2', 'com.myapp.myobject']) {
    assert.deepEqual(index.matchAll(uri), [], uri);
    assert.equal(index.matchBest(uri), undefined, uri);
  }
});

test('wildcards match whole components only, and only URIs with as many components', () => {
  // spec "Wildcard Matching": REGISTER "com.myapp..myprocedure1" with match=wildcard
  const index = new UriIndex<number>();
  index.set('com.myapp..myprocedure1', 'wildcard', 1);
  for (const uri of ['com.myapp.myobject1.myprocedure1', 'com.myapp.myobject2.myprocedure1']) assert.deepEqual(index.matchAll(uri), [1], uri);
  for (const uri of [
    'com.myapp.myobject1.myprocedure1.mysubprocedure1',
    'com.myapp.myobject1.myprocedure2',
    'com.myapp2.myobject1.myprocedure1',
    'com.myapp.myprocedure1',
  ]) {
    assert.deepEqual(index.matchAll(uri), [], uri);
  }
});

// The spec's ranking table says 'a1.b2.c33.d4.e5' has "no prefix match", which holds only for
// component-wise prefixes; its own normative prefix text (RPC and pub/sub: "com.myapp.myobject1"
// matches "com.myapp.myobject1-mysubobject1") makes prefixes string prefixes, as Crossbar does.
// The index follows the normative text: 'a1.b2.c3' (prefix) matches 'a1.b2.c33.d4.e5'.
test('matchBest follows the spec precedence with the spec examples (pattern-based registration)', () => {
  const index = new UriIndex<number>();
  index.set('a1.b2.c3.d4.e55', 'exact', 1);
  index.set('a1.b2.c3', 'prefix', 2);
  index.set('a1.b2.c3.d4', 'prefix', 3);
  index.set('a1.b2..d4.e5', 'wildcard', 4);
  index.set('a1.b2.c33..e5', 'wildcard', 5);
  index.set('a1.b2..d4.e5..g7', 'wildcard', 6);
  index.set('a1.b2..d4..f6.g7', 'wildcard', 7);
  const cases: Array<[string, number | undefined, MatchPolicy | undefined]> = [
    ['a1.b2.c3.d4.e55', 1, 'exact'],
    ['a1.b2.c3.d98.e74', 2, 'prefix'],
    ['a1.b2.c3.d4.e325', 3, 'prefix'],
    ['a1.b2.c55.d4.e5', 4, 'wildcard'],
    ['a1.b2.c33.d4.e5', 2, 'prefix'], // see the note above; the wildcard ranking is checked below
    ['a1.b2.c88.d4.e5.f6.g7', 6, 'wildcard'],
    ['a2.b2.c2.d2.e2', undefined, undefined],
  ];
  for (const [uri, value, match] of cases) {
    const best = index.matchBest(uri);
    assert.equal(best?.value, value, uri);
    assert.equal(best?.match, match, uri);
  }
});

test('matchBest ranks wildcards by their concrete portions, first portion first (spec examples 4-7)', () => {
  const index = new UriIndex<number>();
  index.set('a1.b2..d4.e5', 'wildcard', 4);
  index.set('a1.b2.c33..e5', 'wildcard', 5);
  index.set('a1.b2..d4.e5..g7', 'wildcard', 6);
  index.set('a1.b2..d4..f6.g7', 'wildcard', 7);
  assert.equal(index.matchBest('a1.b2.c55.d4.e5')?.value, 4);
  assert.equal(index.matchBest('a1.b2.c33.d4.e5')?.value, 5);
  assert.equal(index.matchBest('a1.b2.c88.d4.e5.f6.g7')?.value, 6);
  // insertion order does not decide
  const reversed = new UriIndex<number>();
  reversed.set('a1.b2..d4..f6.g7', 'wildcard', 7);
  reversed.set('a1.b2.c33..e5', 'wildcard', 5);
  reversed.set('a1.b2..d4.e5..g7', 'wildcard', 6);
  reversed.set('a1.b2..d4.e5', 'wildcard', 4);
  assert.equal(reversed.matchBest('a1.b2.c33.d4.e5')?.value, 5);
  assert.equal(reversed.matchBest('a1.b2.c88.d4.e5.f6.g7')?.value, 6);
});

test('matchBest: exact beats a prefix beats a wildcard even when the others are "longer"', () => {
  const index = new UriIndex<string>();
  index.set('a.b.c', 'wildcard', 'wild'); // a wildcard pattern without empty components
  assert.equal(index.matchBest('a.b.c')?.value, 'wild');
  index.set('a', 'prefix', 'prefix');
  assert.equal(index.matchBest('a.b.c')?.value, 'prefix');
  index.set('a.b.c', 'exact', 'exact');
  assert.equal(index.matchBest('a.b.c')?.value, 'exact');
});

// ---- properties against a naive reference -----------------------------------------------------

type Entry = { uri: string; match: MatchPolicy; value: number };

function naiveMatches(e: Entry, uri: string): boolean {
  if (e.match === 'exact') return e.uri === uri;
  if (e.match === 'prefix') return uri.startsWith(e.uri);
  const p = e.uri.split('.');
  const u = uri.split('.');
  return p.length === u.length && p.every((c, i) => c === '' || c === u[i]);
}

/** Spec ranking for wildcards: compare the lengths of concrete runs before each wildcard. */
function naiveWildcardBetter(a: string, b: string): boolean {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < pa.length; i++) {
    const ca = pa[i] !== '';
    const cb = pb[i] !== '';
    if (ca !== cb) return ca;
  }
  return false;
}

function naiveBest(entries: Entry[], uri: string): Entry | undefined {
  const m = entries.filter((e) => naiveMatches(e, uri));
  const exact = m.find((e) => e.match === 'exact');
  if (exact) return exact;
  const prefixes = m.filter((e) => e.match === 'prefix').sort((x, y) => y.uri.length - x.uri.length);
  if (prefixes[0]) return prefixes[0];
  let best: Entry | undefined;
  for (const e of m.filter((x) => x.match === 'wildcard')) if (!best || naiveWildcardBetter(e.uri, best.uri)) best = e;
  return best;
}

const component = fc.constantFrom('a', 'b', 'c', 'ab');
const uriArb = fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join('.'));
const patternArb: fc.Arbitrary<{ uri: string; match: MatchPolicy }> = fc.oneof(
  uriArb.map((uri) => ({ uri, match: 'exact' as const })),
  fc.tuple(uriArb, fc.boolean()).map(([uri, dot]) => ({ uri: dot ? uri + '.' : uri, match: 'prefix' as const })),
  fc.array(fc.constantFrom('a', 'b', ''), { minLength: 1, maxLength: 4 }).map((c) => ({ uri: c.join('.'), match: 'wildcard' as const })),
);

function build(patterns: Array<{ uri: string; match: MatchPolicy }>): { index: UriIndex<number>; entries: Entry[] } {
  const index = new UriIndex<number>();
  const byKey = new Map<string, Entry>();
  patterns.forEach((p, i) => {
    index.set(p.uri, p.match, i);
    byKey.set(`${p.match} ${p.uri}`, { ...p, value: i });
  });
  return { index, entries: [...byKey.values()] };
}

test('matchAll agrees with a naive scan of every pattern', () => {
  fc.assert(
    fc.property(fc.array(patternArb, { maxLength: 12 }), fc.array(uriArb, { minLength: 1, maxLength: 5 }), (patterns, uris) => {
      const { index, entries } = build(patterns);
      assert.equal(index.size, entries.length);
      for (const uri of uris) {
        const expected = entries
          .filter((e) => naiveMatches(e, uri))
          .map((e) => e.value)
          .sort((x, y) => x - y);
        assert.deepEqual(
          [...index.matchAll(uri)].sort((x, y) => x - y),
          expected,
          uri,
        );
      }
    }),
    { numRuns: 500 },
  );
});

test('matchBest agrees with the naive spec ranking, and after deletions too', () => {
  fc.assert(
    fc.property(
      fc.array(patternArb, { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 4 }),
      fc.array(uriArb, { minLength: 1, maxLength: 5 }),
      (patterns, deletions, uris) => {
        const { index, entries } = build(patterns);
        let live = entries;
        for (const d of deletions) {
          const victim = live[d % Math.max(1, live.length)];
          if (!victim) break;
          assert.equal(index.delete(victim.uri, victim.match), true);
          live = live.filter((e) => e !== victim);
        }
        for (const uri of uris) {
          const expected = naiveBest(live, uri);
          const best = index.matchBest(uri);
          assert.equal(best?.value, expected?.value, `${uri} among ${JSON.stringify(live)}`);
          assert.equal(best?.match, expected?.match);
        }
      },
    ),
    { numRuns: 500 },
  );
});
