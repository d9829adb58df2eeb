import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildErrorReply,
  buildHandshake,
  exponentForMaxLength,
  maxLengthFromExponent,
  negotiateAsRouter,
  parseHandshake,
  parseRouterReply,
  RawSocketHandshakeError,
} from '../../../../src/transports/rawsocket/handshake';

const all = { supportedSerializerIds: [1, 2, 3], maxMessageBytes: 1024 * 1024 };

test('length exponent covers 512 octets to 16 MiB', () => {
  assert.equal(maxLengthFromExponent(0), 512);
  assert.equal(maxLengthFromExponent(15), 16 * 1024 * 1024);
  assert.equal(exponentForMaxLength(1024 * 1024), 11);
  // Never announce more than we are configured to accept.
  assert.equal(exponentForMaxLength(1024 * 1024 - 1), 10);
  assert.equal(exponentForMaxLength(100), 0);
  assert.equal(exponentForMaxLength(2 ** 30), 15);
});

test('client request is 0x7F, LLLL<<4|SSSS, 0, 0', () => {
  assert.deepEqual([...buildHandshake({ serializerId: 2, maxLength: 2 ** 24 })], [0x7f, 0xf2, 0, 0]);
  assert.deepEqual([...buildHandshake({ serializerId: 1, maxLength: 512 })], [0x7f, 0x01, 0, 0]);
});

test('parseHandshake reads serializer and length, and flags bad magic and reserved bits', () => {
  assert.deepEqual(parseHandshake(Buffer.from([0x7f, 0xa3, 0, 0])), { kind: 'ok', serializerId: 3, lengthExponent: 10, maxLength: 2 ** 19 });
  assert.deepEqual(parseHandshake(Buffer.from('GET ')), { kind: 'bad-magic' });
  assert.deepEqual(parseHandshake(Buffer.from([0x7f, 0x11, 0, 1])), { kind: 'reserved-bits' });
  assert.deepEqual(parseHandshake(Buffer.from([0x7f, 0x20, 0, 0])), { kind: 'error-reply', code: 2 });
  assert.throws(() => parseHandshake(Buffer.from([0x7f, 0x11])), RangeError);
});

test('router accepts a supported serializer, echoes it and announces its own limit', () => {
  const result = negotiateAsRouter(Buffer.from([0x7f, 0xf2, 0, 0]), all);
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.serializerId, 2);
  assert.equal(result.sendLimit, 2 ** 24, 'we may send up to what the client announced');
  assert.equal(result.receiveLimit, 2 ** 20, 'the client may send up to what we announced');
  assert.deepEqual([...result.reply], [0x7f, 0xb2, 0, 0]);
});

test('router announces the floor of an odd configured limit and enforces that', () => {
  const result = negotiateAsRouter(Buffer.from([0x7f, 0x01, 0, 0]), { supportedSerializerIds: [1], maxMessageBytes: 3000 });
  assert.ok(result.ok);
  if (!result.ok) return;
  assert.equal(result.receiveLimit, 2048);
  assert.equal(result.sendLimit, 512);
  assert.deepEqual([...result.reply], [0x7f, 0x21, 0, 0]);
});

test('router refuses an unsupported serializer with error 1', () => {
  const result = negotiateAsRouter(Buffer.from([0x7f, 0x15, 0, 0]), all);
  assert.equal(result.ok, false);
  assert.deepEqual([...(result.ok ? [] : (result.reply ?? []))], [0x7f, 0x10, 0, 0]);
  const onlyJson = negotiateAsRouter(Buffer.from([0x7f, 0x12, 0, 0]), { supportedSerializerIds: [1], maxMessageBytes: 4096 });
  assert.deepEqual([...(onlyJson.ok ? [] : (onlyJson.reply ?? []))], [0x7f, 0x10, 0, 0]);
});

test('router treats serializer 0 as illegal (error 1) and reserved bits as error 3', () => {
  const zero = negotiateAsRouter(Buffer.from([0x7f, 0x10, 0, 0]), all);
  assert.deepEqual([...(zero.ok ? [] : (zero.reply ?? []))], [0x7f, 0x10, 0, 0]);
  const reserved = negotiateAsRouter(Buffer.from([0x7f, 0x11, 0x80, 0]), all);
  assert.deepEqual([...(reserved.ok ? [] : (reserved.reply ?? []))], [0x7f, 0x30, 0, 0]);
});

test('router sends no reply to a request with bad magic (not RawSocket at all)', () => {
  const result = negotiateAsRouter(Buffer.from('GET '), all);
  assert.equal(result.ok, false);
  assert.equal(result.ok ? 'x' : result.reply, undefined);
});

test('router refuses with error 4 when full', () => {
  const result = negotiateAsRouter(Buffer.from([0x7f, 0xf1, 0, 0]), { ...all, refuseConnectionCount: true });
  assert.deepEqual([...(result.ok ? [] : (result.reply ?? []))], [0x7f, 0x40, 0, 0]);
});

test('client reads a success reply, an error reply, and a wrong serializer', () => {
  assert.deepEqual(parseRouterReply(Buffer.from([0x7f, 0xb2, 0, 0]), 2), { ok: true, sendLimit: 2 ** 20 });
  const refused = parseRouterReply(buildErrorReply(RawSocketHandshakeError.maxConnectionCount), 2);
  assert.equal(refused.ok, false);
  assert.equal(refused.ok ? 0 : refused.errorCode, 4);
  assert.equal(parseRouterReply(Buffer.from([0x7f, 0xb1, 0, 0]), 2).ok, false);
  assert.equal(parseRouterReply(Buffer.from('HTTP'), 2).ok, false);
});
