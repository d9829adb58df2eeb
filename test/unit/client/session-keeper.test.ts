// The session a bridge keeps in its realm: set up on every join, rejoined after it is killed,
// never rejoined after stop(), and no session left behind when the first setup fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionKeeper } from '../../../src/client/session-keeper';
import { WampError } from '../../../src/client/wamp-error';
import { connectClient, startRouter } from '../../helpers/local-router';
import { quietLogger } from '../../../src/util/logger';
import { localSessions } from '../../../src/gateway-part';

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('a kept session killed through the meta API rejoins and runs its setup again; after stop() it stays gone', async () => {
  const { router } = await startRouter();
  let setups = 0;
  const keeper = new SessionKeeper({
    name: 'bridge',
    realm: 'realm1',
    identity: { authid: 'bridge-1', authrole: 'bridge' },
    router: localSessions(router),
    setup: async (wamp) => {
      setups++;
      await wamp.register('bridge.ping', () => 'pong');
    },
    logger: quietLogger,
    initialDelayMs: 10,
  });
  const app = await connectClient(router);
  try {
    await keeper.start();
    assert.equal(keeper.state, 'joined');
    assert.deepEqual((await app.call('bridge.ping')).args, ['pong']);
    const first = keeper.session!.sessionId;

    await app.call('wamp.session.kill', [first]);
    await until(() => keeper.state === 'joined' && keeper.session!.sessionId !== first, 'the rejoin');
    assert.equal(setups, 2);
    assert.deepEqual((await app.call('bridge.ping')).args, ['pong']);

    await keeper.stop();
    assert.equal(keeper.state, 'closed');
    assert.equal(keeper.session, undefined);
    await assert.rejects(app.call('bridge.ping'), (err: unknown) => err instanceof WampError && err.error === 'wamp.error.no_such_procedure');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(setups, 2, 'no rejoin after stop()');
  } finally {
    await keeper.stop();
    await app.close();
    await router.close();
  }
});

test('a failing first setup rejects start() and leaves no session in the realm', async () => {
  const { router } = await startRouter();
  const keeper = new SessionKeeper({
    name: 'bridge',
    realm: 'realm1',
    identity: { authid: 'bridge-2', authrole: 'bridge' },
    router: localSessions(router),
    setup: (wamp) => wamp.register('wamp.not_allowed', () => 1).then(() => undefined),
    logger: quietLogger,
  });
  try {
    await assert.rejects(keeper.start(), (err: unknown) => err instanceof WampError && err.error === 'wamp.error.invalid_uri');
    assert.equal(keeper.state, 'closed');
    await until(() => ![...router.sessions.values()].some((s) => s.authid === 'bridge-2'), 'the failed session to leave');
  } finally {
    await keeper.stop();
    await router.close();
  }
});
