// Keeps secrets out of what the admin procedures return: config.get shows secret-bearing fields
// as "[redacted]", and logs.tail masks any secret value the running config names (a mistyped
// ticket sent as an authid would otherwise reach the cloud through the log).

import { SECRET_REFERENCE_KEYS } from '../config/secrets';

const SECRET_KEY = /^(secret|ticket|password|passphrase|token|key|privateKey|credential|authextra)$/i;
export const REDACTED = '[redacted]';

/** Where a secret is kept rather than the secret: `{ "env": NAME }`, `{ "file": PATH }`, `{ "credential": NAME }`. */
const REFERENCE_KEYS: ReadonlySet<string> = new Set(SECRET_REFERENCE_KEYS);

/** Secret-named fields holding a value show as "[redacted]"; references to where a secret is
 * kept, and sections that merely share the name (a listener's `ticket` method), stay readable. */
export function redactConfig(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactConfig);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) && (v === null || typeof v !== 'object') ? REDACTED : redactConfig(v);
  }
  return out;
}

/** Every secret string the config holds inline or names by environment variable. */
export function secretValues(config: unknown, env: NodeJS.ProcessEnv = process.env): string[] {
  const found = new Set<string>();
  const walk = (v: unknown, secret: boolean): void => {
    if (typeof v === 'string') {
      if (secret && v.length >= 4) found.add(v);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, secret);
    } else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (secret && typeof o.env === 'string') {
        const value = env[o.env];
        if (value && value.length >= 4) found.add(value);
      }
      for (const [k, x] of Object.entries(o)) if (!(secret && REFERENCE_KEYS.has(k))) walk(x, secret || SECRET_KEY.test(k));
    }
  };
  walk(config, false);
  // Longest first, so a secret containing another is masked whole.
  return [...found].sort((a, b) => b.length - a.length);
}

export function maskSecrets(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}
