// Secrets in the config: where one comes from (a literal, `{ "env" }`, `{ "file" }`, a systemd
// `{ "credential" }`), how its shape is checked and how it is read, with problems named by path and
// never by content. One module for every layer that holds secrets: auth's principals, the
// uplink's client auth, and admin's redaction (which keeps the references readable).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigProblem } from './problem';
import { isObject, type Check } from './validate';

/**
 * Where a secret comes from, so it need not sit in the config file:
 * a literal string, `{ "env": "NAME" }`, `{ "file": "/path" }` (trailing newline dropped; the
 * path may start with `${CREDENTIALS_DIRECTORY}`) or `{ "credential": "name" }` (a systemd
 * credential: `$CREDENTIALS_DIRECTORY/name`, else `$CREDENTIALS_DIRECTORY/secret_name`, which is
 * what the unit's `LoadCredential=secret:/etc/wampgate/credentials` makes of the file `name`).
 */
export type SecretSource = string | { env: string } | { file: string } | { credential: string };

/** The keys of a secret reference: where it is kept, shown as is (the value it names is not). */
export const SECRET_REFERENCE_KEYS = ['env', 'file', 'credential'] as const;

/** Checks a SecretSource's shape (not whether it can be read: that is resolveSecret's). */
export function checkSecretSource(c: Check, v: unknown, path: string): void {
  if (typeof v === 'string') {
    if (v.length === 0) c.add(path, 'must not be empty');
    return;
  }
  if (isObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && (SECRET_REFERENCE_KEYS as readonly string[]).includes(keys[0]!)) {
      c.string(v[keys[0]!], `${path}.${keys[0]}`);
      return;
    }
  }
  c.add(path, 'must be a string or one of { "env": NAME }, { "file": PATH }, { "credential": NAME }');
}

/** What a loader may read; injectable so tests need no real files or environment. */
export interface SecretEnv {
  env: NodeJS.ProcessEnv;
  readFile(path: string): string;
}

export const processSecretEnv: SecretEnv = {
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
};

/** The ID prefix the unit's directory credential gives each file: `LoadCredential=ID:DIR`
 * delivers `DIR/name` as `ID_name` (systemd.exec(5)). */
export const CREDENTIAL_DIR_PREFIX = 'secret_';

/** The only variables a `file` path may use: anything else would make the config depend on an
 * environment nobody documents. */
const FILE_PATH_VARIABLES = ['CREDENTIALS_DIRECTORY'] as const;

/**
 * Expands `${CREDENTIALS_DIRECTORY}` (or `$CREDENTIALS_DIRECTORY`) in a file path. Any other
 * `$` reference, or the variable unset, is a problem naming the path, so a typo is not read as
 * a literal file name.
 */
export function expandFilePath(file: string, path: string, problems: ConfigProblem[], env: NodeJS.ProcessEnv): string | undefined {
  let bad: string | undefined;
  const out = file.replace(/\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (ref, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    if (!(FILE_PATH_VARIABLES as readonly string[]).includes(name)) {
      bad ??= `${file}: unknown variable ${ref} (only \${CREDENTIALS_DIRECTORY} is expanded)`;
      return ref;
    }
    const v = env[name];
    if (v === undefined || v === '') {
      bad ??= `${file}: ${ref} is not set (systemd sets it for a unit with LoadCredential=)`;
      return ref;
    }
    return v;
  });
  if (bad !== undefined) {
    problems.push({ path, message: bad });
    return undefined;
  }
  return out;
}

export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** Reads credential `name`: the file of that name, else the unit directory's `secret_<name>`. */
function readCredential(name: string, path: string, problems: ConfigProblem[], senv: SecretEnv): string | undefined {
  const dir = senv.env.CREDENTIALS_DIRECTORY;
  if (!dir) {
    problems.push({ path, message: `credential "${name}" needs $CREDENTIALS_DIRECTORY, which systemd sets for a unit with LoadCredential=` });
    return undefined;
  }
  if (name.length === 0 || name.includes('/')) {
    problems.push({ path, message: `credential name "${name}" must be a file name (no "/")` });
    return undefined;
  }
  const candidates = [join(dir, name), join(dir, CREDENTIAL_DIR_PREFIX + name)];
  for (const file of candidates) {
    try {
      return stripNewline(senv.readFile(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      // The error names the file, never its content.
      problems.push({ path, message: `cannot read credential "${name}" at ${file}: ${errorCode(err)}` });
      return undefined;
    }
  }
  problems.push({ path, message: `credential "${name}" not found: looked for ${candidates.join(' and ')}` });
  return undefined;
}

/** Resolves a SecretSource; problems are added with `path`, and undefined is returned. */
export function resolveSecret(source: SecretSource, path: string, problems: ConfigProblem[], senv: SecretEnv = processSecretEnv): string | undefined {
  if (typeof source === 'string') return source;
  if ('env' in source) {
    const v = senv.env[source.env];
    if (v === undefined || v === '') problems.push({ path, message: `environment variable ${source.env} is not set` });
    return v || undefined;
  }
  if ('file' in source) {
    const file = expandFilePath(source.file, path, problems, senv.env);
    if (file === undefined) return undefined;
    try {
      return stripNewline(senv.readFile(file));
    } catch (err) {
      // The error names the file, never its content.
      problems.push({ path, message: `cannot read secret ${file}: ${errorCode(err)}` });
      return undefined;
    }
  }
  if ('credential' in source) return readCredential(source.credential, path, problems, senv);
  problems.push({ path, message: 'a secret must be a string or { env } / { file } / { credential }' });
  return undefined;
}

export function stripNewline(s: string): string {
  return s.replace(/\r?\n$/, '');
}
