#!/usr/bin/env node
'use strict';
let cli;
try {
  cli = require('../dist/src/cli/main.js');
} catch (err) {
  // A module that cannot load (a native addon built for another Node version, a missing build)
  // fails before the CLI exists. Under systemd stderr is the journal: "<3>" files each line at
  // err, so `journalctl -p err` shows why the service did not start.
  const text = `wampgate: cannot load: ${(err && err.stack) || String(err)}\n`;
  let journal = false;
  const m = /^(\d+):(\d+)$/.exec(process.env.JOURNAL_STREAM || '');
  if (m) {
    try {
      const st = require('node:fs').fstatSync(2, { bigint: true });
      journal = String(st.dev) === m[1] && String(st.ino) === m[2];
    } catch {
      journal = false;
    }
  }
  process.stderr.write(journal ? text.replace(/^(?=.)/gm, '<3>') : text);
  process.exit(1);
}
cli.main(process.argv.slice(2));
