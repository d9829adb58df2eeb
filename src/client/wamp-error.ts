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

/** One line for a log field or a status: the URI and first argument of a WampError, else the message. */
export function errorText(err: unknown): string {
  if (err instanceof WampError) return `${err.error}${err.args[0] !== undefined ? `: ${String(err.args[0])}` : ''}`;
  return err instanceof Error ? err.message : String(err);
}
