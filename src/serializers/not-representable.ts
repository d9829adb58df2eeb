// The one error a serializer throws when a decoded value has no exact form in its format (an
// integer beyond 64 bits for MessagePack, a CBOR tag or NaN for JSON). The router turns it into
// ERROR wamp.error.invalid_payload for a call and a counted, logged drop for an event.

export class NotRepresentable extends Error {
  constructor(
    readonly serializer: string,
    readonly what: string,
  ) {
    super(`${what} cannot be represented in ${serializer}`);
    this.name = 'NotRepresentable';
  }
}

/** Names a value for an error message: "a CBOR tag 1", "a Date", "NaN". */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return `the integer ${value}`;
  if (value !== null && typeof value === 'object') {
    const tag = (value as { tag?: unknown }).tag;
    if (value.constructor?.name === 'Tag' && typeof tag === 'number') return `a CBOR tag ${tag} value`;
    return `a ${value.constructor?.name ?? 'null-prototype object'}`;
  }
  return `a ${typeof value}`;
}
