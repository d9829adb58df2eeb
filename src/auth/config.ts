// The config shapes of a listener's `auth` section and a realm's `roles` / `authorizer`
// sections, and their validators, which report every problem with its path (the config loader
// calls them). Builds nothing: listener-auth.ts and authorizer.ts turn config into objects.

import type { ConfigProblem } from '../config/problem';
import { checkSecretSource } from '../config/secrets';
import { Check, isObject, type Obj } from '../config/validate';
import { isValidPattern, isValidUri, type MatchPolicy } from '../protocol/uri';
import type { PermissionRule, RoleConfig } from './authorizer';
import type { SecretSource } from '../config/secrets';
import type { PrincipalConfig, PrincipalSources, SaltedHashConfig } from './principals';
import type { TlsPrincipalConfig } from './tls-cert';

export type { PermissionRule, RoleConfig, PrincipalConfig, SecretSource, SaltedHashConfig, TlsPrincipalConfig };

export interface AnonymousAuthConfig {
  /** Role of anonymous sessions. Default "anonymous". */
  role?: string;
  /** Needed to offer anonymous on a listener that is not loopback-only. */
  allowRemoteAnonymous?: boolean;
  /** Needed on such a listener when the anonymous role may do everything (or a realm has no
   * roles, which means allow-all): a second, explicit "yes, I mean it". */
  allowAnonymousAllowAll?: boolean;
}

export interface PrincipalMethodConfig extends PrincipalSources {
  /** WELCOME.Details.authprovider. Default "static". */
  authprovider?: string;
}

export interface WampCraMethodConfig extends PrincipalMethodConfig {
  /** AUTHENTICATE must arrive within this after the CHALLENGE. Default 30000. */
  challengeTimeoutMs?: number;
}

export interface TlsMethodConfig {
  principals?: TlsPrincipalConfig[];
  /** Role for verified certificates not listed (authid = CN); unlisted ones are refused without it. */
  defaultRole?: string;
}

export interface DynamicAuthConfig {
  /** The procedure that authenticates tickets: (realm, authid, details) → role | {role, authid?, realm?, extra?}. */
  procedure: string;
  /** The realm where that procedure is registered (the gateway's trusted session joins it). */
  realm: string;
  timeoutMs?: number;
  cacheTtlMs?: number;
  cacheMax?: number;
}

export interface RateLimitConfig {
  maxFailures?: number;
  windowMs?: number;
  blockMs?: number;
  maxAddresses?: number;
}

/** A listener's `auth` section: the methods it offers. No section = anonymous on loopback only. */
export interface ListenerAuthConfig {
  anonymous?: AnonymousAuthConfig;
  ticket?: PrincipalMethodConfig;
  wampcra?: WampCraMethodConfig;
  cryptosign?: PrincipalMethodConfig;
  tls?: TlsMethodConfig;
  /** Ticket authentication by a procedure, for authids the static ticket principals lack. */
  dynamic?: DynamicAuthConfig;
  /** Failed-attempt limiting per remote address; on by default, `false` turns it off. */
  rateLimit?: RateLimitConfig | false;
}

/** A realm's dynamic authorizer. */
export interface DynamicAuthorizerConfig {
  procedure: string;
  timeoutMs?: number;
  cacheTtlMs?: number;
  cacheMax?: number;
}

/** The auth part of a realm's config. No `roles` and no `authorizer` = allow-all (loopback use). */
export interface RealmAuthConfig {
  roles?: RoleConfig[];
  authorizer?: DynamicAuthorizerConfig;
}

export const AUTH_METHODS = ['anonymous', 'ticket', 'wampcra', 'cryptosign', 'tls'] as const;
export type AuthMethodName = (typeof AUTH_METHODS)[number];
const ACTIONS = ['call', 'register', 'publish', 'subscribe'] as const;

// ---- small checkers ---------------------------------------------------------------------------

/** Auth's wording for an unknown key since it was written, kept so no message users see changes. */
const UNKNOWN_SETTING = (allowed: readonly string[]): string => `unknown setting (expected one of: ${allowed.join(', ')})`;

/** The config kit with auth's type-guard style: each check says whether the value is usable. */
class Checker extends Check {
  obj(v: unknown, path: string, allowed: readonly string[]): v is Obj {
    return this.object(v, path, allowed, { required: true, unknown: UNKNOWN_SETTING }) !== undefined;
  }
  str(v: unknown, path: string, required = false): v is string {
    return this.string(v, path, { required }) !== undefined;
  }
  posInt(v: unknown, path: string, required = false): void {
    if (v === undefined) {
      if (required) this.add(path, 'is required');
      return;
    }
    this.int(v, path, { min: 1, message: 'must be a positive integer' });
  }
  secret(v: unknown, path: string): void {
    checkSecretSource(this, v, path);
  }
  salted(v: Obj, path: string): void {
    this.str(v.salt, `${path}.salt`, true);
    this.posInt(v.iterations, `${path}.iterations`, true);
    this.posInt(v.keylen, `${path}.keylen`, true);
  }
}

// ---- listener auth ------------------------------------------------------------------------------

type CredentialKind = 'ticket' | 'wampcra' | 'cryptosign';
const PRINCIPAL_KEYS = ['authid', 'role', 'roles', 'realm', 'ticket', 'secret', 'salt', 'iterations', 'keylen', 'derived', 'pubkeys'];

function checkPrincipal(c: Checker, p: unknown, path: string, kind: CredentialKind): void {
  if (!c.obj(p, path, PRINCIPAL_KEYS)) return;
  c.str(p.authid, `${path}.authid`, true);
  if (p.role === undefined && p.roles === undefined) c.add(`${path}.role`, 'a principal needs role (or roles)');
  if (p.role !== undefined) c.str(p.role, `${path}.role`);
  if (p.roles !== undefined) {
    if (!Array.isArray(p.roles) || p.roles.length === 0) c.add(`${path}.roles`, 'must be a non-empty list of role names');
    else p.roles.forEach((r, i) => c.str(r, `${path}.roles[${i}]`));
  }
  if (p.realm !== undefined) c.str(p.realm, `${path}.realm`);
  if (kind === 'ticket') {
    if (p.ticket === undefined) c.add(`${path}.ticket`, 'a ticket principal needs a ticket');
    else if (isObject(p.ticket) && 'derived' in p.ticket) {
      c.salted(p.ticket, `${path}.ticket`);
      c.secret(p.ticket.derived, `${path}.ticket.derived`);
    } else c.secret(p.ticket, `${path}.ticket`);
  }
  if (kind === 'wampcra') {
    if (p.secret === undefined && p.derived === undefined)
      c.add(`${path}.secret`, 'a wampcra principal needs secret (or salt, iterations, keylen and derived)');
    if (p.secret !== undefined) c.secret(p.secret, `${path}.secret`);
    if (p.derived !== undefined) c.secret(p.derived, `${path}.derived`);
    if (p.salt !== undefined || p.iterations !== undefined || p.keylen !== undefined || p.derived !== undefined) c.salted(p, path);
  }
  if (kind === 'cryptosign') {
    if (!Array.isArray(p.pubkeys) || p.pubkeys.length === 0)
      c.add(`${path}.pubkeys`, 'a cryptosign principal needs pubkeys: a list of 64-hex-digit Ed25519 public keys');
    else
      p.pubkeys.forEach((k, i) => {
        if (typeof k !== 'string' || !/^[0-9a-fA-F]{64}$/.test(k)) c.add(`${path}.pubkeys[${i}]`, 'must be a 32-byte Ed25519 public key as 64 hex digits');
      });
  }
}

function checkPrincipalMethod(c: Checker, v: unknown, path: string, kind: CredentialKind, extraKeys: readonly string[]): boolean {
  if (!c.obj(v, path, ['principals', 'principalsFile', 'principalsEnv', 'principalsCredential', 'authprovider', ...extraKeys])) return false;
  if (v.principals !== undefined) {
    if (!Array.isArray(v.principals)) c.add(`${path}.principals`, 'must be a list');
    else {
      v.principals.forEach((p, i) => checkPrincipal(c, p, `${path}.principals[${i}]`, kind));
      const seen = new Set<unknown>();
      v.principals.forEach((p, i) => {
        const id = isObject(p) ? p.authid : undefined;
        if (typeof id === 'string' && seen.has(id)) c.add(`${path}.principals[${i}].authid`, `duplicate authid "${id}"`);
        seen.add(id);
      });
    }
  }
  c.str(v.principalsFile, `${path}.principalsFile`);
  c.str(v.principalsEnv, `${path}.principalsEnv`);
  c.str(v.principalsCredential, `${path}.principalsCredential`);
  c.str(v.authprovider, `${path}.authprovider`);
  return v.principals !== undefined || v.principalsFile !== undefined || v.principalsEnv !== undefined || v.principalsCredential !== undefined;
}

/**
 * Checks a listener's `auth` section. `listenerIsLoopback`: the listener binds only loopback
 * addresses or a Unix socket. Principals files and environment variables are read later (at
 * start, by buildListenerAuth, which reports their problems the same way).
 */
export function validateListenerAuth(value: unknown, path: string, listenerIsLoopback: boolean): ConfigProblem[] {
  const c = new Checker();
  if (value === undefined) return c.problems;
  if (!c.obj(value, path, ['anonymous', 'ticket', 'wampcra', 'cryptosign', 'tls', 'dynamic', 'rateLimit'])) return c.problems;
  const enabled = Object.keys(value).filter((k) => k !== 'rateLimit');
  if (enabled.length === 0) c.add(path, `enables no authentication method (use one or more of: ${AUTH_METHODS.join(', ')}, dynamic)`);
  if (value.anonymous !== undefined && c.obj(value.anonymous, `${path}.anonymous`, ['role', 'allowRemoteAnonymous', 'allowAnonymousAllowAll'])) {
    const a = value.anonymous;
    c.str(a.role, `${path}.anonymous.role`);
    c.bool(a.allowRemoteAnonymous, `${path}.anonymous.allowRemoteAnonymous`);
    c.bool(a.allowAnonymousAllowAll, `${path}.anonymous.allowAnonymousAllowAll`);
    if (!listenerIsLoopback && a.allowRemoteAnonymous !== true) {
      c.add(`${path}.anonymous`, 'this listener is reachable from the network; anonymous access there needs "allowRemoteAnonymous": true');
    }
  }
  if (value.ticket !== undefined) {
    const has = checkPrincipalMethod(c, value.ticket, `${path}.ticket`, 'ticket', []);
    if (!has && value.dynamic === undefined)
      c.add(`${path}.ticket`, 'names no principals (principals, principalsFile, principalsEnv or principalsCredential), and there is no dynamic authenticator');
  }
  if (value.wampcra !== undefined && !checkPrincipalMethod(c, value.wampcra, `${path}.wampcra`, 'wampcra', ['challengeTimeoutMs'])) {
    if (isObject(value.wampcra)) c.add(`${path}.wampcra`, 'names no principals (principals, principalsFile, principalsEnv or principalsCredential)');
  }
  if (isObject(value.wampcra)) c.posInt(value.wampcra.challengeTimeoutMs, `${path}.wampcra.challengeTimeoutMs`);
  if (value.cryptosign !== undefined && !checkPrincipalMethod(c, value.cryptosign, `${path}.cryptosign`, 'cryptosign', [])) {
    if (isObject(value.cryptosign)) c.add(`${path}.cryptosign`, 'names no principals (principals, principalsFile, principalsEnv or principalsCredential)');
  }
  if (value.tls !== undefined && c.obj(value.tls, `${path}.tls`, ['principals', 'defaultRole'])) {
    const t = value.tls;
    c.str(t.defaultRole, `${path}.tls.defaultRole`);
    if (t.principals !== undefined && !Array.isArray(t.principals)) c.add(`${path}.tls.principals`, 'must be a list');
    if (Array.isArray(t.principals)) {
      t.principals.forEach((p, i) => {
        const pp = `${path}.tls.principals[${i}]`;
        if (!c.obj(p, pp, ['cn', 'fingerprint', 'authid', 'role', 'realm'])) return;
        if (p.cn === undefined && p.fingerprint === undefined) c.add(pp, 'needs cn or fingerprint');
        c.str(p.cn, `${pp}.cn`);
        if (p.fingerprint !== undefined && (typeof p.fingerprint !== 'string' || !/^([0-9a-fA-F]{2}:?){32}$/.test(p.fingerprint)))
          c.add(`${pp}.fingerprint`, 'must be a SHA-256 fingerprint (64 hex digits, colons allowed)');
        c.str(p.authid, `${pp}.authid`);
        c.str(p.role, `${pp}.role`, true);
        c.str(p.realm, `${pp}.realm`);
      });
    }
    if ((t.principals === undefined || (Array.isArray(t.principals) && t.principals.length === 0)) && t.defaultRole === undefined)
      c.add(`${path}.tls`, 'needs principals or defaultRole');
  }
  if (value.dynamic !== undefined && c.obj(value.dynamic, `${path}.dynamic`, ['procedure', 'realm', 'timeoutMs', 'cacheTtlMs', 'cacheMax'])) {
    const d = value.dynamic;
    if (c.str(d.procedure, `${path}.dynamic.procedure`, true) && !isValidUri(d.procedure, 'loose')) c.add(`${path}.dynamic.procedure`, 'must be a valid URI');
    c.str(d.realm, `${path}.dynamic.realm`, true);
    c.posInt(d.timeoutMs, `${path}.dynamic.timeoutMs`);
    c.posInt(d.cacheTtlMs, `${path}.dynamic.cacheTtlMs`);
    c.posInt(d.cacheMax, `${path}.dynamic.cacheMax`);
  }
  if (
    value.rateLimit !== undefined &&
    value.rateLimit !== false &&
    c.obj(value.rateLimit, `${path}.rateLimit`, ['maxFailures', 'windowMs', 'blockMs', 'maxAddresses'])
  ) {
    for (const k of ['maxFailures', 'windowMs', 'blockMs', 'maxAddresses']) c.posInt(value.rateLimit[k], `${path}.rateLimit.${k}`);
  }
  return c.problems;
}

// ---- realm roles ----------------------------------------------------------------------------------

/** Checks a realm's `roles` list. */
export function validateRoles(value: unknown, path: string): ConfigProblem[] {
  const c = new Checker();
  if (value === undefined) return c.problems;
  if (!Array.isArray(value)) {
    c.add(path, 'must be a list of roles');
    return c.problems;
  }
  const names = new Set<string>();
  value.forEach((role, i) => {
    const rp = `${path}[${i}]`;
    if (!c.obj(role, rp, ['name', 'permissions', 'disclose'])) return;
    if (c.str(role.name, `${rp}.name`, true)) {
      if (names.has(role.name)) c.add(`${rp}.name`, `duplicate role "${role.name}"`);
      names.add(role.name);
    }
    checkDisclose(c, role.disclose, `${rp}.disclose`);
    if (!Array.isArray(role.permissions)) {
      c.add(`${rp}.permissions`, 'must be a list (an empty list denies everything)');
      return;
    }
    const rules = new Set<string>();
    role.permissions.forEach((rule, j) => {
      const pp = `${rp}.permissions[${j}]`;
      if (!c.obj(rule, pp, ['uri', 'match', 'allow', 'disclose'])) return;
      const match = rule.match ?? 'exact';
      if (match !== 'exact' && match !== 'prefix' && match !== 'wildcard') c.add(`${pp}.match`, 'must be "exact", "prefix" or "wildcard"');
      if (typeof rule.uri !== 'string') c.add(`${pp}.uri`, 'must be a string');
      else if (!(match === 'prefix' && rule.uri === '') && !isValidPattern(rule.uri, match as MatchPolicy, 'loose')) {
        c.add(`${pp}.uri`, `"${rule.uri}" is not a valid ${String(match)} URI`);
      } else {
        const key = `${String(match)} ${rule.uri}`;
        if (rules.has(key)) c.add(`${pp}.uri`, `duplicate rule for ${String(match)} "${rule.uri}" in role "${String(role.name)}"`);
        rules.add(key);
      }
      if (c.obj(rule.allow, `${pp}.allow`, ACTIONS)) for (const a of ACTIONS) c.bool(rule.allow[a], `${pp}.allow.${a}`);
      checkDisclose(c, rule.disclose, `${pp}.disclose`);
    });
  });
  return c.problems;
}

function checkDisclose(c: Checker, v: unknown, path: string): void {
  if (v === undefined) return;
  if (c.obj(v, path, ['caller', 'publisher'])) {
    c.bool(v.caller, `${path}.caller`);
    c.bool(v.publisher, `${path}.publisher`);
  }
}

/** Checks a realm's `authorizer` (dynamic authorizer) section. */
export function validateDynamicAuthorizer(value: unknown, path: string): ConfigProblem[] {
  const c = new Checker();
  if (value === undefined) return c.problems;
  if (!c.obj(value, path, ['procedure', 'timeoutMs', 'cacheTtlMs', 'cacheMax'])) return c.problems;
  if (c.str(value.procedure, `${path}.procedure`, true) && !isValidUri(value.procedure, 'loose')) c.add(`${path}.procedure`, 'must be a valid URI');
  for (const k of ['timeoutMs', 'cacheTtlMs', 'cacheMax']) c.posInt(value[k], `${path}.${k}`);
  return c.problems;
}

/** A role that may do every action on every (non-`wamp.`) URI: a prefix "" rule allowing all. */
export function isAllowAllRole(role: RoleConfig): boolean {
  return role.permissions.some((r) => (r.match ?? 'exact') === 'prefix' && r.uri === '' && ACTIONS.every((a) => r.allow[a] === true));
}

/**
 * The cross-section rule `wampgate check` applies once listeners and realms are both valid: on a
 * listener reachable from the network, anonymous sessions must not be able to do everything
 * (a realm without roles allows everything) unless `allowAnonymousAllowAll: true` says so.
 */
export function checkAnonymousExposure(
  auth: ListenerAuthConfig | undefined,
  path: string,
  listenerIsLoopback: boolean,
  realms: ReadonlyArray<{ name: string; roles?: readonly RoleConfig[] | undefined; authorizer?: unknown }>,
): ConfigProblem[] {
  const anon = auth?.anonymous;
  if (listenerIsLoopback || !anon || anon.allowAnonymousAllowAll === true) return [];
  const roleName = anon.role ?? 'anonymous';
  const problems: ConfigProblem[] = [];
  for (const realm of realms) {
    if (realm.roles === undefined && realm.authorizer === undefined) {
      problems.push({
        path: `${path}.anonymous`,
        message: `realm "${realm.name}" has no roles, so anonymous sessions from the network could do everything there; define roles, or set "allowAnonymousAllowAll": true`,
      });
      continue;
    }
    const role = realm.roles?.find((r) => r.name === roleName);
    if (role && isAllowAllRole(role)) {
      problems.push({
        path: `${path}.anonymous`,
        message: `role "${roleName}" in realm "${realm.name}" allows everything to anonymous sessions from the network; narrow it, or set "allowAnonymousAllowAll": true`,
      });
    }
  }
  return problems;
}
