// URI rules (spec: "URIs", "Relaxed/Loose URIs", pattern-based subscription/registration).
// Loose is the default; strict is a realm option. `wamp.` is reserved for the router itself.

export type UriCheck = 'loose' | 'strict';
export type MatchPolicy = 'exact' | 'prefix' | 'wildcard';

const LOOSE = /^([^\s.#]+\.)*([^\s.#]+)$/;
const STRICT = /^([0-9a-z_]+\.)*([0-9a-z_]+)$/;
// Patterns may have empty components (wildcard) or end in a dot (prefix).
const LOOSE_PATTERN = /^(([^\s.#]+\.)|\.)*([^\s.#]+)?$/;
const STRICT_PATTERN = /^(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?$/;

export function isValidUri(uri: string, check: UriCheck): boolean {
  return (check === 'strict' ? STRICT : LOOSE).test(uri);
}

export function isValidPattern(uri: string, match: MatchPolicy, check: UriCheck): boolean {
  if (match === 'exact') return isValidUri(uri, check);
  if (uri.length === 0) return false;
  return (check === 'strict' ? STRICT_PATTERN : LOOSE_PATTERN).test(uri);
}

export function isReserved(uri: string): boolean {
  return uri.startsWith('wamp.');
}

export function parseMatch(value: unknown): MatchPolicy | undefined {
  if (value === undefined) return 'exact';
  if (value === 'exact' || value === 'prefix' || value === 'wildcard') return value;
  return undefined;
}
