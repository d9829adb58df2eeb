// Log lines stay bounded and well-formed whatever a client sends, and RateLimitedLog keeps a
// flood of repeatable events out of the journal while saying how many it suppressed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeValue, formatLine, RateLimitedLog, truncate, createLogger, MAX_FIELD_CHARS } from '../../../src/util/logger';

test('a 1 MB client string in a log field is cut to 128 characters and its length noted', () => {
  const line = formatLine('warn', 'session', 'authentication denied', { authid: 'a'.repeat(1_000_000) }, false);
  assert.ok(line.length < 300, `line is ${line.length} characters`);
  assert.match(line, /authid="a{128}…\(1000000 chars\)"/);
});

test('control characters and newlines in a field are escaped, never written raw', () => {
  const line = formatLine('info', 'x', 'm', { agent: 'evil\nINFO [fake] injected\u0007' }, false);
  assert.ok(!line.includes('\n'), 'no raw newline');
  assert.match(line, /agent="evil\\nINFO \[fake\] injected\\u0007"/);
});

test('regression: BigInt, cycles and deep nesting in a field do not throw (HELLO with exotic CBOR values)', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  let deep: unknown = 'bottom';
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.equal(describeValue(2n ** 64n), '18446744073709551616n');
  assert.equal(describeValue(cyclic), '{"a":1,"self":"[cycle]"}');
  assert.equal(describeValue(deep), '[[[[[…]]]]]');
  assert.equal(describeValue({ big: 5n, list: [1n] }), '{"big":5n,"list":[1n]}');
  const line = formatLine('warn', 'session', 'm', { authextra: { n: 1n, deep, cyclic } }, false);
  assert.match(line, /authextra=\{"n":1n,/);
});

test('describeValue stays short for a huge array or object', () => {
  const text = describeValue(new Array(1_000_000).fill('xyz'));
  assert.ok(text.length <= MAX_FIELD_CHARS + 10, `${text.length} characters`);
  assert.match(text, /…\(cut\)$/);
  assert.equal(truncate('short'), 'short');
});

test('RateLimitedLog: at most perKey lines per key and total per window; the next line says how many were suppressed', () => {
  const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const logger = createLogger({ level: 'debug', sink: (_l, _c, msg, fields) => lines.push(fields ? { msg, fields } : { msg }) });
  let now = 0;
  const log = new RateLimitedLog(logger, { intervalMs: 1000, perKey: 2, total: 3, now: () => now });
  for (let i = 0; i < 100; i++) log.warn('timeout', 'closed', { i });
  assert.equal(lines.length, 2, 'two lines for one key');
  log.warn('size', 'closed');
  log.warn('other', 'closed');
  assert.equal(lines.length, 3, 'three lines in total per window');
  assert.deepEqual(lines[2]?.fields, { suppressed: 98 }, 'the first line after suppression counts them');
  assert.equal(log.pendingSuppressed, 1, '"other" was over the total');
  now = 1000;
  log.warn('timeout', 'closed', { i: 'next' });
  assert.equal(lines.length, 4);
  assert.deepEqual(lines[3]?.fields, { i: 'next', suppressed: 1 });
});
