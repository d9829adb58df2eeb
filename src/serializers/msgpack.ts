// MessagePack via msgpackr. useRecords off: records are a msgpackr extension other WAMP peers
// cannot read. Maps decode to plain objects because WAMP dicts have string keys.

import { Packr } from 'msgpackr';
import type { Serializer } from './serializer';
import { largeIntegersAsBigInt } from './large-integers';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, encodeUndefinedAsNil: true, int64AsType: 'number' });

export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  subprotocol: 'wamp.2.msgpack',
  rawSocketId: 2,
  binary: true,
  encode(value) {
    return packr.pack(largeIntegersAsBigInt(value));
  },
  decode(data) {
    return packr.unpack(data);
  },
};
