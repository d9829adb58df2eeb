// npm 12 (npm's `latest` since 2026) skips every dependency's install script that package.json's
// `allowScripts` does not name, and says so only in a warning at the end of `npm install`. Without
// an entry, better-sqlite3 and the serial port bindings are never built and the uplink's buffer,
// the event history and the serial bridges fail at run time on a fresh install. This keeps the
// list complete: every installed package with an install script is allowed or denied on purpose.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const;

interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}

function readPackage(dir: string): PackageJson | undefined {
  const file = join(dir, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PackageJson) : undefined;
}

/** Every package under node_modules (nested ones too) that has an install-time script. */
function packagesWithInstallScripts(dir: string, found = new Set<string>()): Set<string> {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const dirs = entry.startsWith('@') ? readdirSync(join(dir, entry)).map((n) => join(dir, entry, n)) : [join(dir, entry)];
    for (const d of dirs) {
      const pkg = readPackage(d);
      if (pkg?.name && INSTALL_SCRIPTS.some((s) => pkg.scripts?.[s] !== undefined)) found.add(pkg.name);
      packagesWithInstallScripts(join(d, 'node_modules'), found);
    }
  }
  return found;
}

test("package.json's allowScripts names every installed dependency that has an install script", () => {
  const allow = readPackage(root)?.allowScripts ?? {};
  const missing = [...packagesWithInstallScripts(join(root, 'node_modules'))].filter((name) => !(name in allow)).sort();
  assert.deepEqual(missing, [], 'add each to allowScripts (true to build it, false to skip it), or npm 12 skips it silently');
});

test('the native modules wampgate needs at run time are allowed to build', () => {
  const allow = readPackage(root)?.allowScripts ?? {};
  for (const name of ['better-sqlite3', '@serialport/bindings-cpp']) assert.equal(allow[name], true, name);
});
