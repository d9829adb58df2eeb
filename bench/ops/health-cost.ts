// Measures the CPU cost of HealthMonitor: per poll (back-to-back), and over a window at the
// default 10 s interval with process.cpuUsage(), as a share of one core. For comparison it also
// times the systeminformation calls the monitor avoids per poll.
// Run: npx tsc -p . && node dist/bench/ops/health-cost.js [windowSeconds=60] [dataDir=/tmp]

import * as si from 'systeminformation';
import { HealthMonitor } from '../../src/ops/health';

const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function timeIt(label: string, n: number, f: () => Promise<unknown>): Promise<void> {
  await f();
  let wallNs = 0n;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    // si.currentLoad() answers from a cache within 200 ms of the previous call: space calls out.
    await sleep(250);
    const t0 = process.hrtime.bigint();
    await f();
    wallNs += process.hrtime.bigint() - t0;
  }
  const wall = Number(wallNs) / 1e6 / n;
  console.log(`${label}: ${wall.toFixed(2)} ms wall, ${(cpuMs(process.cpuUsage(c0)) / n).toFixed(2)} ms CPU in node per call (children not counted)`);
}

async function main(): Promise<void> {
  const windowS = Number(process.argv[2] ?? 60);
  const dataDir = process.argv[3] ?? '/tmp';

  const probe = new HealthMonitor({ dataDir });
  await timeIt('HealthMonitor.poll()', 20, () => probe.poll());
  await timeIt('si.currentLoad()  [execSync cat /proc/stat]', 10, () => si.currentLoad());
  await timeIt('si.cpuTemperature() [execSync + exec sh]', 10, () => si.cpuTemperature());
  await timeIt('si.networkStats() [exec cat]', 10, () => si.networkStats());

  const m = new HealthMonitor({ dataDir }); // default interval 10 s
  const s0 = process.cpuUsage();
  m.start();
  await m.poll(); // the first poll also gathers static board facts once (si.osInfo, si.cpu)
  console.log(`first poll incl. static facts: ${cpuMs(process.cpuUsage(s0)).toFixed(1)} ms CPU`);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  // Keep the process alive for the window (the monitor's timer is unref'd).
  await new Promise((r) => setTimeout(r, windowS * 1000));
  m.stop();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const used = cpuMs(process.cpuUsage(c0)); // includes the idle event loop and the sleeps' timers
  console.log(
    `HealthMonitor at ${m.intervalMs / 1000} s for ${(wallMs / 1000).toFixed(0)} s: ${used.toFixed(1)} ms CPU = ${((used / wallMs) * 100).toFixed(4)} % of one core`,
  );
  console.log(`rss ${(process.memoryUsage().rss / 1048576).toFixed(1)} MiB`);
}

void main();
