// The event history on the operator's side: a gateway with history rules and the ops part shows
// the history as a service part — rows and bytes as gauges (wampgate_part_value), evictions and
// drops as counters (wampgate_part_events_total) in /metrics, and on the status page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { join } from 'node:path';
import { WampClient } from '../../../src/client/wamp-client';
import { Gateway } from '../../../src/gateway';
import { opsPartFactory, type OpsPartStatus } from '../../../src/ops/ops-part';
import { attachLocal } from '../../../src/transports/local';
import { quietLogger } from '../../../src/util/logger';
import { tempDir, testConfig, until } from '../support/gateway';
import { withSection } from '../../../src/config/section';
import { statusSection } from '../../../src/ops/ops-config';

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

test('history rows, bytes, evictions and drops are in /metrics and on the status page', async () => {
  const dir = tempDir('wampgate-history-status-');
  const config = testConfig(join(dir.path, 'wamp.sock'), {}, [{ name: 'realm1', history: [{ uri: 'meter.', match: 'prefix', maxEvents: 3 }] }]);
  config.dataDir = join(dir.path, 'data');
  withSection(config, statusSection, { port: 0 });
  const gateway = await Gateway.start(config, { logger: quietLogger, parts: [opsPartFactory] });
  const c = await WampClient.connect(attachLocal(gateway.router, 'meter', { authid: 'meter', authrole: 'app' }), { realm: 'realm1' });
  try {
    for (let i = 0; i < 5; i++) await c.publish('meter.kwh', [i], undefined, { acknowledge: true });
    const history = gateway.history;
    assert.ok(history);
    await until(() => history.status().written === 5, 'the writer to commit five events');
    const part = gateway.partStatus().history;
    assert.equal(part?.role, 'service');
    assert.equal(part?.gauges?.rows, 3);
    assert.equal(part?.counters.evicted_count, 2);
    const base = ((gateway.partStatus().ops?.detail as OpsPartStatus).url ?? '').replace(/\/$/, '');
    const metrics = await get(`${base}/metrics`);
    assert.match(metrics, /^wampgate_part_value\{part="history",kind="history",value="rows"\} 3$/m);
    const bytes = /^wampgate_part_value\{part="history",kind="history",value="bytes"\} (\d+)$/m.exec(metrics);
    assert.ok(bytes && Number(bytes[1]) > 0, 'stored bytes reported');
    assert.match(metrics, /^wampgate_part_events_total\{part="history",kind="history",event="evicted_count"\} 2$/m);
    assert.match(metrics, /^wampgate_part_events_total\{part="history",kind="history",event="dropped_queue_full"\} 0$/m);
    assert.match(metrics, /^# TYPE wampgate_part_value gauge$/m);
    const page = await get(`${base}/`);
    assert.match(page, /<dt>Events stored<\/dt><dd data-gauge="rows">3<\/dd>/);
    assert.match(page, /data-gauge="bytes">[^<]*B<\/dd>/);
    assert.match(page, /data-counter="evicted_count"><span>Evicted \(per-topic count\)<\/span><b>2<\/b>/);
    // Counters still at 0 fold under one line; the ones that moved stay in view.
    const folded = /<div class="sub" data-part="history">.*?<details class="zeros"><summary>(\d+) more at 0<\/summary>(.*?)<\/details>/s.exec(page);
    assert.ok(folded, 'the zero counters of the history are folded');
    assert.match(folded[2] ?? '', /data-counter="dropped_queue_full"><span>[^<]+<\/span><b>0<\/b>/);
    assert.doesNotMatch(folded[2] ?? '', /evicted_count/, 'a counter that moved is not folded');
    assert.equal(Number(folded[1]), (folded[2]?.match(/data-counter=/g) ?? []).length, 'the summary counts what it folds');
  } finally {
    await c.close();
    await gateway.stop();
    dir.remove();
  }
});
