// SIGHUP on the real CLI process (what `systemctl reload wampgate` sends): a config with errors is
// rejected whole with every problem and its path at error priority, and the running config stays;
// a good one is applied without dropping the sessions it does not touch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli } from '../support/cli';
import { tempDir, within } from '../support/gateway';
import { openAutobahn } from '../support/third-party';

test('SIGHUP: a broken config is rejected with every problem and path; a good one applies live and keeps the sessions', async () => {
  const dir = tempDir('wampgate-hup-');
  const path = join(dir.path, 'config.json');
  const config = (extra: Record<string, unknown> = {}): string =>
    JSON.stringify({
      realms: [{ name: 'realm1' }],
      listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: 0 }],
      status: { enabled: false },
      health: { enabled: false },
      ...extra,
    });
  writeFileSync(path, config());
  const cli = startCli(['start', '--config', path]);
  try {
    await cli.waitFor(/ready/, 'the gateway to be ready');
    const url = /url=(ws:\/\/127\.0\.0\.1:\d+\/ws)/.exec(cli.output())?.[1];
    assert.ok(url, 'the listener URL is in the log');
    const client = await openAutobahn({ url }, 'realm1');

    writeFileSync(path, JSON.stringify({ realms: [{ name: 'realm1', bogus: 1 }], listeners: [{ name: 'ws', type: 'carrier-pigeon' }] }));
    cli.child.kill('SIGHUP');
    await cli.waitFor(/reload rejected: \d+ problem/, 'the reload to be rejected');
    const out = cli.output();
    assert.match(out, /ERROR.*reload rejected: realms\[0\]\.bogus: unknown key/);
    assert.match(out, /ERROR.*reload rejected: listeners\[0\]\.type/);
    await within(client.session.publish('still.here', [], {}, { acknowledge: true }) as Promise<unknown>, 'the session to publish after the rejected reload');

    writeFileSync(path, config({ realms: [{ name: 'realm1' }, { name: 'realm2' }] }));
    cli.child.kill('SIGHUP');
    await cli.waitFor(/config reloaded.*realms=realm2:added/, 'the good config to be applied');
    const second = await openAutobahn({ url }, 'realm2');
    await within(client.session.publish('still.here', [], {}, { acknowledge: true }) as Promise<unknown>, 'the first session to publish after the reload');
    await second.close();
    await client.close();
  } finally {
    await cli.stop();
    dir.remove();
  }
});
