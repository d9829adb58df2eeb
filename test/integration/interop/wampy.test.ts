// Interop with wampy 8 (npm) over WebSocket with each of its serializers, and across libraries:
// wampy ⇄ AutobahnJS pub/sub and RPC both ways, plus the advanced features wampy exposes
// (progressive results as a caller, cancel, pattern subscriptions and registrations, publisher
// exclusion and black/white lists, disclose_me, call timeout, retained events).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WampError } from '../../../src/client/wamp-error';
import { deferred, Inbox, startTestGateway, within, type TestGateway } from '../support/gateway';
import {
  autobahn,
  openAutobahn,
  openWampy,
  type AbClient,
  type AbSerializerName,
  type WampyCallError,
  type WampyClient,
  type WampyEvent,
  idOf,
} from '../support/third-party';

let tg: TestGateway;
before(async () => {
  tg = await startTestGateway();
});
after(async () => {
  await tg.stop();
});

let counter = 0;
const unique = (base: string): string => `${base}.n${++counter}`;

async function withWampy(serializer: AbSerializerName, n: number, body: (clients: WampyClient[]) => Promise<void>): Promise<void> {
  const clients: WampyClient[] = [];
  try {
    for (let i = 0; i < n; i++) clients.push(await openWampy(tg.wsUrl, serializer));
    await body(clients);
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}

function asWampyError(err: unknown): WampyCallError {
  assert.ok(err && typeof err === 'object' && 'errorUri' in err, `expected a wampy error, got ${String(err)}`);
  return err as WampyCallError;
}

const asBuffer = (v: unknown): Buffer => {
  assert.ok(v instanceof Uint8Array, `expected bytes, got ${typeof v}`);
  return Buffer.from(v);
};

for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
  describe(`wampy over websocket/${serializer}`, () => {
    test('joins; pub/sub with args and kwargs; the publisher is excluded from its own event', async () => {
      await withWampy(serializer, 2, async ([a, b]) => {
        const A = a as WampyClient;
        const B = b as WampyClient;
        assert.equal(A.welcome.realm, 'realm1');
        const topic = unique('com.wampy.pubsub');
        const atA = new Inbox<WampyEvent>();
        const atB = new Inbox<WampyEvent>();
        await A.wampy.subscribe(topic, atA.push);
        await B.wampy.subscribe(topic, atB.push);
        const published = await A.wampy.publish(topic, { argsList: [1, 'two'], argsDict: { three: 3 } });
        assert.ok(idOf(published.publicationId) > 0, 'wampy always asks for acknowledgement');
        const ev = await atB.next('the event at B');
        assert.deepEqual(ev.argsList, [1, 'two']);
        assert.deepEqual(ev.argsDict, { three: 3 });
        // B publishes too: A gets B's event first, proving A never got its own.
        await B.wampy.publish(topic, ['from B']);
        assert.deepEqual((await atA.next('B’s event at A')).argsList, ['from B']);
        assert.equal(atB.pending, 0);
      });
    });

    test('RPC: call, kwargs, disclose_me, and a custom error URI with args', async () => {
      await withWampy(serializer, 2, async ([callee, caller]) => {
        const E = callee as WampyClient;
        const R = caller as WampyClient;
        const proc = unique('com.wampy.rpc');
        const seen = new Inbox<Record<string, unknown>>();
        await E.wampy.register(proc, ({ argsList, argsDict, details }) => {
          seen.push(details);
          if (argsDict?.fail) throw { error: 'com.example.error.refused', argsList: ['no', 7], argsDict: { why: 'asked to' } };
          return { argsList: [...(argsList ?? [])].reverse(), argsDict: { n: argsList?.length ?? 0 } };
        });
        const r = await R.wampy.call(proc, { argsList: [1, 2, 3], argsDict: {} });
        assert.deepEqual(r.argsList, [3, 2, 1]);
        assert.deepEqual(r.argsDict, { n: 3 });
        assert.equal((await seen.next('invocation')).caller, undefined);
        await R.wampy.call(proc, [0], { disclose_me: true });
        assert.equal(idOf((await seen.next('disclosed invocation')).caller), idOf(R.wampy.getSessionId()));
        await assert.rejects(R.wampy.call(proc, { argsList: [], argsDict: { fail: true } }), (err: unknown) => {
          const e = asWampyError(err);
          assert.equal(e.errorUri, 'com.example.error.refused');
          assert.deepEqual(e.argsList, ['no', 7]);
          assert.deepEqual(e.argsDict, { why: 'asked to' });
          return true;
        });
      });
    });

    if (serializer !== 'json') {
      test('binary payloads arrive as bytes (wampy ⇄ our client)', async () => {
        await withWampy(serializer, 1, async ([w]) => {
          const W = w as WampyClient;
          const own = await tg.client('rawsocket-tcp', 'cbor');
          try {
            const bytes = Buffer.from([0, 255, 1, 254]);
            const topic = unique('com.wampy.bytes');
            const got = new Inbox<WampyEvent>();
            await W.wampy.subscribe(topic, got.push);
            await own.publish(topic, [bytes], { blob: bytes }, { acknowledge: true });
            const ev = await got.next('the binary event');
            assert.deepEqual(asBuffer(ev.argsList?.[0]), bytes);
            assert.deepEqual(asBuffer(ev.argsDict?.blob), bytes);
            await own.register(`${topic}.len`, (args) => Buffer.isBuffer(args[0]) && (args[0] as Buffer).length);
            assert.deepEqual((await W.wampy.call(`${topic}.len`, [bytes])).argsList, [4]);
          } finally {
            await own.close();
          }
        });
      });
    }
  });
}

describe('wampy ⇄ AutobahnJS', () => {
  for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
    test(`wampy (${serializer}) publishes → AutobahnJS (${serializer === 'json' ? 'cbor' : 'json'}) receives`, async () => {
      const ab = await openAutobahn({ url: tg.wsUrl, serializer: serializer === 'json' ? 'cbor' : 'json' });
      try {
        await withWampy(serializer, 1, async ([w]) => {
          const topic = unique('com.x.wampy2ab');
          const got = new Inbox<{ args: unknown[]; kwargs: Record<string, unknown>; publisher: unknown }>();
          await ab.session.subscribe(topic, (args, kwargs, details) => got.push({ args, kwargs, publisher: details.publisher }));
          await (w as WampyClient).wampy.publish(topic, { argsList: ['hello', 1.5], argsDict: { from: 'wampy' } }, { disclose_me: true });
          assert.deepEqual(await got.next('the event at AutobahnJS'), {
            args: ['hello', 1.5],
            kwargs: { from: 'wampy' },
            publisher: idOf((w as WampyClient).wampy.getSessionId()),
          });
        });
      } finally {
        await ab.close();
      }
    });

    test(`AutobahnJS registers → wampy (${serializer}) calls, and wampy registers → AutobahnJS calls`, async () => {
      const ab = await openAutobahn({ url: tg.wsUrl, serializer: 'msgpack' });
      try {
        await withWampy(serializer, 1, async ([w]) => {
          const W = w as WampyClient;
          const proc = unique('com.x.rpc');
          await ab.session.register(`${proc}.ab`, (args, kwargs) => new autobahn.Result([(args[0] as number) * 2], { seen: kwargs.tag }));
          const r = await W.wampy.call(`${proc}.ab`, { argsList: [21], argsDict: { tag: 'w' } });
          assert.deepEqual(r.argsList, [42]);
          assert.deepEqual(r.argsDict, { seen: 'w' });

          await W.wampy.register(`${proc}.wampy`, ({ argsList }) => ({ argsList: [`hi ${String(argsList?.[0])}`] }));
          assert.equal(await ab.session.call(`${proc}.wampy`, ['ab']), 'hi ab');

          // an AutobahnJS callee's error reaches wampy unchanged, and the reverse
          await ab.session.register(`${proc}.abfail`, () => {
            throw new autobahn.Error('com.example.error.ab', [1], { k: 'v' });
          });
          await assert.rejects(W.wampy.call(`${proc}.abfail`), (err: unknown) => {
            const e = asWampyError(err);
            return e.errorUri === 'com.example.error.ab' && JSON.stringify(e.argsList) === '[1]' && JSON.stringify(e.argsDict) === '{"k":"v"}';
          });
          await W.wampy.register(`${proc}.wfail`, () => {
            throw { error: 'com.example.error.wampy', argsList: ['x'] };
          });
          await assert.rejects(ab.session.call(`${proc}.wfail`), (err: unknown) => {
            const e = err as { error: string; args: unknown[] };
            return e.error === 'com.example.error.wampy' && JSON.stringify(e.args) === '["x"]';
          });
        });
      } finally {
        await ab.close();
      }
    });
  }
});

describe('wampy advanced features', () => {
  test('progressive results: wampy as caller gets each progress then the result from an AutobahnJS callee', async () => {
    const ab = await openAutobahn({ url: tg.wsUrl, serializer: 'json' });
    try {
      await withWampy('msgpack', 1, async ([w]) => {
        const proc = unique('com.wampy.progress');
        await ab.session.register(proc, (args, _kw, details) => {
          for (let i = 1; i <= (args[0] as number); i++) details.progress?.([i]);
          return 'done';
        });
        const progress: unknown[] = [];
        const result = await (w as WampyClient).wampy.call(proc, [3], { progress_callback: (e: WampyEvent) => progress.push(e.argsList?.[0]) });
        assert.deepEqual(progress, [1, 2, 3]);
        assert.deepEqual(result.argsList, ['done']);
      });
    } finally {
      await ab.close();
    }
  });

  test('progressive results: a wampy callee is never asked for progress (it does not announce callee progressive_call_results)', async () => {
    await withWampy('json', 2, async ([callee, caller]) => {
      const proc = unique('com.wampy.noprogress');
      const details = deferred<Record<string, unknown>>();
      await (callee as WampyClient).wampy.register(proc, (inv) => {
        details.resolve(inv.details);
        return { argsList: ['final'] };
      });
      const progress: unknown[] = [];
      const r = await (caller as WampyClient).wampy.call(proc, [], { progress_callback: (e: WampyEvent) => progress.push(e) });
      assert.equal((await details.promise).receive_progress, undefined);
      assert.deepEqual(r.argsList, ['final']);
      assert.deepEqual(progress, []);
    });
  });

  for (const mode of ['kill', 'killnowait', 'skip'] as const) {
    test(`cancel mode '${mode}': wampy's call is rejected with wamp.error.canceled and the session goes on`, async () => {
      const callee = await tg.client('websocket', 'cbor');
      const interrupted = new Inbox<string>();
      const proc = unique(`com.wampy.cancel.${mode}`);
      await callee.register(proc, (_a, _k, details) => {
        return new Promise((_resolve, reject) => {
          details.signal.addEventListener('abort', () => {
            interrupted.push('interrupt');
            reject(new WampError('wamp.error.canceled', ['stopped by callee']));
          });
        });
      });
      await callee.register(`${proc}.ping`, () => 'pong');
      try {
        await withWampy('json', 1, async ([w]) => {
          const W = w as WampyClient;
          const call = W.wampy.call(proc);
          const reqId = W.wampy.getOpStatus().reqId;
          assert.deepEqual((await W.wampy.call(`${proc}.ping`)).argsList, ['pong']); // the INVOCATION is at the callee
          assert.equal(W.wampy.cancel(reqId, { mode }), true);
          await assert.rejects(call, (err: unknown) => asWampyError(err).errorUri === 'wamp.error.canceled');
          if (mode !== 'skip') assert.equal(await interrupted.next('INTERRUPT at the callee'), 'interrupt');
          assert.deepEqual((await W.wampy.call(`${proc}.ping`)).argsList, ['pong']);
          if (mode === 'skip') assert.equal(interrupted.pending, 0, 'no INTERRUPT for skip');
        });
      } finally {
        await callee.close();
      }
    });
  }

  test('call timeout: wampy gets wamp.error.timeout from the dealer', async () => {
    await withWampy('json', 2, async ([callee, caller]) => {
      const proc = unique('com.wampy.timeout');
      const gate = deferred<{ argsList: unknown[] }>();
      await (callee as WampyClient).wampy.register(proc, () => gate.promise);
      await assert.rejects(
        (caller as WampyClient).wampy.call(proc, [], { timeout: 50 }),
        (err: unknown) => asWampyError(err).errorUri === 'wamp.error.timeout',
      );
      gate.resolve({ argsList: ['late'] });
      // the wampy callee has no call_canceling, so it gets no INTERRUPT (which wampy cannot parse)
      // and its late YIELD is dropped; both sessions go on
      await (callee as WampyClient).wampy.register(`${proc}.ok`, () => ({ argsList: ['ok'] }));
      assert.deepEqual((await (caller as WampyClient).wampy.call(`${proc}.ok`)).argsList, ['ok']);
    });
  });

  test('pattern subscriptions (prefix, wildcard) and pattern registrations from wampy', async () => {
    await withWampy('cbor', 2, async ([a, b]) => {
      const A = a as WampyClient;
      const B = b as WampyClient;
      // wampy's URI check rejects a trailing dot, so the prefix is a plain string prefix
      const base = unique('com.wampy.pat');
      const got = new Inbox<{ kind: string; topic: unknown }>();
      await B.wampy.subscribe(base, (e) => got.push({ kind: 'prefix', topic: e.details.topic }), { match: 'prefix' });
      await B.wampy.subscribe(`${base}..temp`, (e) => got.push({ kind: 'wildcard', topic: e.details.topic }), { match: 'wildcard' });
      await A.wampy.publish(`${base}.hall.temp`, [20]);
      const two = [await got.next('first'), await got.next('second')].sort((x, y) => x.kind.localeCompare(y.kind));
      assert.deepEqual(two, [
        { kind: 'prefix', topic: `${base}.hall.temp` },
        { kind: 'wildcard', topic: `${base}.hall.temp` },
      ]);
      await B.wampy.register(`${base}..get`, ({ details }) => ({ argsList: [details.procedure] }), { match: 'wildcard' });
      assert.deepEqual((await A.wampy.call(`${base}.lamp.get`)).argsList, [`${base}.lamp.get`]);
    });
  });

  test('publisher exclusion lists and disclose_me from wampy', async () => {
    const subs: AbClient[] = [];
    try {
      for (let i = 0; i < 2; i++) subs.push(await openAutobahn({ url: tg.wsUrl, serializer: 'json' }));
      await withWampy('msgpack', 1, async ([w]) => {
        const W = w as WampyClient;
        const topic = unique('com.wampy.lists');
        const inboxes = subs.map(() => new Inbox<{ args: unknown[]; publisher: unknown }>());
        for (const [i, s] of subs.entries())
          await s.session.subscribe(topic, (args, _kw, d) =>
            (inboxes[i] as Inbox<{ args: unknown[]; publisher: unknown }>).push({ args, publisher: d.publisher }),
          );
        const [s0, s1] = subs as [AbClient, AbClient];
        const [i0, i1] = inboxes as [Inbox<{ args: unknown[]; publisher: unknown }>, Inbox<{ args: unknown[]; publisher: unknown }>];
        // wampy turns a single id into a list
        await W.wampy.publish(topic, ['not for s0'], { exclude: s0.session.id });
        await W.wampy.publish(topic, ['only s0'], { eligible: [s0.session.id] });
        await W.wampy.publish(topic, ['all', 'disclosed'], { disclose_me: true });
        assert.deepEqual(await i0.next('s0 first'), { args: ['only s0'], publisher: undefined });
        assert.deepEqual(await i0.next('s0 second'), { args: ['all', 'disclosed'], publisher: idOf(W.wampy.getSessionId()) });
        assert.deepEqual(await i1.next('s1 first'), { args: ['not for s0'], publisher: undefined });
        assert.deepEqual(await i1.next('s1 second'), { args: ['all', 'disclosed'], publisher: idOf(W.wampy.getSessionId()) });
        void s1;
      });
    } finally {
      await Promise.allSettled(subs.map((s) => s.close()));
    }
  });

  test('retained events: wampy subscribes with get_retained after the publication', async () => {
    // wampy 8 validates a `retain` publish option but never puts it on the wire, so the
    // retained event comes from another client; wampy does send get_retained.
    const own = await tg.client('websocket', 'msgpack');
    try {
      await withWampy('json', 1, async ([b]) => {
        const topic = unique('com.wampy.retained');
        await own.publish(topic, ['kept'], { unit: 'C' }, { retain: true, acknowledge: true });
        const got = deferred<WampyEvent>();
        await (b as WampyClient).wampy.subscribe(topic, (e) => got.resolve(e), { get_retained: true });
        const ev = await within(got.promise, 'the retained event');
        assert.deepEqual(ev.argsList, ['kept']);
        assert.deepEqual(ev.argsDict, { unit: 'C' });
        assert.equal(ev.details.retained, true);
      });
    } finally {
      await own.close();
    }
  });
});
