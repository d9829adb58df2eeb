// Serial bridge throughput through a socat pseudo-terminal pair: frames/s (frame mode: a device
// publishes CBOR WAMP frames, a WAMP subscriber counts EVENTs) and lines/s (line mode: a sensor
// writes lines, the LineBridge maps and publishes them). Run: `npm run build && node
// dist/bench/serial.js [count]`. The device is a child process, so it does not share the event
// loop being measured. A pty has no baud rate: these are the bridge's ceilings, not a UART's.

import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SerialPort } from 'serialport';
import { WampClient } from '../src/client/wamp-client';
import { Router } from '../src/core/router';
import { FramePort } from '../src/bridges/serial/frame-port';
import { LineBridge } from '../src/bridges/serial/line-bridge';
import { resolveSerialPort } from '../src/bridges/serial/config';
import { cborSerializer } from '../src/serializers/cbor';
import { FrameDecoder, encodeFrame } from '../src/transports/serial/frame-codec';
import { createLocalPair } from '../src/transports/local';
import { PtyPair, waitFor } from '../test/integration/bridges/serial-support';
import { localSessions } from '../src/gateway-part';
import { anonymousOnLoopback } from '../src/auth/anonymous';

type Mode = 'frame' | 'line';
const BATCH = 64;

// ---- child: the device --------------------------------------------------------------------

async function device(mode: Mode, ttyPath: string, count: number): Promise<void> {
  const port = new SerialPort({ path: ttyPath, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const write = (buf: Buffer) => new Promise<void>((resolve, reject) => port.write(buf, (err) => (err ? reject(err) : port.drain(() => resolve()))));
  if (mode === 'frame') {
    const decoder = new FrameDecoder();
    const welcomed = new Promise<void>((resolve) => {
      port.on('data', (chunk: Buffer) => {
        for (const f of decoder.push(chunk)) if ((cborSerializer.decode(f) as unknown[])[0] === 2) resolve();
      });
    });
    await write(encodeFrame(cborSerializer.encode([1, 'realm1', { roles: { publisher: {} } }]), { leadingDelimiter: true }));
    await welcomed;
  }
  process.send?.('start');
  for (let i = 0; i < count; i += BATCH) {
    const parts: Buffer[] = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) {
      parts.push(mode === 'frame' ? encodeFrame(cborSerializer.encode([16, j + 1, {}, 'bench.frames', [j, 21.5]])) : Buffer.from(`T=${j}\n`));
    }
    await write(Buffer.concat(parts));
  }
  // Stay until the parent has counted: closing now could hang up the pty before it is read.
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  await new Promise<void>((r) => port.close(() => r()));
}

// ---- parent: bridge + subscriber ------------------------------------------------------------

interface Figure {
  mode: Mode;
  received: number;
  lost: number;
  seconds: number;
  rate: number;
  bytesPerSecond: number;
}

async function measure(mode: Mode, count: number, dir: string): Promise<Figure> {
  const pty = new PtyPair(dir, mode);
  await pty.plug();
  const anonymous = anonymousOnLoopback();
  const router = new Router({ realms: [{ name: 'realm1' }], authenticatorFor: () => anonymous });
  const bridge =
    mode === 'frame'
      ? new FramePort(resolveSerialPort({ name: 'bench', path: pty.a, mode: 'frame', realm: 'realm1', authid: 'bench-device', authrole: 'device' }), {
          router: localSessions(router),
        })
      : new LineBridge(
          resolveSerialPort({
            name: 'bench',
            path: pty.a,
            mode: 'line',
            realm: 'realm1',
            rules: [{ match: '^T=(?<v>\\d+)$', topic: 'bench.lines', args: ['{v:int}'] }],
          }),
          { router: localSessions(router) },
        );
  if (bridge instanceof LineBridge) await bridge.start();
  else bridge.start();
  await waitFor('port open', () => bridge.status().state === 'open');
  const pair = createLocalPair('bench-subscriber');
  router.attach(pair.routerSide);
  const client = await WampClient.connect(pair.clientSide, { realm: 'realm1' });
  let received = 0;
  let first = 0;
  let last = 0;
  await client.subscribe(mode === 'frame' ? 'bench.frames' : 'bench.lines', () => {
    received++;
    last = performance.now();
  });
  const child = fork(__filename, ['--device', mode, pty.b, String(count)], { stdio: 'inherit' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // The clock starts when the device starts writing (after its HELLO/WELCOME in frame mode).
  child.once('message', () => (first = performance.now()));
  let seen = -1;
  let idleSince = Date.now();
  while (received < count) {
    await new Promise((r) => setTimeout(r, 20));
    if (received !== seen) {
      seen = received;
      idleSince = Date.now();
    } else if (Date.now() - idleSince > 3000) break;
  }
  child.send('done');
  await exited;
  const bytesIn = (bridge.status().counters as { bytesIn: number }).bytesIn;
  await client.close();
  await bridge.stop();
  await router.close();
  await pty.unplug();
  const seconds = received > 0 && first > 0 ? (last - first) / 1000 : 0;
  return { mode, received, lost: count - received, seconds, rate: seconds > 0 ? received / seconds : 0, bytesPerSecond: seconds > 0 ? bytesIn / seconds : 0 };
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 100_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-bench-serial-'));
  try {
    console.log(`serial bridge through a socat pty, ${count} messages per mode (node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'})`);
    for (const mode of ['frame', 'line'] as const) {
      const f = await measure(mode, count, dir);
      console.log(
        `${mode === 'frame' ? 'frames' : 'lines '}: ${Math.round(f.rate)}/s into WAMP events (${f.received} received, ${f.lost} lost, ${f.seconds.toFixed(2)} s, ${(f.bytesPerSecond / 1024).toFixed(0)} KiB/s on the port)`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--device') {
  device(process.argv[3] as Mode, process.argv[4] as string, Number(process.argv[5])).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
