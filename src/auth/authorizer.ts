// RoleAuthorizer: per-realm roles whose permission rules (exact, prefix, wildcard URIs) compile
// into UriIndex per role, answered synchronously. Deny by default: no matching rule, unknown
// role, or a `wamp.` URI no rule names. Does not log denials (the realm does) nor authenticate.

import { UriIndex } from '../core/uri-index';
import type { Dict } from '../protocol/messages';
import type { MatchPolicy } from '../protocol/uri';
import type { Action, Authorizer, Decision, SessionIdentity } from '../core/ports';

export interface PermissionRule {
  uri: string;
  /** Default "exact". */
  match?: MatchPolicy;
  /** Actions this rule allows; missing ones are denied (by this rule, if it is the most specific). */
  allow: Partial<Record<Action, boolean>>;
  /** Disclose the caller (on call) / publisher (on publish) identity; overrides the role's. */
  disclose?: { caller?: boolean; publisher?: boolean };
}

export interface RoleConfig {
  name: string;
  permissions: PermissionRule[];
  /** Role-wide disclose default for its rules. */
  disclose?: { caller?: boolean; publisher?: boolean };
}

/** A compiled rule: what the index stores. */
export interface CompiledRule {
  uri: string;
  match: MatchPolicy;
  /** bit per Action, see actionBit */
  allowMask: number;
  discloseCaller: boolean;
  disclosePublisher: boolean;
}

/** A decision plus whether any rule matched (a combined static+dynamic authorizer asks the
 * dynamic one only when no static rule matched). */
export interface Evaluation extends Decision {
  matched: boolean;
}

export const actionBit: Record<Action, number> = { call: 1, register: 2, publish: 4, subscribe: 8 };
const ALL_ACTIONS: readonly Action[] = ['call', 'register', 'publish', 'subscribe'];
const DENY: Evaluation = { allow: false, matched: false };

interface CompiledRole {
  /** rules outside `wamp.` */
  general: UriIndex<CompiledRule>;
  /** rules whose URI starts with `wamp.`: the only ones consulted for `wamp.` URIs. */
  meta: UriIndex<CompiledRule>;
  rules: CompiledRule[];
}

export function compileRule(rule: PermissionRule, role: RoleConfig): CompiledRule {
  let allowMask = 0;
  for (const a of ALL_ACTIONS) if (rule.allow[a] === true) allowMask |= actionBit[a];
  return {
    uri: rule.uri,
    match: rule.match ?? 'exact',
    allowMask,
    discloseCaller: rule.disclose?.caller ?? role.disclose?.caller ?? false,
    disclosePublisher: rule.disclose?.publisher ?? role.disclose?.publisher ?? false,
  };
}

function isMetaUri(uri: string): boolean {
  return uri.startsWith('wamp.');
}

export class RoleAuthorizer implements Authorizer {
  /** role name -> compiled rules: one index per role so a lookup is one best-match. */
  private readonly roles = new Map<string, CompiledRole>();

  constructor(roles: readonly RoleConfig[]) {
    for (const role of roles) {
      const compiled: CompiledRole = { general: new UriIndex(), meta: new UriIndex(), rules: [] };
      for (const rule of role.permissions) {
        const c = compileRule(rule, role);
        // Later duplicates win, as the index does; config validation reports duplicates.
        compiled.rules = compiled.rules.filter((r) => !(r.uri === c.uri && r.match === c.match));
        compiled.rules.push(c);
        (isMetaUri(c.uri) ? compiled.meta : compiled.general).set(c.uri, c.match, c);
      }
      this.roles.set(role.name, compiled);
    }
  }

  authorize(who: SessionIdentity, action: Action, uri: string, options: Dict): Decision {
    const e = this.evaluate(who.authrole, action, uri, matchOf(options));
    return e.allow ? { allow: true, disclose: e.disclose === true } : { allow: false };
  }

  /**
   * The decision for a role. For an exact URI (every publish and call) it is the most specific
   * matching rule: exact, then longest prefix, then the highest-ranked wildcard. A prefix or
   * wildcard subscribe/register covers many URIs, so it is allowed only when a rule covers the
   * whole pattern and allows the action, and no more specific rule inside the pattern denies it
   * (else a pattern would reach URIs the role may not use).
   */
  evaluate(role: string, action: Action, uri: string, match: MatchPolicy = 'exact'): Evaluation {
    const r = this.roles.get(role);
    if (!r) return DENY;
    const bit = actionBit[action];
    if (match === 'exact') {
      const best = (isMetaUri(uri) ? r.meta : r.general).matchBest(uri);
      if (!best) return DENY;
      return decision(best.value, action, bit);
    }
    return this.evaluatePattern(r, action, bit, uri, match);
  }

  private evaluatePattern(r: CompiledRole, action: Action, bit: number, pattern: string, match: 'prefix' | 'wildcard'): Evaluation {
    // A pattern reaching into `wamp.` is checked against meta rules only, like a URI; one that
    // may match both (a prefix "wa", a wildcard starting with "") needs both sides.
    const candidates = r.rules.filter((rule) => overlaps(rule, pattern, match));
    let cover: CompiledRule | undefined;
    for (const rule of candidates) {
      if (covers(rule, pattern, match) && (!cover || moreSpecific(rule, cover))) cover = rule;
    }
    if (!cover) return DENY;
    // A covering general rule cannot grant `wamp.` URIs, so a pattern that can reach `wamp.`
    // needs a covering meta rule (which can only be a prefix of "wamp." itself or longer).
    if (!isMetaUri(cover.uri) && mayReachMeta(pattern, match)) return { allow: false, matched: true };
    if ((cover.allowMask & bit) === 0) return { allow: false, matched: true };
    for (const rule of candidates) {
      if (rule !== cover && moreSpecific(rule, cover) && (rule.allowMask & bit) === 0) return { allow: false, matched: true };
    }
    return decision(cover, action, bit);
  }
}

function decision(rule: CompiledRule, action: Action, bit: number): Evaluation {
  if ((rule.allowMask & bit) === 0) return { allow: false, matched: true };
  const disclose = action === 'call' ? rule.discloseCaller : action === 'publish' ? rule.disclosePublisher : false;
  return { allow: true, disclose, matched: true };
}

export function matchOf(options: Dict): MatchPolicy {
  const m = options.match;
  return m === 'prefix' || m === 'wildcard' ? m : 'exact';
}

// ---- specificity and pattern relations -------------------------------------------------------

const kindRank: Record<MatchPolicy, number> = { exact: 3, prefix: 2, wildcard: 1 };

/** Spec order for the best match: exact > longer prefix > wildcard with earlier concrete parts. */
export function moreSpecific(a: CompiledRule, b: CompiledRule): boolean {
  if (a.match !== b.match) return kindRank[a.match] > kindRank[b.match];
  if (a.match === 'prefix') return a.uri.length > b.uri.length;
  if (a.match === 'wildcard') {
    const pa = a.uri.split('.');
    const pb = b.uri.split('.');
    for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
      const d = (pa[i] === '' ? 0 : 1) - (pb[i] === '' ? 0 : 1);
      if (d !== 0) return d > 0;
    }
  }
  return false;
}

/** Does every URI the pattern matches also match the rule? */
export function covers(rule: CompiledRule, pattern: string, match: 'prefix' | 'wildcard'): boolean {
  if (match === 'prefix') return rule.match === 'prefix' && pattern.startsWith(rule.uri);
  const parts = pattern.split('.');
  if (rule.match === 'exact') return !parts.includes('') && rule.uri === pattern;
  if (rule.match === 'prefix') return fixedLead(parts).startsWith(rule.uri);
  const rp = rule.uri.split('.');
  return rp.length === parts.length && rp.every((c, i) => c === '' || (parts[i] !== '' && c === parts[i]));
}

/** Could some URI match both the rule and the pattern? Errs towards yes (only ever denies more). */
export function overlaps(rule: CompiledRule, pattern: string, match: 'prefix' | 'wildcard'): boolean {
  if (match === 'prefix') {
    if (rule.match === 'exact') return rule.uri.startsWith(pattern);
    if (rule.match === 'prefix') return rule.uri.startsWith(pattern) || pattern.startsWith(rule.uri);
    return prefixMeetsWildcard(pattern, rule.uri.split('.'));
  }
  const parts = pattern.split('.');
  if (rule.match === 'exact') {
    const up = rule.uri.split('.');
    return up.length === parts.length && parts.every((c, i) => c === '' || c === up[i]);
  }
  if (rule.match === 'prefix') return prefixMeetsWildcard(rule.uri, parts);
  const rp = rule.uri.split('.');
  return rp.length === parts.length && rp.every((c, i) => c === '' || parts[i] === '' || c === parts[i]);
}

/** The text every URI matching a wildcard pattern starts with: its components up to the first
 * wildcard, each followed by its dot. */
function fixedLead(parts: readonly string[]): string {
  const k = parts.indexOf('');
  if (k === -1) return parts.join('.');
  return parts
    .slice(0, k)
    .map((c) => c + '.')
    .join('');
}

/** Is there a URI that starts with `prefix` and matches the wildcard components? */
function prefixMeetsWildcard(prefix: string, wild: readonly string[]): boolean {
  const pp = prefix.split('.');
  // All but the last prefix component are whole components; the last may be partial.
  if (pp.length > wild.length) return false;
  for (let i = 0; i < pp.length; i++) {
    const w = wild[i] as string;
    const p = pp[i] as string;
    if (w === '') continue;
    if (i < pp.length - 1 ? w !== p : !w.startsWith(p)) return false;
  }
  return true;
}

/** Can the pattern match a URI in the `wamp.` namespace? */
function mayReachMeta(pattern: string, match: 'prefix' | 'wildcard'): boolean {
  if (match === 'prefix') return pattern.startsWith('wamp.') || 'wamp.'.startsWith(pattern);
  const first = pattern.split('.')[0];
  return first === '' || first === 'wamp';
}
