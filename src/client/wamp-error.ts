// The error a WampClient call rejects with, and a callee handler may throw to answer with a
// specific error URI: carries the URI and payload unchanged across the wire.

import type { Dict } from '../protocol/messages';

export class WampError extends Error {
  override readonly name = 'WampError';
  constructor(
    readonly error: string,
    readonly args: unknown[] = [],
    readonly kwargs: Dict = {},
    readonly details: Dict = {},
  ) {
    super(typeof args[0] === 'string' ? `${error}: ${args[0]}` : error);
  }
}
