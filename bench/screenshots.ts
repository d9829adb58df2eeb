// Screenshots of the status page of a gateway with real traffic, for the operator's-view review
// (issue 12): the real CLI (bin/wampgate.js) with an MQTT bridge to a Mosquitto it starts, a
// serial line bridge on a socat pty pair, an uplink to a second wampgate (the "cloud") that starts
// late so a backlog builds and then drains at a limited replay rate, and event history on. After
// the run, headless Chromium (Debian's `chromium`) saves full-page PNGs at 1280 and 390 px (and
// the phone's first screen).
//
//   node dist/bench/screenshots.js [--minutes M] [--out DIR] [--sample-ms N] [--keep]
//
// Needs /usr/sbin/mosquitto, /usr/bin/socat and /usr/bin/chromium (apt-get install mosquitto
// socat chromium). Everything binds 127.0.0.1 on free ports; every child is stopped at the end.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { Browser } from '../test/helpers/chromium';
import { freePort, waitForPort } from './core/common';

const root = path.resolve(__dirname, '..', '..');
const children: ChildProcess[] = [];

function start(cmd: string, args: string[], name: string): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => {
    if (process.env.SCREENSHOTS_VERBOSE) process.stderr.write(`[${name}] ${c.toString()}`);
  });
  children.push(child);
  return child;
}

function wampgate(dir: string, name: string, config: Record<string, unknown>): ChildProcess {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return start(process.execPath, [path.join(root, 'bin', 'wampgate.js'), 'start', '--config', file], name);
}

async function waitForFile(file: string, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A raw WAMP publisher over WebSocket/JSON (no client library: the bench measures nothing). */
function wampPublisher(url: string): Promise<(topic: string, args: unknown[], kwargs?: Record<string, unknown>) => void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'wamp.2.json');
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify([1, 'realm1', { roles: { publisher: {} } }]));
      ws.once('message', () => {
        let request = 1;
        resolve((topic, args, kwargs) => ws.send(JSON.stringify([16, request++, {}, topic, args, kwargs ?? {}])));
      });
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, dflt: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 ? (argv[i + 1] ?? dflt) : dflt;
  };
  const minutes = Number(opt('--minutes', '3'));
  const out = path.resolve(opt('--out', '/work/screens'));
  const sampleMs = Number(opt('--sample-ms', '2000'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wampgate-screens-'));
  mkdirSync(out, { recursive: true });
  const [mqttPort, gwPort, statusPort, cloudPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  try {
    writeFileSync(path.join(dir, 'mosquitto.conf'), `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    start('/usr/sbin/mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], 'mosquitto');
    const devGateway = path.join(dir, 'tty-gateway');
    const devSensor = path.join(dir, 'tty-sensor');
    start('/usr/bin/socat', [`pty,raw,echo=0,link=${devGateway}`, `pty,raw,echo=0,link=${devSensor}`], 'socat');
    await waitForPort(mqttPort, 10_000);
    await waitForFile(devSensor, 'the socat pty pair');

    wampgate(dir, 'gateway', {
      dataDir: path.join(dir, 'data'),
      realms: [{ name: 'realm1', history: [{ uri: 'sensors.', match: 'prefix', maxEvents: 500, maxAgeMs: 3_600_000 }] }],
      listeners: [{ name: 'websocket', type: 'websocket', host: '127.0.0.1', port: gwPort, path: '/ws' }],
      status: { enabled: true, host: '127.0.0.1', port: statusPort, sampleIntervalMs: sampleMs },
      log: { level: 'warn' },
      bridges: {
        mqtt: [
          {
            name: 'plant',
            realm: 'realm1',
            broker: { url: `mqtt://127.0.0.1:${mqttPort}` },
            topics: [{ mqtt: 'sensors/+/temperature', wamp: 'sensors.{1}.temperature', direction: 'mqtt-to-wamp', codec: 'json', qos: 1 }],
          },
        ],
        serial: [
          {
            name: 'thermo',
            mode: 'line',
            path: devGateway,
            baudRate: 9600,
            realm: 'realm1',
            rules: [{ match: '^T=(?<t>-?\\d+(\\.\\d+)?)$', topic: 'sensors.{port}.temperature', args: ['{t:number}'] }],
          },
        ],
      },
      uplink: {
        url: `ws://127.0.0.1:${cloudPort}/ws`,
        realm: 'cloud',
        gatewayId: 'gw1',
        reconnect: { initialDelayMs: 500, maxDelayMs: 2000 },
        buffer: { replayRatePerSecond: 20 },
        forward: [{ name: 'sensors-up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors.' }],
      },
    });
    await waitForPort(gwPort, 15_000);
    await waitForPort(statusPort, 15_000);

    // Traffic: MQTT sensors (a few per second), a serial thermometer (one line a second), and WAMP
    // publishers (bursts), all under sensors. so the uplink and the history get them.
    const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`);
    await new Promise<void>((resolve, reject) => client.once('connect', () => resolve()).once('error', reject));
    const serial = createWriteStream(devSensor);
    const publish = await wampPublisher(`ws://127.0.0.1:${gwPort}/ws`);
    let tick = 0;
    const traffic = setInterval(() => {
      tick++;
      const wave = Math.sin(tick / 40);
      for (const room of ['boiler', 'hall', 'roof']) client.publish(`sensors/${room}/temperature`, JSON.stringify(20 + 5 * wave + Math.random()), { qos: 1 });
      if (tick % 4 === 0) serial.write(`T=${(21 + 3 * wave).toFixed(1)}\n`);
      if (tick % 4 === 1 && Math.random() < 0.2) serial.write('garbage line from a flaky sensor\n');
      const burst = 5 + Math.round(10 * Math.abs(wave));
      for (let i = 0; i < burst; i++) publish('sensors.line1.counter', [tick * 100 + i], { unit: 'pcs' });
    }, 250);

    // The cloud comes up after a third of the run: the backlog built so far drains at 20/s while
    // live events keep flowing.
    const runMs = minutes * 60_000;
    await new Promise((r) => setTimeout(r, runMs / 3));
    process.stdout.write(`starting the cloud after ${Math.round(runMs / 3000)} s\n`);
    wampgate(dir, 'cloud', {
      realms: [{ name: 'cloud' }],
      listeners: [{ name: 'websocket', type: 'websocket', host: '127.0.0.1', port: cloudPort, path: '/ws' }],
      status: { enabled: false },
      log: { level: 'warn' },
    });
    await new Promise((r) => setTimeout(r, (runMs * 2) / 3));
    clearInterval(traffic);
    client.end(true);
    serial.end();

    const browser = await Browser.launch();
    try {
      for (const width of [1280, 390]) {
        const page = await browser.open(`http://127.0.0.1:${statusPort}/`, { width, height: width > 600 ? 1000 : 844 });
        const scroll = await page.evaluate<{ scrollWidth: number; clientWidth: number }>(
          '({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth })',
        );
        const png = path.join(out, `status-${width}.png`);
        await page.screenshot(png);
        // What a phone shows without scrolling: the three answers must be there.
        if (width < 600) await page.screenshot(path.join(out, `status-${width}-first-screen.png`), { y: 0, height: 844 });
        process.stdout.write(
          `${png}: page ${scroll.scrollWidth} px wide in a ${scroll.clientWidth} px viewport${scroll.scrollWidth > scroll.clientWidth ? ' — HORIZONTAL SCROLL' : ''}\n`,
        );
        await page.close();
      }
    } finally {
      await browser.close();
    }
  } finally {
    for (const c of children.reverse()) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())));
    if (!argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  process.exit(1);
});
