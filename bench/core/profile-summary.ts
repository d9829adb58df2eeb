// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the time went: the top functions by
// self time and the same summed per file, as shares of all samples (idle included, so a busy
// router shows how much of its core it used). Run alone:
//   node dist/bench/core/profile-summary.js FILE.cpuprofile [top=25]

import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export function summariseProfile(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; endTime: number };
  const total = profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idle = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') idle += hits;
    const short = url
      ? url
          .replace(/^file:\/\//, '')
          .replace(/.*\/node_modules\//, 'node_modules/')
          .replace(/.*\/dist\//, 'dist/')
      : '';
    const key = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + hits);
    const f = short
      ? short.startsWith('node_modules/')
        ? short.split('/').slice(0, 2).join('/')
        : short.startsWith('node:')
          ? short
          : path.basename(short)
      : functionName;
    byFile.set(f, (byFile.get(f) ?? 0) + hits);
  }
  const pct = (h: number): string => `${((h / total) * 100).toFixed(1).padStart(5)}%`;
  const lines: string[] = [`  ${total} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, idle ${pct(idle).trim()}`];
  lines.push('  self time by function:');
  for (const [key, h] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`   ${pct(h)}  ${key}`);
  lines.push('  self time by file / module:');
  for (const [key, h] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`   ${pct(h)}  ${key}`);
  return lines.join('\n');
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/core/profile-summary.js FILE.cpuprofile [top]\n');
    process.exitCode = 2;
  } else process.stdout.write(summariseProfile(file, Number(process.argv[3] ?? 25)) + '\n');
}
