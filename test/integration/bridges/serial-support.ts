// Shared by the serial bridge integration tests and bench: socat pseudo-terminal pairs that can
// be "unplugged" (socat killed, its links vanish) and "replugged" at the same paths, a raw
// device end, the firmware host build, and an event-driven waitFor with a generous limit.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SerialPort } from 'serialport';

export const WAIT_MS = 15_000;

export async function waitFor<T>(what: string, probe: () => T | undefined | false | null, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** Two linked ptys: `a` for the gateway, `b` for the device. */
export class PtyPair {
  readonly a: string;
  readonly b: string;
  private child: ChildProcess | undefined;

  constructor(dir: string, name = 'pty') {
    this.a = path.join(dir, `${name}-a`);
    this.b = path.join(dir, `${name}-b`);
  }

  async plug(): Promise<void> {
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: 'ignore' });
    this.child = child;
    await waitFor('socat pty links', () => fs.existsSync(this.a) && fs.existsSync(this.b) && child.exitCode === null);
  }

  /** SIGTERM: socat removes its links, like a USB device vanishing from /dev. */
  async unplug(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await exited;
  }
}

/** The device end of a pty opened by the test: write bytes, collect what arrives. */
export class RawDevice {
  received = Buffer.alloc(0);
  private constructor(readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    port.on('error', () => undefined);
  }
  static async open(p: string, baudRate = 115200): Promise<RawDevice> {
    const port = new SerialPort({ path: p, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new RawDevice(port);
  }
  write(bytes: Buffer | string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.port.write(bytes, (err) => (err ? reject(err) : this.port.drain(() => resolve())));
    });
  }
  async close(): Promise<void> {
    if (this.port.isOpen) await new Promise<void>((r) => this.port.close(() => r()));
  }
}

/** Writes bytes into a pty without reading from it (another process owns the reading side). */
export function injectBytes(p: string, bytes: Buffer): void {
  const fd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NOCTTY);
  try {
    fs.writeSync(fd, bytes);
  } finally {
    fs.closeSync(fd);
  }
}

/** Builds firmware-bridge's wampdev-host into `buildDir` (its own dir: other tests may run make too). */
export function buildWampdevHost(buildDir: string): string {
  const root = path.resolve(__dirname, '../../../..');
  execFileSync('make', ['-C', path.join(root, 'firmware-bridge'), 'host', `BUILD=${buildDir}`], { stdio: 'pipe' });
  return path.join(buildDir, 'wampdev-host');
}

/** A running wampdev-host: its stdout lines as they come. */
export class HostProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private buf = '';
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => {
      this.buf += d.toString();
      const parts = this.buf.split('\n');
      this.buf = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }
  static start(binary: string, args: string[]): HostProcess {
    return new HostProcess(spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  }
  line(pred: (l: string) => boolean): string | undefined {
    return this.lines.find(pred);
  }
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
