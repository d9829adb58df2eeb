// Measures what one sd_notify costs through the systemd-notify binary: wall time per message
// (spawn + barrier round trip) and CPU in this process and in the spawned children.
// Run: npx tsc -p . && node dist/bench/ops/notify-cost.js [count]

import { readFileSync } from 'node:fs';
import { createNotifier } from '../../src/ops/systemd-notify';
import { startNotifyReceiver } from '../../test/integration/ops/notify-receiver';

/** utime+stime of waited-for children, in clock ticks (USER_HZ = 100 on Linux). */
function childTicks(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0: cutime is field 16, cstime 17.
  return Number(fields[13]) + Number(fields[14]);
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 200);
  const rx = await startNotifyReceiver();
  const n = createNotifier({ env: { NOTIFY_SOCKET: rx.socketPath, PATH: process.env.PATH } });
  await n.watchdog(); // warm up
  const cpu0 = process.cpuUsage();
  const ticks0 = childTicks();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    if (!(await n.watchdog())) throw new Error('send failed');
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const childMs = (childTicks() - ticks0) * 10;
  rx.close();
  const per = (x: number): string => (x / count).toFixed(2);
  console.log(`systemd-notify x${count}: wall ${per(wallMs)} ms/msg; node CPU ${per((cpu.user + cpu.system) / 1000)} ms/msg; child CPU ${per(childMs)} ms/msg`);
  console.log(`at one WATCHDOG=1 every 15 s: ${((((cpu.user + cpu.system) / 1000 + childMs) / count / 15000) * 100).toFixed(4)} % of one core`);
}

void main();
