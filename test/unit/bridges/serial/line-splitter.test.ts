// LineSplitter: lines come out the same whatever the chunking, CR LF is accepted, and a line
// over the limit is dropped and counted without losing the lines around it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineSplitter } from '../../../../src/bridges/serial/line-splitter';

function feed(splitter: LineSplitter, bytes: Buffer, cuts: number[]): string[] {
  const out: string[] = [];
  let prev = 0;
  for (const c of [...cuts.filter((c) => c > 0 && c < bytes.length)].sort((a, b) => a - b).concat(bytes.length)) {
    out.push(...splitter.push(bytes.subarray(prev, c)));
    prev = c;
  }
  return out;
}

test('lines, CR LF, empty lines and an over-length line', () => {
  const s = new LineSplitter({ maxLineBytes: 8 });
  assert.deepEqual(s.push(Buffer.from('a\r\n\nbb\n12345678\r\n123456789\nok\npart')), ['a', 'bb', '12345678', 'ok']);
  assert.deepEqual(s.stats, { lines: 4, overLength: 1, overLengthBytes: 9 });
  assert.deepEqual(s.push(Buffer.from('ial\n')), ['partial']);
});

test('an endless line without newline is counted once and the next line survives', () => {
  const s = new LineSplitter({ maxLineBytes: 4 });
  for (let i = 0; i < 10; i++) assert.deepEqual(s.push(Buffer.from('xxxxxxx')), []);
  assert.deepEqual(s.push(Buffer.from('x\nT=1\n')), ['T=1']);
  assert.equal(s.stats.overLength, 1);
  assert.equal(s.stats.overLengthBytes, 71);
});

test('invalid UTF-8 becomes U+FFFD; latin1 keeps every byte', () => {
  assert.deepEqual(new LineSplitter({ maxLineBytes: 10 }).push(Buffer.from([0x41, 0xff, 0x0a])), ['A\ufffd']);
  assert.deepEqual(new LineSplitter({ maxLineBytes: 10, encoding: 'latin1' }).push(Buffer.from([0x41, 0xff, 0x0a])), ['A\u00ff']);
});

test('property: any chunking of the stream yields the same lines and counters', () => {
  const line = fc.oneof(
    fc.string({ maxLength: 12 }).map((s) => s.replace(/\n/g, '')),
    fc.constant('x'.repeat(20)),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), fc.array(fc.nat(400), { maxLength: 10 }), fc.boolean(), (lines, cuts, crlf) => {
      const bytes = Buffer.from(lines.map((l) => l + (crlf ? '\r\n' : '\n')).join(''));
      const whole = new LineSplitter({ maxLineBytes: 16 });
      const split = new LineSplitter({ maxLineBytes: 16 });
      const a = whole.push(bytes);
      const b = feed(split, bytes, cuts);
      assert.deepEqual(b, a);
      assert.deepEqual(split.stats, whole.stats);
      const expected = lines.map((l) => (crlf ? l : l.replace(/\r$/, ''))).filter((l) => Buffer.byteLength(l) > 0 && Buffer.byteLength(l) <= 16);
      assert.deepEqual(a, expected);
    }),
  );
});
