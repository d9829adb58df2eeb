// `wampgate init`: writes the starter config and a principals file with one device whose ticket
// is generated here, shown once, and stored only as a salted hash.

import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { hashSecret } from '../auth/principals';
import { starterConfig } from './starter-config';

export interface InitResult {
  configFile: string;
  principalsFile: string;
  authid: string;
  ticket: string;
}

export class InitRefused extends Error {
  override readonly name = 'InitRefused';
}

export function writeStarterFiles(file: string, options: { force?: boolean } = {}): InitResult {
  const configFile = resolve(file);
  const principalsFile = join(dirname(configFile), `${basename(configFile).replace(/\.jsonc?$/, '')}-principals.json`);
  for (const f of [configFile, principalsFile]) {
    if (existsSync(f) && options.force !== true) throw new InitRefused(`${f} exists; use --force to overwrite it`);
  }
  const authid = 'device1';
  const ticket = randomBytes(18).toString('base64url');
  const principals = [{ authid, role: 'device', ticket: hashSecret(ticket) }];
  // Owner-only: the hashes are not the tickets, but there is no reason to let others read them.
  writeFileSync(principalsFile, JSON.stringify(principals, null, 2) + '\n', { mode: 0o600 });
  writeFileSync(configFile, starterConfig(principalsFile), { mode: 0o600 });
  return { configFile, principalsFile, authid, ticket };
}

export function initMessage(r: InitResult): string {
  return `wrote ${r.configFile}
wrote ${r.principalsFile}

The "network" listener (port 8090) accepts devices with a ticket. One device is set up:
  authid: ${r.authid}
  ticket: ${r.ticket}
This is the only time the ticket is shown: ${r.principalsFile} keeps only a salted hash.
Add devices there (make a hash with: wampgate hash-ticket <ticket>), or name the secret in an
environment variable or a systemd credential instead (see docs/auth.md).

check it:  wampgate check --config ${r.configFile}
run it:    wampgate start --config ${r.configFile}
`;
}
