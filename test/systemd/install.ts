// Puts wampgate into a container's root file system the way hardware-notes.md tells a user to:
// Node.js (the npm-packaged build, laid out as the nodejs.org tarball: /usr/local/bin/node and
// /usr/local/include/node), npm, then `npm install -g` of the `npm pack` tarball.

import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { hostOk, REPO, type Container } from './container';

export interface Installed {
  tarball: string;
  /** Wall time of `npm install -g`, seconds. */
  installSeconds: number;
  /** npm's output (with --foreground-scripts: every install script's own output). */
  output: string;
}

export async function installPackage(c: Container, options: { nodeMajor: string; arch: 'x64' | 'arm64'; timeoutMs?: number }): Promise<Installed> {
  const nodePkg = (await hostOk(join(REPO, '.ci/node-pkg'), [options.nodeMajor, options.arch], { timeoutMs: 600_000 })).trim();
  copyFileSync(join(nodePkg, 'bin/node'), join(c.root, 'usr/local/bin/node'));
  cpSync(join(nodePkg, 'include'), join(c.root, 'usr/local/include'), { recursive: true });
  // npm is plain JavaScript: the host's copy runs on any architecture.
  const npmDir = join((await hostOk('npm', ['root', '-g'])).trim(), 'npm');
  mkdirSync(join(c.root, 'usr/local/lib/node_modules'), { recursive: true });
  cpSync(npmDir, join(c.root, 'usr/local/lib/node_modules/npm'), { recursive: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(c.root, 'usr/local/bin/npm'));
  // The package as published (dist/ is already built: the npm scripts build first).
  const packDir = join(c.root, 'root');
  const tarball = (await hostOk('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', packDir], { timeoutMs: 300_000 }))
    .trim()
    .split('\n')
    .pop() as string;
  assert.ok(readdirSync(packDir).includes(tarball), `npm pack wrote ${tarball}`);
  // better-sqlite3 downloads its binary from github.com, which CI cannot reach, so node-gyp
  // compiles it; npm_config_nodedir makes it take Node's headers from /usr/local/include instead
  // of downloading them from nodejs.org (hardware-notes.md, installing offline).
  let env = 'npm_config_nodedir=/usr/local ';
  // Where the host's npm trusts an extra CA (a TLS-inspecting egress proxy, as on CI machines),
  // the container's npm must trust it too to reach the registry.
  const cafile = (await hostOk('npm', ['config', 'get', 'cafile'])).trim();
  if (cafile.startsWith('/') && existsSync(cafile)) {
    copyFileSync(cafile, join(c.root, 'root/host-ca.crt'));
    env += 'npm_config_cafile=/root/host-ca.crt NODE_EXTRA_CA_CERTS=/root/host-ca.crt ';
  }
  const start = Date.now();
  const r = await c.run(`cd /root && ${env}npm install -g --no-audit --no-fund --foreground-scripts ./${tarball} 2>&1`, options.timeoutMs ?? 900_000);
  const installSeconds = Math.round((Date.now() - start) / 1000);
  assert.equal(r.code, 0, `npm install -g in the container failed:\n${r.stdout}\n${r.stderr}`);
  return { tarball, installSeconds, output: r.stdout };
}
