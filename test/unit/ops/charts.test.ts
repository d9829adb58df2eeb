import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChartCache, escapeHtml, lineChart, niceTop, polylinePoints, stateStrip } from '../../../src/ops/charts';
import { groupThousands } from '../../../src/ops/format';
import { counterLabel, dropLabel, humanize } from '../../../src/ops/labels';
import { formatCount, formatDuration } from '../../../src/ops/status-page';

test('axis tops are round numbers at or above the largest value', () => {
  assert.equal(niceTop(0), 1);
  assert.equal(niceTop(1), 1);
  assert.equal(niceTop(1.2), 2);
  assert.equal(niceTop(400), 500);
  assert.equal(niceTop(1200), 2000);
  assert.equal(niceTop(7000), 10000);
});

test('points map time to x over the window and value to y; a missing value or a silence breaks the line', () => {
  const o = { start: 0, end: 600_000, top: 100, stepMs: 10_000 };
  const t = [0, 10_000, 20_000, 30_000, 100_000, 110_000];
  const segs = polylinePoints(t, [0, 100, null, 50, 50, 100], o);
  // y = 98 - v / 100 * 96; x = t / 600 s * 600.
  assert.deepEqual(segs, ['0,98 10,2', '30,50 33,50', '100,50 110,2']);
});

test('the state strip draws one band per state across the window, escaped', () => {
  const svg = stateStrip(
    [
      { at: -100, state: 'connected' },
      { at: 300, state: '<b>' },
    ],
    0,
    600,
  );
  assert.match(svg, /<rect x="0" y="0" width="300" height="10" class="st-ok" data-state="connected">/);
  assert.match(svg, /<rect x="300" y="0" width="300" height="10" class="st-bad" data-state="&#60;b&#62;">/);
  assert.equal(stateStrip([], 0, 600), '');
});

test('a chart with no values says so instead of drawing nothing; labels are escaped', () => {
  const html = lineChart({
    id: 'x"',
    title: 't',
    t: [1, 2],
    start: 0,
    end: 10,
    stepMs: 1,
    lines: [{ key: 'k', label: '<i>', values: [null, null] }],
    format: String,
    empty: 'none yet',
  });
  assert.match(html, /<div class="nodata">none yet<\/div>/);
  assert.ok(html.includes('data-chart="x&#34;"') && html.includes('&#60;i&#62;'));
  assert.equal(escapeHtml(`<a href='x'>&"`), '&#60;a href=&#39;x&#39;&#62;&#38;&#34;');
});

test('people read words, not counter names', () => {
  assert.equal(humanize('decodeErrors'), 'Decode errors');
  assert.equal(humanize('queue_full'), 'Queue full');
  assert.equal(humanize('rpcHTTPCalls'), 'Rpc http calls');
  assert.equal(counterLabel('wampPublished'), 'Published to WAMP');
  assert.equal(counterLabel('somethingNew'), 'Something new');
  assert.equal(dropLabel('slow_consumer_event'), 'Slow subscriber (event dropped)');
  assert.equal(formatCount(10_000), '10k');
  assert.equal(formatCount(12_345), '12k');
  assert.equal(formatCount(1_500_000), '1.5M');
  assert.equal(formatCount(2.25), '2.3');
  assert.equal(formatDuration(3725), '1 h 2 min');
});

test('a chart drawn later than its latest sample is the same drawing shifted left; the cache redraws only on a new sample', () => {
  const base = { id: 'c', title: 't', stepMs: 10_000, format: String, lines: [{ key: 'k', label: 'K', values: [1, 2, 3] }] };
  const t = [580_000, 590_000, 600_000];
  const atSample = lineChart({ ...base, t, start: 0, end: 600_000 });
  assert.doesNotMatch(atSample, /<g transform/, 'no shift when now is the latest sample');
  const pts = /points="([^"]*)"/.exec(atSample)?.[1];
  assert.equal(pts, '580,78.8 590,59.6 600,40.4');
  // 6 s later: the same polyline, moved 6 user units (6 s of a 600 s window over 600 units) left.
  const cache = new ChartCache();
  const later = lineChart({ ...base, t, start: 6_000, end: 606_000 }, cache);
  assert.match(later, /<g transform="translate\(-6 0\)"><polyline class="line c0" data-series="k" points="580,78.8 590,59.6 600,40.4"\/><\/g>/);
  // Drawn once for the tick: a second render reuses it; a new sample draws again.
  let draws = 0;
  const counting = { get: (id: string, stamp: string, draw: () => string) => cache.get(id, stamp, () => (draws++, draw())) } as ChartCache;
  lineChart({ ...base, t, start: 7_000, end: 607_000 }, counting);
  assert.equal(draws, 0);
  const next = lineChart(
    { ...base, t: [590_000, 600_000, 610_000], lines: [{ key: 'k', label: 'K', values: [2, 3, 1] }], start: 10_000, end: 610_000 },
    counting,
  );
  assert.equal(draws, 1);
  assert.match(next, /points="580,59.6 590,40.4 600,78.8"/);
  assert.doesNotMatch(next, /<g transform/);
});

test('counts read as people write them', () => {
  for (const n of [0, 7, 999, 1000, 1234, 9999, -1234, 10_000 - 1]) assert.equal(groupThousands(n), n.toLocaleString('en-US'));
  assert.equal(formatCount(9999.6), '10,000');
  assert.equal(formatCount(12_345), '12k');
});
