// The part seam's promise: a new gateway part shows on the status page without touching ops/.
// Two test-only parts are registered through the seam (a PartFactory, as cli/wiring.ts does): a
// "beeper" service with its own states and counters, and a "pulse" bridge of a kind ops has never
// heard of. A real gateway with the real ops part serves them on /status.json, the page and
// /metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../../src/config/defaults';
import { Gateway } from '../../../src/gateway';
import type { GatewayPart, PartContext, PartFactory, PartState, PartStatus } from '../../../src/gateway-part';
import { opsPartFactory, type OpsPartStatus } from '../../../src/ops/ops-part';
import { healthSection, statusSection } from '../../../src/ops/ops-config';
import { withSection } from '../../../src/config/section';
import type { GatewayStatus } from '../../../src/ops/status-types';
import { httpGet } from '../../helpers/http';
import { captureLogger } from '../../helpers/local-router';

/** A part with its own vocabulary ("warming", "beeping", "jammed"), mapped into the parts' one. */
class Beeper implements GatewayPart {
  readonly name = 'test:beeper';
  own: 'warming' | 'beeping' | 'jammed' = 'warming';
  since = Date.now();
  beeps = 0;
  jams = 0;
  lastError: string | null = null;
  realm = '';

  async start(ctx: PartContext): Promise<void> {
    this.realm = ctx.realms[0] ?? '';
    this.set('beeping');
  }

  async stop(): Promise<void> {}

  set(state: Beeper['own'], error?: string): void {
    this.own = state;
    this.since = Date.now();
    if (error !== undefined) this.lastError = error;
  }

  status(): PartStatus {
    const state: PartState = { warming: 'connecting', beeping: 'connected', jammed: 'error' }[this.own] as PartState;
    return {
      kind: 'beeper',
      role: 'service',
      name: 'beeper',
      state,
      since: this.since,
      lastError: this.lastError,
      counters: { beeps: this.beeps, jams: this.jams },
      realm: this.realm,
      detail: { own: this.own },
    };
  }
}

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

const beeper = new Beeper();
const testParts: PartFactory = () => [beeper, pulse];

let gateway: Gateway;
let base: string;

function get(path: string): Promise<{ status: number; body: string }> {
  return httpGet(`${base}${path}`);
}

before(async () => {
  const config = defaultConfig();
  for (const l of config.listeners) l.port = 0;
  // Sampled every second so the bridge's rate series exists after two samples.
  withSection(config, statusSection, { port: 0, sampleIntervalMs: 1000 });
  withSection(config, healthSection, { enabled: false });
  gateway = await Gateway.start(config, { logger: captureLogger().logger, parts: [testParts, opsPartFactory] });
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
