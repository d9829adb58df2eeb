// Principal records (authid, roles, realm, and the credential each method checks) and where
// they come from: config objects, a JSON file, an environment variable, a systemd credential.
// Also the one place secrets are compared (constant time). Does not decide which method runs;
// where a secret comes from and how it is read is config/secrets.ts's.

import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError, type ConfigProblem } from '../config/problem';
import { errorCode, expandFilePath, processSecretEnv, resolveSecret, type SecretEnv, type SecretSource } from '../config/secrets';
import { ErrorUri } from '../protocol/error-uris';
import type { AuthDeny } from '../core/ports';

/** `wampgate hash-secret`: PBKDF2-SHA256 at 100,000 iterations and a 32-byte key: slow enough to
 * make guessing from a leaked config expensive, and paid only once per login. */
const HASH_DEFAULTS = { iterations: 100_000, keylen: 32 } as const;
/** A WAMP-CRA salted principal that names no iterations/keylen: 1000 and 32, the defaults of
 * AutobahnJS's `auth_cra.derive_key`, so a key derived by the client matches. */
const CRA_SALT_DEFAULTS = { iterations: 1000, keylen: 32 } as const;

/** The one answer to any credential problem (unknown authid, wrong secret, wrong realm or
 * role): it must not tell an attacker which part was wrong. */
export function credentialsRejected(): AuthDeny {
  return { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'authentication failed' };
}

/** A PBKDF2-HMAC-SHA256 hash: `derived` is the base64 of the derived key (as WAMP-CRA's
 * salted mode and AutobahnJS `auth_cra.derive_key` produce it). */
export interface SaltedHashConfig {
  salt: string;
  iterations: number;
  keylen: number;
  derived: SecretSource;
}

/** One principal as written in config (or in a principals file). */
export interface PrincipalConfig {
  authid: string;
  /** The role the session gets. */
  role?: string;
  /** Several roles: the client picks one with HELLO.Details.authrole, else the first applies. */
  roles?: string[];
  /** Only valid for this realm; any realm when absent. */
  realm?: string;
  /** ticket: the ticket in clear (from a SecretSource) or a salted hash of it. */
  ticket?: SecretSource | SaltedHashConfig;
  /** wampcra: the shared secret; with salt/iterations/keylen it is the password and the
   * router derives the key at load time. */
  secret?: SecretSource;
  salt?: string;
  iterations?: number;
  keylen?: number;
  /** wampcra salted, without the password anywhere on the router: the derived key only. */
  derived?: SecretSource;
  /** cryptosign: Ed25519 public keys, 32 bytes as 64 hex characters. */
  pubkeys?: string[];
}

/** Where a method's principals come from; all given sources are merged, later ones win. */
export interface PrincipalSources {
  principals?: PrincipalConfig[];
  /** A JSON file holding an array of PrincipalConfig (or `{ "principals": [...] }`); may start with `${CREDENTIALS_DIRECTORY}`. */
  principalsFile?: string;
  /** An environment variable holding that JSON. */
  principalsEnv?: string;
  /** A systemd credential name holding that JSON (found as a `{ "credential" }` secret is). */
  principalsCredential?: string;
}

export type StoredSecret = { kind: 'plain'; value: Buffer } | { kind: 'pbkdf2'; salt: string; iterations: number; keylen: number; derived: Buffer };

export interface CraKey {
  /** The HMAC key as the client uses it: the secret, or base64(PBKDF2(password)) when salted. */
  key: Buffer;
  salt?: { salt: string; iterations: number; keylen: number };
}

/** A principal with its secrets resolved. */
export interface Principal {
  authid: string;
  roles: string[];
  realm?: string;
  ticket?: StoredSecret;
  cra?: CraKey;
  /** lower-case hex */
  pubkeys: string[];
}

/** PBKDF2-HMAC-SHA256 as WAMP-CRA salting specifies it; returns the base64 key string. */
export function deriveCraKey(password: string, salt: string, iterations: number, keylen: number): string {
  return pbkdf2Sync(password, salt, iterations, keylen, 'sha256').toString('base64');
}

/** Makes a salted hash of a ticket (or password) for the config: `wampgate` docs show its use. */
export function hashSecret(secret: string, options: { iterations?: number; keylen?: number; salt?: string } = {}): SaltedHashConfig {
  const salt = options.salt ?? randomBytes(16).toString('base64');
  const iterations = options.iterations ?? HASH_DEFAULTS.iterations;
  const keylen = options.keylen ?? HASH_DEFAULTS.keylen;
  return { salt, iterations, keylen, derived: deriveCraKey(secret, salt, iterations, keylen) };
}

function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Constant-time equality of two byte strings of any length: compares their SHA-256 digests,
 * which always have equal length, so neither content nor length leaks through timing. */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** Checks a presented ticket against what is stored, in constant time. A salted hash is
 * derived on libuv's thread pool: many PBKDF2 iterations would stall routing on a Pi. */
export async function ticketMatches(presented: string, stored: StoredSecret, work?: Pbkdf2Params, kdf: Kdf = pbkdf2Derive): Promise<boolean> {
  if (stored.kind === 'plain') {
    // `work`: the PBKDF2 a salted principal would cost, done and discarded, so a plain ticket
    // takes as long to refuse as a salted one (no oracle for the storage form).
    if (work) await kdf(presented, work);
    return constantTimeEqual(Buffer.from(presented, 'utf8'), stored.value);
  }
  return constantTimeEqual(await kdf(presented, stored), stored.derived);
}

/** A key derivation as ticket checks run it (PBKDF2-HMAC-SHA256 with the given parameters). */
export type Kdf = (presented: string, params: Pbkdf2Params) => Promise<Buffer>;

export interface Pbkdf2Params {
  salt: string;
  iterations: number;
  keylen: number;
}

/** PBKDF2-HMAC-SHA256 on libuv's thread pool. */
export function pbkdf2Derive(presented: string, p: Pbkdf2Params): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) =>
    pbkdf2(presented, p.salt, p.iterations, p.keylen, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** The expected WAMP-CRA signature bytes: HMAC-SHA256 keyed with the (derived) secret. */
export function craSignature(key: Buffer, challenge: string): Buffer {
  return createHmac('sha256', key).update(challenge, 'utf8').digest();
}

function isSaltedHash(v: unknown): v is SaltedHashConfig {
  return typeof v === 'object' && v !== null && 'derived' in v;
}

/** Resolves one principal's secrets. Problems get paths under `path`. */
export function resolvePrincipal(p: PrincipalConfig, path: string, problems: ConfigProblem[], senv: SecretEnv = processSecretEnv): Principal | undefined {
  const before = problems.length;
  const roles = p.roles ?? (p.role !== undefined ? [p.role] : []);
  if (typeof p.authid !== 'string' || p.authid.length === 0) problems.push({ path: `${path}.authid`, message: 'must be a non-empty string' });
  if (roles.length === 0) problems.push({ path: `${path}.role`, message: 'a principal needs a role (role or roles)' });
  const out: Principal = { authid: p.authid, roles, pubkeys: [] };
  if (p.realm !== undefined) out.realm = p.realm;
  if (p.ticket !== undefined) {
    if (isSaltedHash(p.ticket)) {
      const d = resolveSecret(p.ticket.derived, `${path}.ticket.derived`, problems, senv);
      if (d !== undefined)
        out.ticket = { kind: 'pbkdf2', salt: p.ticket.salt, iterations: p.ticket.iterations, keylen: p.ticket.keylen, derived: Buffer.from(d, 'base64') };
    } else {
      const t = resolveSecret(p.ticket, `${path}.ticket`, problems, senv);
      if (t !== undefined) out.ticket = { kind: 'plain', value: Buffer.from(t, 'utf8') };
    }
  }
  const salted = p.salt !== undefined;
  if (salted && (p.iterations === undefined || p.keylen === undefined)) {
    problems.push({ path: `${path}.salt`, message: 'salted WAMP-CRA needs salt, iterations and keylen together' });
  }
  if (p.derived !== undefined) {
    if (!salted) problems.push({ path: `${path}.derived`, message: 'a derived key needs salt, iterations and keylen' });
    const d = resolveSecret(p.derived, `${path}.derived`, problems, senv);
    if (d !== undefined && salted)
      out.cra = {
        key: Buffer.from(d, 'utf8'),
        salt: { salt: p.salt as string, iterations: p.iterations ?? CRA_SALT_DEFAULTS.iterations, keylen: p.keylen ?? CRA_SALT_DEFAULTS.keylen },
      };
  } else if (p.secret !== undefined) {
    const s = resolveSecret(p.secret, `${path}.secret`, problems, senv);
    if (s !== undefined) {
      if (salted) {
        const salt = { salt: p.salt as string, iterations: p.iterations ?? CRA_SALT_DEFAULTS.iterations, keylen: p.keylen ?? CRA_SALT_DEFAULTS.keylen };
        // The client derives the same key from its password; the derived key (its base64
        // text, as the client uses it) is the shared secret.
        out.cra = { key: Buffer.from(deriveCraKey(s, salt.salt, salt.iterations, salt.keylen), 'utf8'), salt };
      } else {
        out.cra = { key: Buffer.from(s, 'utf8') };
      }
    }
  }
  for (const [i, k] of (p.pubkeys ?? []).entries()) {
    if (typeof k !== 'string' || !/^[0-9a-fA-F]{64}$/.test(k))
      problems.push({ path: `${path}.pubkeys[${i}]`, message: 'must be a 32-byte Ed25519 public key as 64 hex characters' });
    else out.pubkeys.push(k.toLowerCase());
  }
  return problems.length === before ? out : undefined;
}

function parsePrincipalList(text: string, path: string, problems: ConfigProblem[]): PrincipalConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // No parser message: it may quote part of the (secret) content.
    problems.push({ path, message: 'is not valid JSON' });
    return [];
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { principals?: unknown } | null)?.principals;
  if (!Array.isArray(list)) {
    problems.push({ path, message: 'must hold an array of principals or { "principals": [...] }' });
    return [];
  }
  return list as PrincipalConfig[];
}

/** All principals of one method from all its sources. Throws ConfigError listing every problem. */
export function loadPrincipals(sources: PrincipalSources, path: string, senv: SecretEnv = processSecretEnv): Principal[] {
  const problems: ConfigProblem[] = [];
  const entries: Array<{ p: PrincipalConfig; path: string }> = [];
  (sources.principals ?? []).forEach((p, i) => entries.push({ p, path: `${path}.principals[${i}]` }));
  const external: Array<[string, string | undefined]> = [];
  if (sources.principalsFile !== undefined) {
    const file = expandFilePath(sources.principalsFile, `${path}.principalsFile`, problems, senv.env);
    if (file !== undefined) {
      try {
        external.push([`${path}.principalsFile`, senv.readFile(file)]);
      } catch (err) {
        problems.push({ path: `${path}.principalsFile`, message: `cannot read ${file}: ${errorCode(err)}` });
      }
    }
  }
  if (sources.principalsEnv !== undefined) {
    const text = senv.env[sources.principalsEnv];
    if (text === undefined) problems.push({ path: `${path}.principalsEnv`, message: `environment variable ${sources.principalsEnv} is not set` });
    else external.push([`${path}.principalsEnv`, text]);
  }
  if (sources.principalsCredential !== undefined) {
    external.push([
      `${path}.principalsCredential`,
      resolveSecret({ credential: sources.principalsCredential }, `${path}.principalsCredential`, problems, senv),
    ]);
  }
  for (const [p, text] of external) {
    if (text === undefined) continue;
    parsePrincipalList(text, p, problems).forEach((pc, i) => entries.push({ p: pc, path: `${p}[${i}]` }));
  }
  const out: Principal[] = [];
  for (const e of entries) {
    const r = resolvePrincipal(e.p, e.path, problems, senv);
    if (r) out.push(r);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/** Principals indexed for lookup by authid and by public key. */
export class PrincipalStore {
  /** authid -> principal: ticket and wampcra look up by the HELLO's authid. */
  private readonly byAuthid = new Map<string, Principal>();
  /** hex public key -> principal: cryptosign identifies a client by its key. */
  private readonly byPubkey = new Map<string, Principal>();

  constructor(principals: Iterable<Principal>) {
    for (const p of principals) {
      this.byAuthid.set(p.authid, p);
      for (const k of p.pubkeys) this.byPubkey.set(k, p);
    }
  }

  get size(): number {
    return this.byAuthid.size;
  }

  get(authid: string): Principal | undefined {
    return this.byAuthid.get(authid);
  }

  byKey(pubkeyHex: string): Principal | undefined {
    return this.byPubkey.get(pubkeyHex.toLowerCase());
  }

  *all(): IterableIterator<Principal> {
    yield* this.byAuthid.values();
  }
}

/**
 * The role a principal gets for a HELLO, or undefined when it may not join: a realm other than
 * its own, or a requested HELLO.Details.authrole it does not hold.
 */
export function roleFor(p: Principal, realm: string, requestedRole: unknown): string | undefined {
  if (p.realm !== undefined && p.realm !== realm) return undefined;
  if (typeof requestedRole === 'string' && requestedRole.length > 0) return p.roles.includes(requestedRole) ? requestedRole : undefined;
  return p.roles[0];
}
