// `wampgate status` against a real `wampgate start` child: the human-readable report, --json, and
// the message when nothing listens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WampClient } from '../../../src/client/wamp-client';
import type { GatewayStatus } from '../../../src/ops/status-types';
import { jsonSerializer } from '../../../src/serializers/json';
import { connectWebSocket } from '../../../src/transports/websocket/client';
import { freePort, opsWired, runCli, startCli, writeTempConfig, type CliChild, type TempConfig } from './cli-child';

// Until cli/wiring.ts registers the ops part, the CLI has no status listener to ask.
const skip = opsWired ? false : 'the ops part is not registered in src/cli/wiring.ts';

let cfg: TempConfig;
let gw: CliChild | undefined;
let client: WampClient | undefined;

before(async () => {
  cfg = await writeTempConfig(({ statusPort }) => (opsWired ? { status: { port: statusPort }, health: { intervalMs: 1000 } } : {}));
  if (!opsWired) return;
  gw = startCli(['start', '--config', cfg.path]);
  await gw.waitForOutput(/\[wampgate\.main\] ready /);
  client = await WampClient.connect(await connectWebSocket({ url: `ws://127.0.0.1:${cfg.wsPort}/ws`, serializer: jsonSerializer }), { realm: 'realm1' });
  // The first board-health sample comes some time after "ready" (seconds on a loaded machine):
  // the report shows "no health data yet" until then, so wait for it, bounded.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await runCli(['status', '--config', cfg.path, '--json']);
    if (r.code === 0 && (JSON.parse(r.stdout) as GatewayStatus).health) break;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the first health snapshot in wampgate status --json:\n${r.stdout}${r.stderr}`);
    await new Promise((res) => setTimeout(res, 200));
  }
});

after(async () => {
  if (client && !client.closed) await client.close();
  if (gw) {
    gw.child.kill('SIGTERM');
    const { code } = await gw.exited;
    assert.equal(code, 0, gw.output());
  }
  cfg.cleanup();
});

test('status prints realm1 with its session count, listeners and board health', { skip }, async () => {
  const r = await runCli(['status', '--config', cfg.path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^wampgate \S+ at http:\/\/127\.0\.0\.1:\d+\/ — ready, up /m);
  assert.match(r.stdout, /^Sessions {3}1$/m);
  assert.match(r.stdout, /^ {2}realm1 +1 session \(websocket 1\)$/m);
  assert.match(r.stdout, new RegExp(`^ {2}websocket +ws://127\\.0\\.0\\.1:${cfg.wsPort}/ws {2}1 session$`, 'm'));
  assert.match(r.stdout, /^Uplink {5}not configured$/m);
  assert.match(r.stdout, /^Power {6}/m);
  assert.match(r.stdout, /^Process {4}RSS /m);
});

test('status --json prints the raw status document', { skip }, async () => {
  const r = await runCli(['status', '--config', cfg.path, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as GatewayStatus;
  assert.deepEqual(s.router?.realms.find((x) => x.name === 'realm1')?.sessions, { websocket: 1 });
  assert.equal(s.ready, true);
});

test('status --url overrides the config', { skip }, async () => {
  const r = await runCli(['status', '--url', `http://127.0.0.1:${cfg.statusPort}`, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout));
});

test('against a dead port, status exits 1 and says what to check', async () => {
  const dead = await freePort();
  const r = await runCli(['status', '--url', `http://127.0.0.1:${dead}`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    new RegExp(`cannot reach http://127\\.0\\.0\\.1:${dead}/status\\.json \\(ECONNREFUSED\\): is wampgate running\\? is the status listener enabled\\?`),
  );
});

test('a config whose status listener is disabled says so', async () => {
  const off = await writeTempConfig(() => ({ status: { enabled: false } }));
  try {
    const r = await runCli(['status', '--config', off.path]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /status listener is disabled/);
  } finally {
    off.cleanup();
  }
});

test('a bad status section is a config error (78) with its path', async () => {
  const bad = await writeTempConfig(() => ({ status: { port: 'x' } }));
  try {
    const r = await runCli(['status', '--config', bad.path]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /status\.port: must be an integer/);
  } finally {
    bad.cleanup();
  }
});
