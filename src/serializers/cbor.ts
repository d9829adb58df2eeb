// CBOR via cbor-x. useRecords off and no Uint8Array tag: both are cbor-x conventions that other
// WAMP peers (Autobahn, the firmware bridge) cannot decode.

import type { Encoder as EncoderClass } from 'cbor-x' with { 'resolution-mode': 'import' };
import type { Serializer } from './serializer';
import { largeIntegersAsBigInt } from './large-integers';

// cbor-x ships CommonJS at runtime but its types resolve as ESM under Node16 resolution.
const { Encoder } = require('cbor-x') as { Encoder: typeof EncoderClass };

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  tagUint8Array: false,
  int64AsNumber: true,
} as ConstructorParameters<typeof Encoder>[0]);

export const cborSerializer: Serializer = {
  name: 'cbor',
  subprotocol: 'wamp.2.cbor',
  rawSocketId: 3,
  binary: true,
  encode(value) {
    return encoder.encode(largeIntegersAsBigInt(value));
  },
  decode(data) {
    return encoder.decode(data);
  },
};
