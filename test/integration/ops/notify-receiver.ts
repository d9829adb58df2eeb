// Test helper, not a test: a fake systemd NOTIFY_SOCKET. A python3 script binds an AF_UNIX
// datagram socket (Node cannot), prints each datagram as a JSON line with the sender PID from
// SCM_CREDENTIALS, and closes passed fds so systemd-notify's BARRIER=1 wait returns at once.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const RECEIVER = String.raw`
import json, os, socket, struct, sys, time
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
print(json.dumps({"bound": path}), flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(12) + socket.CMSG_SPACE(16 * 4))
    pid = None
    for level, typ, payload in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
        elif level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            for i in range(len(payload) // 4):
                os.close(struct.unpack_from("i", payload, i * 4)[0])
    print(json.dumps({"data": data.decode("utf-8", "replace"), "pid": pid, "t": time.monotonic()}), flush=True)
`;

export interface Datagram {
  /** Assignments in the datagram, e.g. { READY: '1', STATUS: 'x' }. */
  fields: Record<string, string>;
  pid: number | null;
  /** Receiver's monotonic clock, seconds. */
  t: number;
}

export interface NotifyReceiver {
  socketPath: string;
  /** All datagrams except systemd-notify's BARRIER=1 synchronisation messages. */
  datagrams: Datagram[];
  /** Resolves when a datagram matching `pred` has arrived (or rejects after timeoutMs). */
  waitFor(pred: (d: Datagram) => boolean, timeoutMs?: number): Promise<Datagram>;
  close(): void;
}

export async function startNotifyReceiver(): Promise<NotifyReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'wampgate-notify-'));
  const socketPath = join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const datagrams: Datagram[] = [];
  const waiters: Array<() => void> = [];
  let bound: () => void = () => {};
  const boundP = new Promise<void>((resolve, reject) => {
    bound = resolve;
    child.once('exit', (code) => reject(new Error(`receiver exited ${code}`)));
    child.once('error', reject);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as { bound?: string; data?: string; pid?: number | null; t?: number };
    if (msg.bound) return bound();
    const fields: Record<string, string> = {};
    for (const kv of (msg.data ?? '').split('\n')) {
      const i = kv.indexOf('=');
      if (i > 0) fields[kv.slice(0, i)] = kv.slice(i + 1);
    }
    if (fields.BARRIER === '1') return;
    datagrams.push({ fields, pid: msg.pid ?? null, t: msg.t ?? 0 });
    for (const w of waiters.splice(0)) w();
  });
  await boundP;
  return {
    socketPath,
    datagrams,
    waitFor(pred, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching datagram; got ${JSON.stringify(datagrams)}`)), timeoutMs);
        const check = (): void => {
          const d = datagrams.find(pred);
          if (d) {
            clearTimeout(timer);
            resolve(d);
          } else waiters.push(check);
        };
        check();
      });
    },
    close() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
