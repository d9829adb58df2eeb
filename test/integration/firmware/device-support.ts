// Device-in-the-loop support: builds the sensor example for a microcontroller with make, runs it
// in a simulator (simavr, QEMU) whose UART is a pty, puts a byte proxy on the line (to inject
// corrupt frames either way), and drives the whole scenario against a real Gateway with a
// frame-mode serial port and AutobahnJS as the WAMP client. Shared by the AVR and Cortex-M tests.

import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { SerialPort } from 'serialport';
import { cborSerializer } from '../../../src/serializers/cbor';
import { encodeFrame } from '../../../src/transports/serial/frame-codec';
import { Gateway } from '../../../src/gateway';
import { validateConfig } from '../../../src/config/schema';
import { configPlugins } from '../../../src/cli/wiring';
import { serialPartFactory } from '../../../src/bridges/serial/part';
import type { FramePortStatus } from '../../../src/bridges/serial/frame-port';
import { quietLogger } from '../../../src/util/logger';
import { PtyPair } from '../bridges/serial-support';

/* eslint-disable @typescript-eslint/no-explicit-any -- AutobahnJS ships no types */
const autobahn = require('autobahn') as any;

export const FIRMWARE_DIR = path.resolve(__dirname, '../../../../firmware-bridge');
/** Simulators on a shared, loaded 2-core machine: generous, but every wait is bounded and named. */
export const DEVICE_WAIT_MS = 60_000;

export async function waitFor<T>(what: string, probe: () => T | undefined | false | null, timeoutMs = DEVICE_WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Fails (never skips) with the Debian package to install when a toolchain program is missing. */
export function requireTools(tools: Record<string, string>): void {
  for (const [tool, pkg] of Object.entries(tools)) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    assert.equal(found.status, 0, `${tool} is not installed: apt-get install ${pkg} (.ci/run installs it)`);
  }
}

/** `make -C firmware-bridge <target> BUILD=<dir>`; returns make's output (it prints the sizes). */
export function makeFirmware(target: string, buildDir: string): string {
  return execFileSync('make', ['-C', FIRMWARE_DIR, target, `BUILD=${buildDir}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A simulator process; its stdout and stderr lines are kept (for the pty path and for failures). */
export class Simulator {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private constructor(readonly child: ChildProcess) {
    let buf = '';
    const take = (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      this.lines.push(...parts);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }
  static start(cmd: string, args: string[]): Simulator {
    return new Simulator(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }
  /** The pty the simulator put the UART on, from the first line matching `re` (group 1). */
  pty(re: RegExp): Promise<string> {
    return waitFor(
      `the simulator to print its UART pty (output so far: ${JSON.stringify(this.lines)})`,
      () => {
        if (this.child.exitCode !== null) throw new Error(`simulator exited with ${this.child.exitCode}: ${this.lines.join('\n')}`);
        for (const l of this.lines) {
          const m = re.exec(l);
          if (m) return m[1];
        }
        return undefined;
      },
      30_000,
    );
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = this.exited;
    this.child.kill('SIGTERM');
    await exited;
  }
}

async function openPort(p: string): Promise<SerialPort> {
  const port = new SerialPort({ path: p, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => undefined);
  return port;
}

/**
 * The serial line between the device's pty and the gateway's (one end of a socat pty pair):
 * forwards bytes both ways and can inject bytes either way, like noise on a real line.
 */
export class LineProxy {
  bytesToGateway = 0;
  bytesToDevice = 0;
  private constructor(
    private readonly device: SerialPort,
    private readonly gateway: SerialPort,
  ) {
    device.on('data', (d: Buffer) => {
      this.bytesToGateway += d.length;
      gateway.write(d);
    });
    gateway.on('data', (d: Buffer) => {
      this.bytesToDevice += d.length;
      device.write(d);
    });
  }
  static async open(devicePty: string, gatewaySide: string): Promise<LineProxy> {
    return new LineProxy(await openPort(devicePty), await openPort(gatewaySide));
  }
  inject(direction: 'to-gateway' | 'to-device', bytes: Buffer): Promise<void> {
    const port = direction === 'to-gateway' ? this.gateway : this.device;
    return new Promise((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : port.drain(() => resolve()))));
  }
  async close(): Promise<void> {
    for (const p of [this.device, this.gateway]) if (p.isOpen) await new Promise<void>((r) => p.close(() => r()));
  }
}

/** Garbage as a line produces it: noise, a frame with a flipped bit (CRC), a broken COBS block. */
export function lineNoise(): { bytes: Buffer; crcFrames: number; cobsFrames: number } {
  const bad = Buffer.from(encodeFrame(cborSerializer.encode([16, 4242, {}, 'noise.topic', [666]]), { leadingDelimiter: true }));
  bad[5] = bad[5]! ^ 0x20;
  const notCobs = Buffer.from([0x09, 0x01, 0x02, 0x00]); // code byte points past the delimiter
  return { bytes: Buffer.concat([Buffer.from([0]), Buffer.from('line noise \x01\x02\x03'), Buffer.from([0]), bad, notCobs]), crcFrames: 1, cobsFrames: 2 };
}

export interface DeviceGateway {
  gateway: Gateway;
  url: string;
  port(): FramePortStatus;
}

/** A gateway as a user configures it: WebSocket listener for apps, a frame-mode port for the device. */
export async function startDeviceGateway(ptyPath: string, portName: string, authid: string): Promise<DeviceGateway> {
  const raw = {
    realms: [{ name: 'iot' }],
    listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: 0 }],
    bridges: { serial: [{ name: portName, path: ptyPath, mode: 'frame', realm: 'iot', authid, authrole: 'device', reopen: { minMs: 100, maxMs: 500 } }] },
  };
  const { config, problems } = validateConfig(raw, configPlugins);
  assert.deepEqual(problems, []);
  const gateway = await Gateway.start(config!, { logger: quietLogger, parts: [serialPartFactory] });
  const address = gateway.listeners[0]!.address as { port: number };
  return {
    gateway,
    url: `ws://127.0.0.1:${address.port}/ws`,
    port: () => gateway.partStatus()[`serial:${portName}`]?.detail as FramePortStatus,
  };
}

export interface AppSession {
  session: any;
  connection: any;
  events: Record<string, Array<{ args: unknown[]; kwargs: Record<string, unknown> }>>;
}

/** AutobahnJS session on the gateway's WebSocket listener; `topics` are subscribed and recorded. */
export async function openApp(url: string, topics: string[]): Promise<AppSession> {
  const { session, connection } = await new Promise<{ session: any; connection: any }>((resolve, reject) => {
    const connection = new autobahn.Connection({ url, realm: 'iot', max_retries: 0 });
    connection.onopen = (session: any) => resolve({ session, connection });
    connection.onclose = (reason: string, details: { reason?: string }) => {
      reject(new Error(`AutobahnJS could not join: ${reason} ${String(details.reason)}`));
      return true;
    };
    connection.open();
  });
  const app: AppSession = { session, connection, events: {} };
  for (const t of topics) {
    const list: AppSession['events'][string] = [];
    app.events[t] = list;
    await session.subscribe(t, (args: unknown[], kwargs: Record<string, unknown>) => list.push({ args: args ?? [], kwargs: kwargs ?? {} }));
  }
  return app;
}

export async function closeApp(app: AppSession | undefined): Promise<void> {
  if (!app) return;
  await new Promise<void>((resolve) => {
    app.connection.onclose = () => {
      resolve();
      return true;
    };
    if (!app.connection.isOpen) resolve();
    else app.connection.close();
  });
}

async function call(app: AppSession, proc: string, args: unknown[] = []): Promise<{ args: unknown[]; kwargs: Record<string, unknown> }> {
  const r = await app.session.call(proc, args);
  // AutobahnJS returns a plain value for a single positional result, a Result otherwise.
  if (r && typeof r === 'object' && 'args' in r) return { args: r.args ?? [], kwargs: r.kwargs ?? {} };
  return { args: [r], kwargs: {} };
}

export interface DeviceStats {
  stack_used: number;
  stack_free: number;
  frames_in: number;
  frames_out: number;
  crc_errors: number;
  cobs_errors: number;
  oversized: number;
  bad_messages: number;
  joins: number;
}

export interface ScenarioOptions {
  /** The sensor's URI prefix (SENSOR_PREFIX of the build). */
  prefix: string;
  /** Starts the simulator; resolves with the pty its UART is on. */
  startDevice(): Promise<{ pty: string; stop(): Promise<void> }>;
  /** The reading the device publishes (e.g. the ADC count the simulator feeds it). */
  checkReading(value: number): void;
  workDir: string;
  cleanups: Array<() => Promise<void> | void>;
  log(msg: string): void;
}

/**
 * The device in the loop: joins the configured realm, publishes readings, is called by
 * AutobahnJS, calls AutobahnJS's procedure; noise injected both ways is dropped and counted at
 * both ends while the session goes on; the gateway restarts and the device rejoins.
 * Returns the device's own stats at the end (stack high-water mark among them).
 */
export async function runDeviceScenario(o: ScenarioOptions): Promise<DeviceStats> {
  const { prefix, cleanups } = o;
  const line = new PtyPair(o.workDir, 'line');
  await line.plug();
  cleanups.push(() => line.unplug());
  const device = await o.startDevice();
  cleanups.push(() => device.stop());
  const proxy = await LineProxy.open(device.pty, line.b);
  cleanups.push(() => proxy.close());

  let gw = await startDeviceGateway(line.a, 'dev', 'device-1');
  cleanups.push(() => gw.gateway.stop());
  let app = await openApp(gw.url, [`${prefix}.reading`, `${prefix}.called`, 'wamp.session.on_join']);
  cleanups.push(() => closeApp(app));
  const scaleCalls: unknown[][] = [];
  const registerScale = (a: AppSession) =>
    a.session.register('app.scale', (args: unknown[]) => {
      scaleCalls.push(args);
      return (args[0] as number) * 2;
    });
  await registerScale(app);

  // Joined with the identity the port names; the session id shows in the port status.
  await waitFor('the device to join (port status session)', () => gw.port().session);
  // Readings arrive: [value, seq].
  const readings = app.events[`${prefix}.reading`]!;
  await waitFor(`two readings on ${prefix}.reading`, () => readings.length >= 2);
  const [value, seq] = readings[0]!.args as [number, number];
  o.checkReading(value);
  assert.equal(readings[1]!.args[1], seq + 1);
  // AutobahnJS calls the device.
  assert.deepEqual((await call(app, `${prefix}.add`, [2, 3])).args, [5]);
  assert.deepEqual((await call(app, `${prefix}.add`, [-40000, 70000])).args, [30000]);
  await assert.rejects(call(app, `${prefix}.add`, ['x']), (e: any) => e.error === 'wamp.error.invalid_argument');
  // The device calls AutobahnJS's procedure and publishes the result.
  const called = app.events[`${prefix}.called`]!;
  await waitFor(`the device's call of app.scale to come back as ${prefix}.called`, () => called.length >= 1);
  assert.equal(scaleCalls.length, 1);
  assert.deepEqual(called[0]!.args, [(scaleCalls[0]![0] as number) * 2]);
  o.checkReading(scaleCalls[0]![0] as number);
  // The session that did all that (a HELLO retry crossing a slow WELCOME is answered by the
  // port with the same WELCOME: see serial-frame-hello.test.ts).
  const session = gw.port().session;
  assert.ok(session !== undefined);
  o.log(`joined session=${session}`);

  // Noise on the line, both ways: dropped and counted by the gateway and by the device.
  const stats = async () => (await call(app, `${prefix}.stats`)).kwargs as unknown as DeviceStats;
  const before = await stats();
  const gwBefore = gw.port().counters;
  const noise = lineNoise();
  await proxy.inject('to-gateway', noise.bytes);
  await proxy.inject('to-device', noise.bytes);
  await waitFor('the gateway to count the corrupt frames', () => {
    const c = gw.port().counters;
    return c.crcErrors >= gwBefore.crcErrors + noise.crcFrames && c.cobsErrors >= gwBefore.cobsErrors + noise.cobsFrames;
  });
  let devAfter = await stats();
  const deadline = Date.now() + DEVICE_WAIT_MS;
  while (devAfter.crc_errors < before.crc_errors + noise.crcFrames || devAfter.cobs_errors < before.cobs_errors + noise.cobsFrames) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the device to count the corrupt frames: ${JSON.stringify(devAfter)}`);
    await new Promise((r) => setTimeout(r, 200));
    devAfter = await stats();
  }
  // Resynchronised: the same session goes on, calls and readings still flow.
  assert.equal(gw.port().session, session);
  assert.deepEqual((await call(app, `${prefix}.add`, [20, 22])).args, [42]);
  const n = readings.length;
  await waitFor('a reading after the noise', () => readings.length > n);
  assert.ok(!Object.values(app.events).some((l) => l.some((e) => e.args[0] === 666)), 'the corrupt PUBLISH was not delivered');
  o.log(`after noise: gateway ${JSON.stringify(gw.port().counters)} device ${JSON.stringify(devAfter)}`);

  // Gateway restart: the device notices (GOODBYE, or ABORT for its next message) and rejoins.
  await closeApp(app);
  await gw.gateway.stop();
  gw = await startDeviceGateway(line.a, 'dev', 'device-1');
  app = await openApp(gw.url, [`${prefix}.reading`, `${prefix}.called`]);
  await registerScale(app);
  const session2 = await waitFor('the device to rejoin the restarted gateway', () => gw.port().session);
  assert.notEqual(session2, session);
  await waitFor(`a reading on the restarted gateway`, () => app.events[`${prefix}.reading`]!.length >= 1);
  await waitFor(`the device's call of app.scale after the rejoin`, () => app.events[`${prefix}.called`]!.length >= 1);
  assert.deepEqual((await call(app, `${prefix}.add`, [1, 1])).args, [2]);
  const final = await stats();
  assert.ok(final.joins >= 2, `joins=${final.joins}`);
  assert.ok(final.stack_used > 0 && final.stack_free > 0, JSON.stringify(final));
  o.log(`final device stats ${JSON.stringify(final)}`);
  return final;
}
