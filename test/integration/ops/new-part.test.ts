// The part seam's promise: a new gateway part needs one file for its config section and one for
// its behaviour, and shows on the status page without touching ops/ (docs/new-part.md). Two
// test-only parts are registered through the seam (a PartFactory, as cli/wiring.ts does): a
// "beeper" service (test/fixtures/beeper: its section, validated with paths and resolved, and its
// part with its own states and counters), and a "pulse" bridge of a kind ops has never heard of.
// A real gateway with the real ops part serves them on /status.json, the page and /metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { configPlugins } from '../../../src/cli/wiring';
import { validateConfig, type ConfigPlugins } from '../../../src/config/schema';
import { Gateway } from '../../../src/gateway';
import type { GatewayPart, PartFactory } from '../../../src/gateway-part';
import { opsPartFactory, type OpsPartStatus } from '../../../src/ops/ops-part';
import { beeperSection, DEFAULT_TONE_HZ } from '../../fixtures/beeper/beeper-config';
import { Beeper, beeperPartFactory } from '../../fixtures/beeper/beeper-part';
import type { GatewayStatus } from '../../../src/ops/status-types';
import { httpGet } from '../../helpers/http';
import { captureLogger } from '../../helpers/local-router';

/** A bridge of a kind ops does not know, naming its own traffic counters. */
const pulse: GatewayPart = {
  name: 'test:pulse',
  async start() {},
  async stop() {},
  status: () => ({
    kind: 'pulse-radio',
    role: 'bridge',
    name: 'pulse',
    state: 'connected',
    since: Date.now() - 60_000,
    lastError: null,
    counters: { heard: 12, sent: 3 },
    traffic: { in: ['heard'], out: ['sent'] },
    target: '/dev/radio0',
  }),
};

const pulseParts: PartFactory = () => [pulse];
/** The wiring with the beeper's section plugged in, as cli/wiring.ts lists the built-in ones. */
const plugins: ConfigPlugins = { ...configPlugins, sections: [...(configPlugins.sections ?? []), beeperSection] };

let beeper: Beeper;

let gateway: Gateway;
let base: string;

function get(path: string): Promise<{ status: number; body: string }> {
  return httpGet(`${base}${path}`);
}

before(async () => {
  const { config, problems } = validateConfig(
    {
      listeners: [{ name: 'local', type: 'websocket', port: 0 }],
      // Sampled every second so the bridge's rate series exists after two samples.
      status: { port: 0, sampleIntervalMs: 1000 },
      health: { enabled: false },
      beeper: {},
    },
    plugins,
  );
  assert.ok(config, `the test config is valid: ${JSON.stringify(problems)}`);
  gateway = await Gateway.start(config, { logger: captureLogger().logger, parts: [beeperPartFactory, pulseParts, opsPartFactory] });
  beeper = gateway.parts.find((p): p is Beeper => p instanceof Beeper)!;
  assert.ok(beeper, 'the beeper part was built from its section');
  const ops = gateway.partStatus().ops?.detail as OpsPartStatus;
  base = (ops.url ?? '').replace(/\/$/, '');
  assert.ok(base.startsWith('http://127.0.0.1:'), base);
});

after(async () => {
  await gateway.stop();
});

test('a new service part shows its state, counters and last error on /status.json', async () => {
  beeper.beeps = 41;
  beeper.jams = 2;
  beeper.set('jammed', 'paper jam in tray <2>');
  const res = await get('/status.json');
  assert.equal(res.status, 200);
  const s = JSON.parse(res.body) as GatewayStatus;
  const p = s.parts?.['test:beeper'];
  assert.ok(p, JSON.stringify(Object.keys(s.parts ?? {})));
  assert.equal(p.state, 'error');
  assert.equal(p.kind, 'beeper');
  assert.deepEqual(p.counters, { beeps: 41, jams: 2 });
  assert.equal(p.lastError, 'paper jam in tray <2>');
  assert.equal(p.since, beeper.since);
  assert.equal(p.realm, 'realm1', 'the part was given the realm names');
  assert.deepEqual(p.detail, { own: 'jammed' });
  assert.equal(p.target, `${DEFAULT_TONE_HZ} Hz`, 'the section resolved its default once; the part shows it');
  // Not a bridge, not the uplink: those sections stay as users know them.
  assert.deepEqual(
    s.bridges?.map((b) => b.name),
    ['pulse'],
  );
  assert.equal(s.uplink, undefined);
});

test('a new service part shows on the page (state badge, counters, escaped last error) and in the health answer', async () => {
  beeper.beeps = 7;
  beeper.set('jammed', 'paper jam in tray <2>');
  const res = await get('/');
  assert.equal(res.status, 200);
  const block = /data-part="beeper">[\s\S]*?<\/section>/.exec(res.body)?.[0];
  assert.ok(block, 'a block for the part');
  assert.match(block, /<span class="badge b-bad">error<\/span>/);
  assert.match(block, /Last error: paper jam in tray &#60;2&#62;/);
  assert.match(block, /data-counter="beeps"><span>Beeps<\/span><b>7<\/b>/);
  assert.match(block, /data-counter="jams"><span>Jams<\/span><b>2<\/b>/);
  assert.match(res.body, /data-tile="healthy" data-tone="bad"[\s\S]*?beeper error/);

  beeper.set('beeping');
  const ok = await get('/');
  assert.match(/data-part="beeper">[\s\S]*?<\/section>/.exec(ok.body)?.[0] ?? '', /<span class="badge b-ok">connected<\/span>/);
});

test('a new bridge kind shows in the bridges card with its own traffic counters sampled', async () => {
  const res = await get('/');
  assert.match(res.body, /data-bridge="pulse"><h3>pulse <span class="muted small">pulse-radio<\/span> <span class="badge b-ok">connected<\/span>/);
  assert.match(res.body, /data-counter="heard"><span>Heard<\/span><b>12<\/b>/);
  // The sampler reads the part's own traffic counters: a rate series of the bridge (after two samples).
  const deadline = Date.now() + 10_000;
  let keys: string[] = [];
  while (Date.now() < deadline) {
    const s = JSON.parse((await get('/status.json')).body) as GatewayStatus;
    keys = Object.keys(s.series?.values ?? {});
    if (keys.includes('bridge.pulse.in') && keys.includes('bridge.pulse.out')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(keys.includes('bridge.pulse.in') && keys.includes('bridge.pulse.out'), `waited 10 s for the series bridge.pulse.in/out; have ${keys.join(', ')}`);
});

test('/metrics carries the new part state and counters', async () => {
  beeper.set('jammed');
  const m = (await get('/metrics')).body;
  assert.match(m, /^wampgate_part_state\{part="beeper",kind="beeper",state="error"\} 1$/m);
  assert.match(m, /^wampgate_part_state\{part="beeper",kind="beeper",state="connected"\} 0$/m);
  assert.match(m, /^wampgate_part_events_total\{part="beeper",kind="beeper",event="jams"\} 2$/m);
  assert.match(m, /^wampgate_bridge_state\{bridge="pulse",kind="pulse-radio",state="connected"\} 1$/m);
  assert.match(m, /^wampgate_bridge_events_total\{bridge="pulse",kind="pulse-radio",event="heard"\} 12$/m);
});

test("a new part's config section: every problem with its path, defaults resolved once, unknown without it", () => {
  const bad = validateConfig({ beeper: { tone: 1, toneHz: 5, realm: 'nope', label: '' } }, plugins).problems;
  assert.deepEqual(
    bad.map((q) => `${q.path}: ${q.message}`),
    [
      'beeper.tone: unknown key (allowed: label, realm, toneHz)',
      'beeper.label: must be a non-empty string',
      'beeper.toneHz: must be an integer from 20 to 20000',
      'beeper.realm: no realm "nope" (configured: realm1)',
    ],
  );
  assert.deepEqual(
    validateConfig({ beeper: [] }, plugins).problems.map((q) => q.path),
    ['beeper'],
  );
  const { config } = validateConfig({ beeper: { toneHz: 880 } }, plugins);
  assert.deepEqual(config?.sections?.get(beeperSection), { label: 'beeper', toneHz: 880, realm: 'realm1' });
  assert.equal(validateConfig({}, plugins).config?.sections?.get(beeperSection), undefined, 'absent: no beeper');
  // A build without the part's section says the key is unknown rather than ignoring it.
  assert.deepEqual(
    validateConfig({ beeper: {} }, configPlugins).problems.map((q) => q.path),
    ['beeper'],
  );
});
