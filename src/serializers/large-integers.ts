// msgpackr and cbor-x encode integers outside the 32-bit range as float64. WAMP IDs reach 2^53
// and payloads carry millisecond timestamps (> 2^32), and typed peers (Autobahn|Python) reject
// a float where an ID belongs, so such integers are handed to the encoders as BigInt, which
// both encode as 64-bit integers. Copy-on-write: the input (often shared by a fan-out) is never
// mutated, and nothing is allocated when there is nothing to convert.

function isLargeInteger(v: number): boolean {
  // Up to 2^53 inclusive: the largest WAMP ID, and still exact as a double.
  return (v >= 0x100000000 || v < -0x80000000) && Number.isInteger(v) && Math.abs(v) <= 2 ** 53;
}

function convert(value: unknown, depth: number): unknown {
  if (typeof value === 'number') return isLargeInteger(value) ? BigInt(value) : value;
  if (value === null || typeof value !== 'object' || depth > 64 || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      const c = convert(v, depth + 1);
      if (c !== v) {
        out ??= value.slice();
        out[i] = c;
      }
    }
    return out ?? value;
  }
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k in obj) {
    const v = obj[k];
    const c = convert(v, depth + 1);
    if (c !== v) {
      out ??= { ...obj };
      out[k] = c;
    }
  }
  return out ?? value;
}

export function largeIntegersAsBigInt<T>(value: T): T {
  return convert(value, 0) as T;
}
