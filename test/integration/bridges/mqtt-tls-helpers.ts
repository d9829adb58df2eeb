// A Mosquitto process with one listener per way the MQTT bridge can reach a broker: plain TCP
// (anonymous, for the test devices), TLS requiring a client certificate, WebSocket, and TCP
// with username/password. Plus the small PKI it needs, made with openssl in a temp dir.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../transports/support';
import { MOSQUITTO, freePort, waitFor } from './mqtt-helpers';

export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

export interface Pki {
  /** The CA that signed the broker's and the client's certificates. */
  ca: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate (CN=gw-client) signed by `ca`. */
  clientCert: string;
  clientKey: string;
  /** A second, unrelated CA: trusting only it must refuse the broker. */
  otherCa: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** CA, server certificate for 127.0.0.1/localhost, client certificate, and a foreign CA. */
export function makePki(dir: string): Pki {
  const p = (name: string): string => join(dir, name);
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const newCa = (name: string, cn: string): void =>
    openssl([
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      p(`${name}.key`),
      '-out',
      p(`${name}.pem`),
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  const leaf = (name: string, cn: string, ext: string): void => {
    openssl(['req', '-new', ...ecKey, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`]);
    writeFileSync(p(`${name}.ext`), ext);
    openssl([
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-out',
      p(`${name}.pem`),
      '-days',
      '2',
      '-extfile',
      p(`${name}.ext`),
    ]);
  };
  newCa('ca', 'wampgate-test-ca');
  newCa('other-ca', 'wampgate-other-ca');
  leaf('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  leaf('client', 'gw-client', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  return {
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    otherCa: p('other-ca.pem'),
  };
}

export interface SecureMosquitto {
  pki: Pki;
  /** mqtt:// anonymous: where the test devices connect. */
  plainUrl: string;
  /** mqtts:// requiring a client certificate signed by pki.ca (its CN becomes the username). */
  tlsUrl: string;
  /** ws://…/mqtt, anonymous. */
  wsUrl: string;
  /** mqtt:// with allow_anonymous false and a password file holding `username`/`password`. */
  authUrl: string;
  username: string;
  password: string;
  close(): Promise<void>;
}

/** Whether a TCP connect to 127.0.0.1:port succeeds. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      s.destroy();
      resolve(false);
    });
    s.connect(port, '127.0.0.1');
  });
}

export async function startSecureMosquitto(): Promise<SecureMosquitto> {
  if (!existsSync(MOSQUITTO_PASSWD)) throw new Error(`${MOSQUITTO_PASSWD} is missing (it ships with the mosquitto package)`);
  const dir = tempDir('wampgate-mosquitto-tls-');
  let child: ChildProcess | undefined;
  try {
    // Mosquitto started as root drops to the mosquitto user and may read the files after that.
    chmodSync(dir.path, 0o755);
    const pki = makePki(dir.path);
    const username = 'gw';
    const password = 's3cret pass';
    const passwd = join(dir.path, 'passwd');
    execFileSync(MOSQUITTO_PASSWD, ['-b', '-c', passwd, username, password], { stdio: 'ignore' });
    for (const f of [pki.ca, pki.serverCert, pki.serverKey, passwd]) chmodSync(f, 0o644);

    const [plain, tls, ws, auth] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const conf = join(dir.path, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        'per_listener_settings true',
        'persistence false',
        'max_queued_messages 0',
        'log_dest stderr',
        'log_type error',
        `listener ${plain} 127.0.0.1`,
        'allow_anonymous true',
        `listener ${tls} 127.0.0.1`,
        `cafile ${pki.ca}`,
        `certfile ${pki.serverCert}`,
        `keyfile ${pki.serverKey}`,
        'require_certificate true',
        'use_identity_as_username true',
        'allow_anonymous false',
        `listener ${ws} 127.0.0.1`,
        'protocol websockets',
        'allow_anonymous true',
        `listener ${auth} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${passwd}`,
        '',
      ].join('\n'),
    );
    const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', () => undefined);
    const up = new Set<number>();
    await waitFor(() => proc.exitCode !== null || up.size === 4, {
      timeoutMs: 10_000,
      what: 'mosquitto to listen on all four ports',
      poll: () => {
        for (const port of [plain, tls, ws, auth]) if (!up.has(port)) void accepts(port).then((ok) => ok && up.add(port));
      },
    });
    if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}: ${stderr}`);
    return {
      pki,
      plainUrl: `mqtt://127.0.0.1:${plain}`,
      tlsUrl: `mqtts://127.0.0.1:${tls}`,
      wsUrl: `ws://127.0.0.1:${ws}/mqtt`,
      authUrl: `mqtt://127.0.0.1:${auth}`,
      username,
      password,
      close: async () => {
        await killChild(proc);
        dir.remove();
      },
    };
  } catch (err) {
    if (child) await killChild(child);
    dir.remove();
    throw err;
  }
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
