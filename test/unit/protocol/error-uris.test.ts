// The error-URI catalog and docs/errors.md cannot drift apart: every URI of the catalog is
// explained in the doc, and the doc names no URI the catalog does not have.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ErrorUri, SpecErrorUri } from '../../../src/protocol/error-uris';
import { WampgateErrorUri } from '../../../src/protocol/wampgate-error-uris';

const doc = readFileSync(path.resolve(__dirname, '../../../../docs/errors.md'), 'utf8');

test('every URI of the catalog is explained in docs/errors.md', () => {
  const missing = Object.values(ErrorUri).filter((uri) => !doc.includes(`\`${uri}\``));
  assert.deepEqual(missing, [], `docs/errors.md does not mention: ${missing.join(', ')}`);
});

test('docs/errors.md names no error or close URI that the catalog lacks', () => {
  const known = new Set<string>(Object.values(ErrorUri));
  const named = [...doc.matchAll(/`((?:wamp|wampgate)\.(?:error|close)\.[a-z0-9_.]+)`/g)].map((m) => m[1] as string);
  assert.ok(named.length >= known.size, 'the doc names URIs in backticks');
  const unknown = [...new Set(named.filter((uri) => !known.has(uri)))];
  assert.deepEqual(unknown, [], `docs/errors.md names URIs that are not in the catalog: ${unknown.join(', ')}`);
});

test('ErrorUri is the spec half and the wampgate half, each URI once, each in its namespace', () => {
  assert.deepEqual(ErrorUri, { ...SpecErrorUri, ...WampgateErrorUri });
  assert.equal(Object.keys(ErrorUri).length, Object.keys(SpecErrorUri).length + Object.keys(WampgateErrorUri).length);
  const values = Object.values(ErrorUri);
  assert.equal(new Set(values).size, values.length, 'no URI under two names');
  for (const uri of Object.values(SpecErrorUri)) assert.match(uri, /^wamp\.(error|close)\.[a-z_.]+$/);
  for (const uri of Object.values(WampgateErrorUri)) assert.match(uri, /^wampgate\.error\.[a-z_.]+$/);
});
