// Crash safety of SqliteOutbox: a child appends in a loop and is SIGKILLed mid-stream; every entry
// it reported as appended (after append returned) must be in the reopened file, in order, no gaps.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteOutbox, type SqliteDurability } from '../../../src/uplink/sqlite-outbox';

const child = path.join(__dirname, '../../fixtures/outbox-crash-child.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-outbox-crash-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Report {
  appended: Map<number, number>; // seq -> payload number: what the child saw stored
  /** Highest ack the child announced (before running it): entries up to here may be gone. */
  ackedUpTo: number;
}

/** Runs the child until it has reported `killAfter` appends, SIGKILLs it, and returns what it reported. */
function runAndKill(dbPath: string, durability: SqliteDurability, killAfter: number): Promise<Report> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dbPath, durability], { stdio: ['ignore', 'pipe', 'inherit'] });
    const report: Report = { appended: new Map(), ackedUpTo: 0 };
    let buffered = '';
    let killed = false;
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? ''; // a torn last line was not fully reported: ignore it
      for (const line of lines) {
        const [kind, a, b] = line.split(' ');
        if (kind === 'A') report.appended.set(Number(a), Number(b));
        else if (kind === 'K') report.ackedUpTo = Math.max(report.ackedUpTo, Number(a));
        else if (kind === 'D') reject(new Error('child saw a drop; the test expects none'));
      }
      if (!killed && report.appended.size >= killAfter) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own: code ${code} signal ${signal}`));
      else resolve(report);
    });
  });
}

for (const durability of ['full', 'normal'] as const) {
  test(`SIGKILL mid-stream (${durability}): every reported append survives, in order, without gaps`, async () => {
    const dbPath = path.join(dir, `crash-${durability}.db`);
    let expectedNextAtLeast = 1;
    // Three kill/reopen rounds on the same file: recovery must also hold for a file that already crashed.
    for (let round = 0; round < 3; round++) {
      const report = await runAndKill(dbPath, durability, 1500 + round * 700);
      const reported = [...report.appended.keys()].sort((x, y) => x - y);
      assert.ok(reported.length > 0);
      assert.ok(reported[0]! >= expectedNextAtLeast, 'seq continues across crashes');

      const outbox = new SqliteOutbox({ path: dbPath });
      const present = outbox.peek(1_000_000);
      const bySeq = new Map(present.map((e) => [e.seq, e]));
      const mustHave = reported.filter((s) => s > report.ackedUpTo);
      for (const seq of mustHave) {
        const e = bySeq.get(seq);
        assert.ok(e, `reported seq ${seq} is missing after the crash (acked up to ${report.ackedUpTo})`);
        assert.deepEqual(e.args, [report.appended.get(seq)]);
      }
      // In order and without gaps over the reported range: the file's seqs there are exactly the reported ones.
      const lo = mustHave[0]!;
      const hi = mustHave[mustHave.length - 1]!;
      const inRange = present.filter((e) => e.seq >= lo && e.seq <= hi).map((e) => e.seq);
      assert.deepEqual(inRange, mustHave);
      // At most the one step in flight at the kill (a batch of five) was stored but not reported.
      assert.ok(present.filter((e) => e.seq > hi).length <= 5);
      expectedNextAtLeast = outbox.stats().nextSeq;
      outbox.close();
    }
  });
}
