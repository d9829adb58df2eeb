// URI rewriting between the local realm and the cloud realm for one forwarding rule: exact,
// prefix (`sensors.` <-> `site.gw1.sensors.`) and wildcard (empty components map in order).
// Pure: no sessions, no config parsing (uplink-config.ts validates that two patterns fit).

import type { MatchPolicy } from '../protocol/uri';

export interface RewritePair {
  /** The pattern a concrete URI is matched against. */
  from: string;
  /** The pattern the result is built from; same match policy. */
  to: string;
  match: MatchPolicy;
}

/** Indexes of the empty components of a wildcard pattern: the places a concrete URI fills in. */
function wildcardSlots(pattern: string): number[] {
  const slots: number[] = [];
  pattern.split('.').forEach((c, i) => {
    if (c === '') slots.push(i);
  });
  return slots;
}

/** True when a URI matching `from` can always be rewritten into `to` (checked once, in config). */
export function rewritable(pair: RewritePair): boolean {
  if (pair.match !== 'wildcard') return true;
  return wildcardSlots(pair.from).length === wildcardSlots(pair.to).length;
}

/** The rewritten URI, or null when `uri` does not match `from` (an event outside the rule). */
export function rewriteUri(pair: RewritePair, uri: string): string | null {
  switch (pair.match) {
    case 'exact':
      return uri === pair.from ? pair.to : null;
    case 'prefix':
      return uri.startsWith(pair.from) ? pair.to + uri.slice(pair.from.length) : null;
    case 'wildcard': {
      const fromParts = pair.from.split('.');
      const parts = uri.split('.');
      if (parts.length !== fromParts.length) return null;
      const captured: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        const f = fromParts[i] as string;
        const p = parts[i] as string;
        if (f === '') captured.push(p);
        else if (f !== p) return null;
      }
      let k = 0;
      return pair.to
        .split('.')
        .map((c) => (c === '' ? (captured[k++] ?? '') : c))
        .join('.');
    }
  }
}

/** `{gatewayId}` in a configured URI becomes the gateway's id, so one config template fits a fleet. */
export function expandGatewayId(uri: string, gatewayId: string): string {
  return uri.split('{gatewayId}').join(gatewayId);
}
