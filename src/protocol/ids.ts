// WAMP IDs (spec: "IDs"): integers in [1, 2^53]. Branded so that a SessionId cannot be passed
// where a RequestId is meant. Global-scope IDs are random; router- and session-scope IDs are
// sequential, which the spec allows and which keeps them cheap and collision-free.

export type Brand<T, B extends string> = T & { readonly __brand: B };

export type SessionId = Brand<number, 'SessionId'>;
export type RequestId = Brand<number, 'RequestId'>;
export type PublicationId = Brand<number, 'PublicationId'>;
export type SubscriptionId = Brand<number, 'SubscriptionId'>;
export type RegistrationId = Brand<number, 'RegistrationId'>;

export const MAX_ID = 2 ** 53;

export function isValidId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_ID;
}

/** Global scope: random over [1, 2^53] (spec: IDs in the global scope MUST be drawn randomly). */
export function randomId(): number {
  // 53 random bits from two 32-bit draws; Math.random gives fewer than 53 good bits.
  const hi = (Math.random() * 0x200000) >>> 0; // 21 bits
  const lo = (Math.random() * 0x100000000) >>> 0; // 32 bits
  return hi * 0x100000000 + lo + 1;
}

/** Router or session scope: 1, 2, 3 … wrapping back to 1 after 2^53. */
export class SequentialIds {
  private last = 0;
  next(): number {
    this.last = this.last >= MAX_ID ? 1 : this.last + 1;
    return this.last;
  }
}
