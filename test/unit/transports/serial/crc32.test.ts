import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { crc32, crc32Table } from '../../../../src/transports/serial/crc32';

test('CRC-32 of "123456789" is the standard check value 0xCBF43926', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
  assert.equal(crc32(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339);
});

test('CRC-32 continues across chunks', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, cut) => {
      const k = data.length === 0 ? 0 : cut % (data.length + 1);
      assert.equal(crc32(data.subarray(k), crc32(data.subarray(0, k))), crc32(data));
    }),
  );
});

// zlib.crc32 exists from Node 20.15: cross-check against it where present.
const zcrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
test('CRC-32 agrees with zlib', { skip: zcrc === undefined ? 'zlib.crc32 not in this Node' : false }, () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => assert.equal(crc32(data), zcrc!(data))));
});

test('the table version (Node 20 before 20.15) gives the same numbers, also across chunks', () => {
  assert.equal(crc32Table(Buffer.from('123456789')), 0xcbf43926);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), (data, cut) => {
      const k = data.length === 0 ? 0 : cut % (data.length + 1);
      assert.equal(crc32Table(data), crc32(data));
      assert.equal(crc32Table(data.subarray(k), crc32Table(data.subarray(0, k))), crc32(data));
    }),
  );
});
