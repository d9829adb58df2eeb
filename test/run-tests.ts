// Runs node:test over every *.test.js under the given directories of dist/test/, the same way on
// every Node line: Node 20 expands a directory argument and has no globs, Node 22+ take globs
// and no longer expand a directory, so the file list is made here and passed explicitly.
// A compiled test whose .ts source is gone (renamed or deleted, then built with a bare `tsc`,
// which never removes outputs) is skipped with a note, not run: `npm run build` starts from an
// empty dist/, but `tsc -w` and `npx tsc` do not.
// Usage: node dist/test/run-tests.js [DIR...] [-- NODE_TEST_ARGS...]   (default DIRs: unit integration)

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = __dirname; // dist/test
const sourceRoot = join(root, '..', '..', 'test');

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(p));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) {
      const source = join(sourceRoot, relative(root, p)).replace(/\.js$/, '.ts');
      if (existsSync(source)) out.push(p);
      else process.stderr.write(`run-tests: skipping ${relative(process.cwd(), p)}: no ${relative(process.cwd(), source)} (stale build output)\n`);
    }
  }
  return out.sort();
}

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const dirs = sep >= 0 ? argv.slice(0, sep) : argv;
const extra = sep >= 0 ? argv.slice(sep + 1) : [];
const files: string[] = [];
for (const d of dirs.length > 0 ? dirs : ['unit', 'integration']) {
  const dir = join(root, d);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    process.stderr.write(`run-tests: ${relative(process.cwd(), dir)} is not a directory (run npm run build first)\n`);
    process.exit(2);
  }
  files.push(...testFiles(dir));
}
if (files.length === 0) {
  process.stderr.write(`run-tests: no *.test.js files under ${dirs.join(', ')}\n`);
  process.exit(2);
}
const concurrency = process.env.WAMPGATE_TEST_CONCURRENCY ?? '2';
const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...extra, ...files], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
