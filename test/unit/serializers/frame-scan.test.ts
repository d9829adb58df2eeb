import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classify, HUGE, NOT_PLAIN } from '../../../src/serializers/binary-values';
import { cborSerializer } from '../../../src/serializers/cbor';
import { SCAN_MAX, scanCbor, scanMsgpack, UNKNOWN } from '../../../src/serializers/frame-scan';
import { msgpackSerializer } from '../../../src/serializers/msgpack';
import type { DecodeFacts, Serializer } from '../../../src/serializers/serializer';

const scans: Array<[Serializer, (b: Buffer) => number]> = [
  [msgpackSerializer, scanMsgpack],
  [cborSerializer, scanCbor],
];

function decode(s: Serializer, frame: Buffer): { value: unknown; plain: boolean } {
  const facts: DecodeFacts = { plain: false };
  const value = s.decode(frame, facts);
  return { value, plain: facts.plain };
}

const TWO_53 = 2n ** 53n;
/** Integers around the edges the scans decide on: ±2^53, the 32-bit and 64-bit limits. */
const edges = [
  0n,
  2n ** 32n,
  TWO_53 - 1n,
  TWO_53,
  TWO_53 + 1n,
  -(TWO_53 - 1n),
  -TWO_53,
  -TWO_53 - 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 64n - 1n,
  -(2n ** 48n),
  TWO_53 - 2n ** 48n,
  -(TWO_53 - 2n),
];

/** Values as our encoders write them, with the ones a scan must notice mixed in. */
const leaf = fc.oneof(
  fc.integer(),
  // Doubles at 2^53 and beyond are integers, written as 64-bit integers and read back as
  // BigInt (payload-fidelity tests); here only the ones that come back as they went.
  fc.double().filter((d) => !Object.is(d, -0) && !(Math.abs(d) >= 2 ** 53 && Number.isFinite(d))),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(...edges).map((v) => (v >= -TWO_53 && v <= TWO_53 ? Number(v) : v)),
  fc.constantFrom(NaN, Infinity, -Infinity, 1764979200000),
  fc.uint8Array({ maxLength: 8 }).map((u) => Buffer.from(u)),
);
const tree = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(
        fc.tuple(
          fc.string({ maxLength: 4 }).filter((k) => k !== '__proto__'),
          tie('value'),
        ),
        { maxLength: 4 },
      )
      .map((entries) => Object.fromEntries(entries)),
  ),
})).value;

for (const [s, scan] of scans) {
  test(`${s.name} frame scan: agrees with the tree walk, and values stay exact`, () => {
    fc.assert(
      fc.property(fc.array(tree, { maxLength: 4 }), (args) => {
        const frame = s.encode([16, 1, {}, 'a.b', args]);
        fc.pre(frame.length <= SCAN_MAX);
        const flags = scan(frame);
        // Our encoders write definite lengths only: the scan always answers.
        assert.notEqual(flags, UNKNOWN);
        const { value, plain } = decode(s, frame);
        assert.deepEqual((value as unknown[])[4], args, 'decoded exactly');
        const walked = classify(value);
        // Called plain only when the tree walk agrees; never a 64-bit integer missed.
        if (plain) assert.equal(walked, 0);
        if (walked === 0) assert.equal(flags, 0, 'a plain tree is scanned plain');
        if (args.some((a) => typeof a === 'bigint')) assert.equal(plain, false);
      }),
      { numRuns: 2000 },
    );
  });
}

test('frame scan: 64-bit integers at the edges of a double', () => {
  for (const [s, scan] of scans) {
    for (const v of edges) {
      const frame = s.encode([16, 1, {}, 'a.b', [v >= -TWO_53 && v <= TWO_53 ? Number(v) : v]]);
      const flags = scan(frame);
      const beyond = v > TWO_53 || v < -TWO_53;
      if (beyond) assert.equal(flags & HUGE, HUGE, `${s.name} ${v}: must be read again exactly`);
      if (!beyond && v !== TWO_53 && v !== -TWO_53) assert.equal(flags & HUGE, 0, `${s.name} ${v}: within a double's exact range`);
      if (v === TWO_53 || v === -TWO_53) assert.equal(flags & HUGE, HUGE, `${s.name} ${v}: read again, as the tree walk does`);
      const { value } = decode(s, frame);
      assert.deepEqual((value as unknown[])[4], [beyond ? v : Number(v)], `${s.name} ${v}`);
    }
  }
});

test('frame scan: NaN and ±Infinity (half, single, double), byte strings, tags and simple values are not plain', () => {
  // Each frame is [16, 1, {}, "a.b", X] with X as noted.
  const msgpack = (x: string): Buffer => Buffer.from(`95100180a3612e62${x}`, 'hex');
  const cbor = (x: string): Buffer => Buffer.from(`851001a063612e62${x}`, 'hex');
  const cases: Array<[(b: Buffer) => number, Buffer, string]> = [
    [scanMsgpack, msgpack('ca7fc00000'), 'float32 NaN'],
    [scanMsgpack, msgpack('cbfff0000000000000'), 'float64 -Infinity'],
    [scanMsgpack, msgpack('c40100'), 'bin 8'],
    [scanMsgpack, msgpack('d6ff00000000'), 'fixext 4 (a timestamp)'],
    [scanCbor, cbor('f97e00'), 'half float NaN'],
    [scanCbor, cbor('fa7f800000'), 'float32 Infinity'],
    [scanCbor, cbor('fbfff0000000000000'), 'float64 -Infinity'],
    [scanCbor, cbor('41ff'), 'byte string'],
    [scanCbor, cbor('c11a5f5e1000'), 'tag 1 (epoch time)'],
    [scanCbor, cbor('f0'), 'simple value 16'],
  ];
  for (const [scan, frame, what] of cases) assert.equal(scan(frame), NOT_PLAIN, what);
  assert.equal(scanMsgpack(msgpack('c0')), 0, 'nil is plain');
  assert.equal(scanCbor(cbor('f7')), 0, 'undefined is plain');
});
test('frame scan: what it cannot vouch for goes back to the tree walk, and decoding stays right', () => {
  // An indefinite-length CBOR list, [16, 1, {}, "a.b", [_ 2^53+1]], as another client may send it.
  const indefinite = Buffer.from('851001a063612e629f1b0020000000000001ff', 'hex');
  assert.equal(scanCbor(indefinite), UNKNOWN);
  const { value, plain } = decode(cborSerializer, indefinite);
  assert.deepEqual(value, [16, 1, {}, 'a.b', [TWO_53 + 1n]]);
  assert.equal(plain, false);
  // A truncated frame is never vouched for.
  assert.equal(scanMsgpack(Buffer.from('95100180a3612e62cb4035', 'hex')), UNKNOWN);
  assert.equal(scanCbor(Buffer.from('851001a063612e62fb4035', 'hex')), UNKNOWN);
});
