// The status page of a gateway that has run three minutes, as the screenshots of issue 12 showed
// it: the charts span five minutes (not a sliver at the right edge of an hour), and a backlog that
// grew during an outage and drains since the link came back is "Draining", not "Growing".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SeriesSnapshot } from '../../../src/ops/series';
import { renderStatusBody } from '../../../src/ops/status-page';
import type { GatewayStatus } from '../../../src/ops/status-types';

const now = 1_800_000_000_000;
const STEP = 2_000;

/** 3 minutes of samples: the backlog climbs to 5,000 in the first minute, then falls 20 a second. */
function young(): GatewayStatus {
  const t: number[] = [];
  const backlog: number[] = [];
  for (let at = now - 180_000; at <= now; at += STEP) {
    t.push(at);
    const s = (at - (now - 180_000)) / 1000;
    backlog.push(s <= 60 ? Math.round((5000 * s) / 60) : 5000 - 20 * (s - 60));
  }
  const series: SeriesSnapshot = {
    stepMs: STEP,
    windowMs: 3_600_000,
    capacity: 1801,
    size: t.length,
    bytes: 0,
    refused: 0,
    t,
    values: { 'uplink.backlog': backlog, 'messages.in': t.map(() => 50), 'messages.out': t.map(() => 50) },
    states: {
      uplink: [
        { at: now - 180_000, state: 'connecting' },
        { at: now - 120_000, state: 'connected' },
      ],
    },
  };
  return {
    generatedAt: now,
    ready: true,
    uplink: {
      state: 'connected',
      since: now - 120_000,
      buffer: { depth: backlog[backlog.length - 1] as number, bytes: 90_000, oldestAgeSeconds: 170, drops: 0 },
      replay: { active: true, backlogAtStart: 5000, acked: 2600 },
    },
    series,
  };
}

test('a backlog that grew, then drains for the last two minutes, reads Draining with the current rate', () => {
  const html = renderStatusBody(young(), 'wampgate');
  assert.match(html, /data-tile="backlog" data-tone="ok"><h2>Backlog<\/h2><p class="answer">Draining</);
  assert.match(html, /1,200\/min; empty in about 2 min/);
});

test('the charts of a gateway up three minutes span five minutes, and say so', () => {
  const html = renderStatusBody(young(), 'wampgate');
  assert.match(html, /<div class="axis"><span>5 min ago<\/span>/);
  assert.ok(!html.includes('60 min ago'), 'no hour-wide axis for three minutes of samples');
  assert.match(html, /link state, last 5 min/);
});
