// The serializers wampgate speaks, looked up by name, subprotocol or RawSocket id.

import { cborSerializer } from './cbor';
import { jsonSerializer } from './json';
import { msgpackSerializer } from './msgpack';
import type { Serializer, SerializerName } from './serializer';

export type { DecodeFacts, Serializer, SerializerName } from './serializer';

export const serializers: readonly Serializer[] = [jsonSerializer, msgpackSerializer, cborSerializer];

export function serializerByName(name: string): Serializer | undefined {
  return serializers.find((s) => s.name === name);
}
export function serializerBySubprotocol(subprotocol: string): Serializer | undefined {
  return serializers.find((s) => s.subprotocol === subprotocol);
}
export function serializerByRawSocketId(id: number): Serializer | undefined {
  return serializers.find((s) => s.rawSocketId === id);
}
export const serializerNames: readonly SerializerName[] = serializers.map((s) => s.name);
