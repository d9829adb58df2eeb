// The one behavioural suite every Outbox implementation must pass (memory and SQLite run it).
// Storage-specific behaviour (reopen, full disk, corruption) lives in the implementation's own test.
// Not a test file by itself: it only defines `outboxSuite`.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  accountedBytes,
  encodePayload,
  type AppendResult,
  type DropPolicy,
  type DropReason,
  type NewEntry,
  type Outbox,
  type OutboxOptions,
} from '../../../src/uplink/outbox';

export type OutboxFactory = (options: OutboxOptions) => Outbox;

/** A clock tests move by hand. */
export function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function e(source: string, n: number, extra: Partial<NewEntry> = {}): NewEntry {
  return { source, topic: `com.example.${source}`, args: [n], ...extra };
}

function stored(r: AppendResult): number {
  assert.ok(r.stored, `expected stored, got ${JSON.stringify(r)}`);
  return r.seq;
}

/** Size of one entry as the outbox accounts it, so byte-limit tests need no magic numbers. */
function sizeOf(entry: NewEntry): number {
  return accountedBytes(encodePayload(entry), entry.topic, entry.source);
}

export function outboxSuite(name: string, create: OutboxFactory, options: { propertyRuns?: number } = {}): void {
  describe(`${name}: Outbox contract`, () => {
    test('peek returns entries oldest first by seq, honours limit and afterSeq', () => {
      const ob = create({});
      const seqs = [1, 2, 3, 4, 5].map((n) => stored(ob.append(e(n % 2 ? 'a' : 'b', n))));
      assert.deepEqual(
        [...seqs].sort((x, y) => x - y),
        seqs,
        'seqs increase',
      );
      assert.deepEqual(
        ob.peek(10).map((x) => x.args),
        [[1], [2], [3], [4], [5]],
      );
      assert.deepEqual(
        ob.peek(2).map((x) => x.seq),
        seqs.slice(0, 2),
      );
      assert.deepEqual(
        ob.peek(10, seqs[2]).map((x) => x.seq),
        seqs.slice(3),
      );
      assert.deepEqual(ob.peek(0), []);
      ob.close();
    });

    test('payload round trip keeps Buffers, nested kwargs, options, and absence of args', () => {
      const ob = create({});
      const buf = Buffer.from([0, 1, 2, 255]);
      stored(
        ob.append({
          source: 's',
          topic: 't.a',
          args: [buf, 'x', 1.5, null, { deep: [1, { b: true }] }],
          kwargs: { k: buf, n: -3 },
          options: { exclude_me: false },
        }),
      );
      stored(ob.append({ source: 's', topic: 't.b', kwargs: { only: 'kw' } }));
      stored(ob.append({ source: 's', topic: 't.c' }));
      const [a, b, c] = ob.peek(10);
      assert.ok(a && b && c);
      assert.ok(Buffer.isBuffer(a.args?.[0]));
      assert.deepEqual(a.args, [buf, 'x', 1.5, null, { deep: [1, { b: true }] }]);
      assert.deepEqual(a.kwargs, { k: buf, n: -3 });
      assert.deepEqual(a.options, { exclude_me: false });
      assert.equal(a.topic, 't.a');
      assert.equal(b.args, undefined);
      assert.deepEqual(b.kwargs, { only: 'kw' });
      assert.ok(!('args' in c) && !('kwargs' in c) && !('options' in c));
      ob.close();
    });

    test('the stored copy is isolated from later mutation by the caller', () => {
      const ob = create({});
      const args: unknown[] = [{ v: 1 }];
      ob.append({ source: 's', topic: 't', args });
      (args[0] as { v: number }).v = 2;
      assert.deepEqual(ob.peek(1)[0]?.args, [{ v: 1 }]);
      ob.close();
    });

    test('ack deletes exactly the acked seqs; unknown seqs are ignored', () => {
      const ob = create({});
      const seqs = [1, 2, 3, 4, 5, 6].map((n) => stored(ob.append(e('a', n))));
      assert.equal(ob.ack([seqs[1]!, seqs[3]!, 999_999]), 2);
      assert.deepEqual(
        ob.peek(10).map((x) => x.args?.[0]),
        [1, 3, 5, 6],
      );
      assert.equal(ob.ack({ upTo: seqs[2]! }), 2); // 1 and 3; 2 already gone
      assert.deepEqual(
        ob.peek(10).map((x) => x.args?.[0]),
        [5, 6],
      );
      assert.equal(ob.ack([seqs[0]!]), 0, 'acking twice is harmless (at-least-once means duplicate acks)');
      const s = ob.stats();
      assert.equal(s.count, 2);
      assert.equal(s.acked, 4);
      assert.equal(s.appended, 6);
      assert.equal(s.oldestSeq, seqs[4]);
      assert.equal(s.bytes, sizeOf(e('a', 5)) + sizeOf(e('a', 6)));
      ob.ack({ upTo: Number.MAX_SAFE_INTEGER });
      assert.equal(ob.stats().count, 0);
      assert.equal(ob.stats().bytes, 0);
      assert.equal(ob.stats().oldestSeq, null);
      assert.equal(ob.stats().oldestAgeMs, null);
      ob.close();
    });

    test('live lane: the newest entries acked first, in any order, leave the older ones whole for replay, eviction and expiry', () => {
      let now = 1_000;
      const ob = create({ maxCount: 8, maxAgeMs: 500, now: () => now });
      const seqs = [1, 2, 3, 4, 5, 6].map((n) => stored(ob.append(e('a', n))));
      // The replay has sent 1 and 2 (cursor 2); live entries 7, 8 arrive and are acked first, out of order.
      now = 1_200;
      const live = [7, 8].map((n) => stored(ob.append(e('live', n))));
      assert.equal(ob.ack([live[1]!]), 1);
      assert.equal(ob.ack([seqs[4]!, live[0]!]), 2, 'an old and a live entry in one ack, newest-first order');
      assert.deepEqual(
        ob.peek(10, seqs[1]).map((x) => x.args?.[0]),
        [3, 4, 6],
        'the replay cursor finds the rest of the backlog, gaps skipped',
      );
      assert.equal(ob.ack({ upTo: seqs[1]! }), 2, 'then the replay acks its head by range');
      const s = ob.stats();
      assert.equal(s.count, 3);
      assert.equal(s.bytes, sizeOf(e('a', 3)) + sizeOf(e('a', 4)) + sizeOf(e('a', 6)));
      assert.equal(s.oldestSeq, seqs[2]);
      // Room was freed out of order: 5 more fit before eviction starts with the oldest.
      for (let n = 9; n <= 14; n++) ob.append(e('a', n));
      assert.deepEqual(ob.stats().drops['max-count'], 1);
      assert.deepEqual(
        ob.peek(1).map((x) => x.args?.[0]),
        [4],
      );
      now = 1_000 + 501;
      assert.equal(ob.expire(), 2, 'expiry walks from the oldest left (4 and 6), not from acked ones');
      assert.deepEqual(
        ob.peek(1).map((x) => x.args?.[0]),
        [9],
      );
      ob.close();
    });

    test('seq keeps increasing after everything was acked', () => {
      const ob = create({});
      const a = stored(ob.append(e('a', 1)));
      ob.ack([a]);
      const b = stored(ob.append(e('a', 2)));
      assert.ok(b > a);
      assert.equal(ob.stats().nextSeq, b + 1);
      ob.close();
    });

    test('count limit, drop-oldest: the oldest entry goes, counted as max-count for its source', () => {
      const ob = create({ maxCount: 3, dropPolicy: 'drop-oldest' });
      for (let n = 1; n <= 5; n++) stored(ob.append(e(n === 1 ? 'first' : 'rest', n)));
      assert.deepEqual(
        ob.peek(10).map((x) => x.args?.[0]),
        [3, 4, 5],
      );
      const s = ob.stats();
      assert.equal(s.drops['max-count'], 2);
      assert.deepEqual(s.dropsBySource, { first: 1, rest: 1 });
      ob.close();
    });

    test('count limit, reject-newest: the new entry is refused and counted', () => {
      const ob = create({ maxCount: 3, dropPolicy: 'reject-newest' });
      for (let n = 1; n <= 3; n++) stored(ob.append(e('a', n)));
      assert.deepEqual(ob.append(e('b', 4)), { stored: false, dropped: 'max-count' });
      assert.deepEqual(
        ob.peek(10).map((x) => x.args?.[0]),
        [1, 2, 3],
      );
      assert.equal(ob.stats().drops['max-count'], 1);
      assert.deepEqual(ob.stats().dropsBySource, { b: 1 });
      ob.close();
    });

    test('the policy can be chosen per entry (per rule)', () => {
      const ob = create({ maxCount: 2, dropPolicy: 'reject-newest' });
      stored(ob.append(e('a', 1)));
      stored(ob.append(e('a', 2)));
      assert.equal(ob.append(e('a', 3)).stored, false);
      stored(ob.append(e('b', 4, { dropPolicy: 'drop-oldest' })));
      assert.deepEqual(
        ob.peek(10).map((x) => x.args?.[0]),
        [2, 4],
      );
      ob.close();
    });

    test('byte limit with both policies, and an entry bigger than the limit is too-large', () => {
      const one = sizeOf(e('a', 1));
      const drop = create({ maxBytes: one * 3, dropPolicy: 'drop-oldest' });
      for (let n = 1; n <= 4; n++) stored(drop.append(e('a', n)));
      assert.deepEqual(
        drop.peek(10).map((x) => x.args?.[0]),
        [2, 3, 4],
      );
      assert.equal(drop.stats().drops['max-bytes'], 1);
      assert.ok(drop.stats().bytes <= one * 3);
      // A big entry evicts as many small ones as it needs.
      const big: NewEntry = { source: 'a', topic: 'com.example.a', args: ['x'.repeat(one * 2 - 20)] };
      assert.ok(sizeOf(big) <= one * 3 && sizeOf(big) > one * 2);
      stored(drop.append(big));
      assert.equal(drop.stats().count, 1);
      assert.equal(drop.stats().drops['max-bytes'], 4);
      assert.deepEqual(drop.append({ source: 'a', topic: 't', args: ['y'.repeat(one * 4)] }), { stored: false, dropped: 'too-large' });
      assert.equal(drop.stats().count, 1, 'too-large evicts nothing');
      assert.equal(drop.stats().drops['too-large'], 1);
      drop.close();

      const reject = create({ maxBytes: one * 3, dropPolicy: 'reject-newest' });
      for (let n = 1; n <= 3; n++) stored(reject.append(e('a', n)));
      assert.deepEqual(reject.append(e('a', 4)), { stored: false, dropped: 'max-bytes' });
      assert.deepEqual(
        reject.peek(10).map((x) => x.args?.[0]),
        [1, 2, 3],
      );
      reject.close();
    });

    test('priorities: lower priority is dropped first, higher never makes room for lower', () => {
      const ob = create({ maxCount: 4, dropPolicy: 'drop-oldest' });
      stored(ob.append(e('hi', 1, { priority: 2 })));
      stored(ob.append(e('lo', 2, { priority: 0 })));
      stored(ob.append(e('mid', 3, { priority: 1 })));
      stored(ob.append(e('lo', 4, { priority: 0 })));
      // Full. A mid entry evicts the oldest low one, not the older high one.
      stored(ob.append(e('mid', 5, { priority: 1 })));
      assert.deepEqual(
        ob.peek(10).map((x) => x.args?.[0]),
        [1, 3, 4, 5],
      );
      // Even reject-newest may displace strictly lower priority.
      stored(ob.append(e('hi', 6, { priority: 2, dropPolicy: 'reject-newest' })));
      assert.deepEqual(
        ob.peek(10).map((x) => x.args?.[0]),
        [1, 3, 5, 6],
      );
      // A low entry cannot displace anything of higher priority, whatever its policy.
      assert.deepEqual(ob.append(e('lo', 7, { priority: 0 })), { stored: false, dropped: 'max-count' });
      // reject-newest never displaces its own priority.
      assert.deepEqual(ob.append(e('hi', 8, { priority: 2, dropPolicy: 'reject-newest' })).stored, true); // evicts mid 3
      assert.deepEqual(ob.append(e('hi', 9, { priority: 2, dropPolicy: 'reject-newest' })).stored, true); // evicts mid 5
      assert.deepEqual(ob.append(e('hi', 10, { priority: 2, dropPolicy: 'reject-newest' })), { stored: false, dropped: 'max-count' });
      assert.deepEqual(
        ob.peek(10).map((x) => x.args?.[0]),
        [1, 6, 8, 9],
      );
      // drop-oldest at the same priority evicts the oldest of that priority.
      stored(ob.append(e('hi', 11, { priority: 2 })));
      assert.deepEqual(
        ob.peek(10).map((x) => x.args?.[0]),
        [6, 8, 9, 11],
      );
      const s = ob.stats();
      assert.equal(s.drops['max-count'], 7);
      assert.deepEqual(s.dropsBySource, { lo: 3, mid: 2, hi: 2 }, 'rejections count for the rejected source');
      ob.close();
    });

    test('expire drops entries older than maxAgeMs in seq order; stats report the oldest age', () => {
      const clock = manualClock();
      const ob = create({ maxAgeMs: 1000, now: clock.now });
      stored(ob.append(e('a', 1)));
      clock.advance(600);
      stored(ob.append(e('b', 2)));
      clock.advance(300);
      assert.equal(ob.stats().oldestAgeMs, 900);
      assert.equal(ob.expire(), 0);
      clock.advance(200); // ages 1100 and 500
      assert.equal(ob.expire(), 1);
      assert.deepEqual(
        ob.peek(10).map((x) => x.args?.[0]),
        [2],
      );
      assert.equal(ob.stats().drops['max-age'], 1);
      assert.deepEqual(ob.stats().dropsBySource, { a: 1 });
      assert.equal(ob.expire(clock.now() + 10_000), 1, 'an explicit now is honoured');
      assert.equal(ob.stats().count, 0);
      ob.close();
    });

    test('expire stops at the first young entry even if a later one looks old (clock jumped back)', () => {
      const clock = manualClock(10_000);
      const ob = create({ maxAgeMs: 1000, now: clock.now });
      stored(ob.append(e('a', 1)));
      clock.advance(-5000); // the clock was set back
      stored(ob.append(e('a', 2)));
      clock.advance(5500); // now 10_500: entry 1 is 500 ms old, entry 2 is 5500 ms "old"
      assert.equal(ob.expire(), 0, 'never reorders by time');
      assert.equal(ob.stats().count, 2);
      ob.close();
    });

    test('maxAgeMs 0 disables expiry', () => {
      const clock = manualClock();
      const ob = create({ maxAgeMs: 0, now: clock.now });
      stored(ob.append(e('a', 1)));
      clock.advance(1e9);
      assert.equal(ob.expire(), 0);
      ob.close();
    });

    test('appendBatch behaves like the same appends one by one', () => {
      const entries = [1, 2, 3, 4, 5, 6, 7].map((n) => e(n % 3 ? 'a' : 'b', n, { priority: n % 2, dropPolicy: n % 4 ? 'drop-oldest' : 'reject-newest' }));
      const one = create({ maxCount: 4 });
      const batch = create({ maxCount: 4 });
      const r1 = entries.map((x) => one.append(x));
      const r2 = batch.appendBatch(entries);
      assert.deepEqual(
        r2.map((r) => r.stored),
        r1.map((r) => r.stored),
      );
      assert.deepEqual(
        batch.peek(10).map((x) => x.args),
        one.peek(10).map((x) => x.args),
      );
      const { oldestAgeMs: _a, ...s1 } = one.stats();
      const { oldestAgeMs: _b, ...s2 } = batch.stats();
      assert.deepEqual(s2, s1);
      assert.deepEqual(batch.appendBatch([]), []);
      one.close();
      batch.close();
    });

    test('deadLetter moves one entry out of the buffer with its reason; the others stay in order', () => {
      const ob = create({});
      const seqs = [1, 2, 3, 4].map((n) => stored(ob.append(e('a', n, { kwargs: { big: n === 2 } }))));
      const before = ob.stats();
      assert.equal(ob.deadLetter(seqs[1] as number, { reason: 'too-large', error: 'over 64 KiB', attempts: 3 }), true);
      assert.equal(ob.deadLetter(seqs[1] as number, { reason: 'too-large', error: 'again', attempts: 3 }), false, 'not buffered any more');
      assert.equal(ob.deadLetter(999, { reason: 'refused', error: 'x', attempts: 1 }), false, 'unknown seq');
      assert.deepEqual(
        ob.peek(10).map((x) => x.args),
        [[1], [3], [4]],
      );
      const s = ob.stats();
      assert.equal(s.count, 3);
      assert.equal(s.bytes, before.bytes - sizeOf(e('a', 2, { kwargs: { big: true } })));
      assert.deepEqual(s.deadLetters, {
        count: 1,
        bytes: sizeOf(e('a', 2, { kwargs: { big: true } })),
        moved: { 'too-large': 1, 'not-encodable': 0, refused: 0, 'link-closed': 0 },
      });
      const [d] = ob.deadLetters(10);
      assert.equal(d?.seq, seqs[1]);
      assert.deepEqual(d?.args, [2]);
      assert.deepEqual(d?.kwargs, { big: true });
      assert.equal(d?.reason, 'too-large');
      assert.equal(d?.error, 'over 64 KiB');
      assert.equal(d?.attempts, 3);
      assert.equal(d?.topic, 'com.example.a');
      // Acking around the hole works as before.
      assert.equal(ob.ack({ upTo: seqs[3] as number }), 3);
      assert.equal(ob.stats().count, 0);
      assert.equal(ob.deadLetters(10).length, 1, 'an ack range over its seq leaves the dead letter alone');
    });

    test('retryDeadLetters appends them again at the end with new seqs; purge deletes them', () => {
      const ob = create({});
      const seqs = [1, 2, 3, 4, 5].map((n) => stored(ob.append(e('a', n))));
      for (const i of [0, 2, 3]) ob.deadLetter(seqs[i] as number, { reason: 'refused', error: 'wamp.error.not_authorized', attempts: 3 });
      assert.deepEqual(
        ob.deadLetters(10, seqs[0]).map((d) => d.seq),
        [seqs[2], seqs[3]],
        'afterSeq',
      );
      assert.equal(ob.retryDeadLetters([seqs[2] as number, 12345]), 1);
      const tail = ob.peek(10);
      assert.deepEqual(
        tail.map((x) => x.args),
        [[2], [5], [3]],
        'the retried entry goes to the end',
      );
      assert.ok((tail[2]?.seq ?? 0) > (seqs[4] as number), 'with a new seq');
      assert.equal(ob.retryDeadLetters(), 2, 'all the rest');
      assert.deepEqual(
        ob.peek(10).map((x) => x.args),
        [[2], [5], [3], [1], [4]],
      );
      assert.equal(ob.stats().deadLetters.count, 0);
      const again = ob.peek(10).map((x) => x.seq);
      ob.deadLetter(again[0] as number, { reason: 'not-encodable', error: 'x', attempts: 1 });
      ob.deadLetter(again[1] as number, { reason: 'link-closed', error: 'x', attempts: 3 });
      assert.equal(ob.purgeDeadLetters([again[0] as number]), 1);
      assert.equal(ob.purgeDeadLetters(), 1);
      assert.deepEqual(ob.deadLetters(10), []);
      assert.deepEqual(ob.stats().deadLetters, { count: 0, bytes: 0, moved: { 'too-large': 0, 'not-encodable': 1, refused: 3, 'link-closed': 1 } });
    });

    test('maxDeadLetters keeps the newest dead letters and counts the rest as dead-letters-full', () => {
      const ob = create({ maxDeadLetters: 2 });
      const seqs = [1, 2, 3].map((n) => stored(ob.append(e('x', n))));
      for (const seq of seqs) ob.deadLetter(seq, { reason: 'refused', error: 'e', attempts: 1 });
      assert.deepEqual(
        ob.deadLetters(10).map((d) => d.args),
        [[2], [3]],
      );
      const s = ob.stats();
      assert.equal(s.deadLetters.count, 2);
      assert.equal(s.drops['dead-letters-full'], 1);
      assert.equal(s.dropsBySource.x, 1);
    });

    test('property: behaves like a simple reference model over random append/peek/ack/expire', () => {
      fc.assert(
        fc.property(limitsArb, fc.array(opArb, { minLength: 1, maxLength: 40 }), (limits, ops) => {
          const clock = manualClock();
          const ob = create({ ...limits, now: clock.now });
          const model = new ReferenceModel(limits, clock.now);
          try {
            for (const op of ops) {
              switch (op.kind) {
                case 'append':
                  assert.deepEqual(ob.append(op.entry), model.append(op.entry));
                  break;
                case 'batch':
                  assert.deepEqual(
                    ob.appendBatch(op.entries),
                    op.entries.map((x) => model.append(x)),
                  );
                  break;
                case 'peek': {
                  const after = op.after === null ? undefined : model.pickSeq(op.after);
                  assert.deepEqual(view(ob.peek(op.limit, after)), view(model.peek(op.limit, after)));
                  break;
                }
                case 'ack': {
                  const seqs = op.picks.map((p) => model.pickSeq(p) ?? 123_456_789);
                  assert.equal(ob.ack(seqs), model.ack(seqs));
                  break;
                }
                case 'ackUpTo': {
                  const upTo = model.pickSeq(op.pick) ?? 0;
                  assert.equal(ob.ack({ upTo }), model.ackUpTo(upTo));
                  break;
                }
                case 'tick':
                  clock.advance(op.ms);
                  break;
                case 'expire':
                  assert.equal(ob.expire(), model.expire());
                  break;
              }
              const s = ob.stats();
              assert.deepEqual(
                { count: s.count, bytes: s.bytes, oldestSeq: s.oldestSeq, drops: s.drops, bySource: s.dropsBySource, appended: s.appended, acked: s.acked },
                model.stats(),
              );
            }
            assert.deepEqual(view(ob.peek(1000)), view(model.peek(1000)));
          } finally {
            ob.close();
          }
        }),
        { numRuns: options.propertyRuns ?? 200 },
      );
    });
  });
}

// ---- reference model: a plain array, everything recomputed, written without the shared planner ----

interface ModelEntry {
  seq: number;
  entry: NewEntry;
  priority: number;
  bytes: number;
  at: number;
}

class ReferenceModel {
  private entries: ModelEntry[] = [];
  private nextSeq = 1;
  private appended = 0;
  private acked = 0;
  private drops: Record<string, number> = {
    'max-count': 0,
    'max-bytes': 0,
    'max-age': 0,
    'too-large': 0,
    'disk-full': 0,
    'io-error': 0,
    corrupt: 0,
    'dead-letters-full': 0,
  };
  private bySource: Record<string, number> = {};

  constructor(
    private readonly limits: { maxCount: number; maxBytes: number; maxAgeMs: number },
    private readonly now: () => number,
  ) {}

  private drop(reason: DropReason, source: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    this.bySource[source] = (this.bySource[source] ?? 0) + 1;
  }

  append(entry: NewEntry): AppendResult {
    const bytes = sizeOf(entry);
    const priority = entry.priority ?? 0;
    const policy: DropPolicy = entry.dropPolicy ?? 'drop-oldest';
    if (bytes > this.limits.maxBytes) {
      this.drop('too-large', entry.source);
      return { stored: false, dropped: 'too-large' };
    }
    const total = () => this.entries.reduce((s, x) => s + x.bytes, 0);
    const eligible = this.entries
      .filter((x) => x.priority < priority || (policy === 'drop-oldest' && x.priority === priority))
      .sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    const victims: ModelEntry[] = [];
    const over = () => ({
      c: this.entries.length - victims.length + 1 - this.limits.maxCount,
      b: total() - victims.reduce((s, x) => s + x.bytes, 0) + bytes - this.limits.maxBytes,
    });
    const reasons: DropReason[] = [];
    for (const v of eligible) {
      const o = over();
      if (o.c <= 0 && o.b <= 0) break;
      reasons.push(o.c > 0 ? 'max-count' : 'max-bytes');
      victims.push(v);
    }
    const o = over();
    if (o.c > 0 || o.b > 0) {
      const reason: DropReason = o.c > 0 ? 'max-count' : 'max-bytes';
      this.drop(reason, entry.source);
      return { stored: false, dropped: reason };
    }
    victims.forEach((v, i) => this.drop(reasons[i]!, v.entry.source));
    this.entries = this.entries.filter((x) => !victims.includes(x));
    const seq = this.nextSeq++;
    this.entries.push({ seq, entry, priority, bytes, at: this.now() });
    this.appended++;
    return { stored: true, seq };
  }

  /** Maps a random number onto a seq that exists (or sometimes one that does not). */
  pickSeq(pick: number): number | undefined {
    if (this.entries.length === 0) return undefined;
    if (pick % 7 === 6) return this.nextSeq + 5; // not yet assigned
    return this.entries[pick % this.entries.length]?.seq;
  }

  peek(limit: number, after = 0): { seq: number; entry: NewEntry; priority: number; bytes: number; at: number }[] {
    return this.entries.filter((x) => x.seq > after).slice(0, Math.max(0, limit));
  }

  ack(seqs: number[]): number {
    const set = new Set(seqs);
    const before = this.entries.length;
    this.entries = this.entries.filter((x) => !set.has(x.seq));
    this.acked += before - this.entries.length;
    return before - this.entries.length;
  }

  ackUpTo(upTo: number): number {
    const before = this.entries.length;
    this.entries = this.entries.filter((x) => x.seq > upTo);
    this.acked += before - this.entries.length;
    return before - this.entries.length;
  }

  expire(): number {
    if (this.limits.maxAgeMs <= 0) return 0;
    const cutoff = this.now() - this.limits.maxAgeMs;
    let n = 0;
    while (this.entries[0] && this.entries[0].at < cutoff) {
      this.drop('max-age', this.entries[0].entry.source);
      this.entries.shift();
      n++;
    }
    return n;
  }

  stats() {
    return {
      count: this.entries.length,
      bytes: this.entries.reduce((s, x) => s + x.bytes, 0),
      oldestSeq: this.entries[0]?.seq ?? null,
      drops: this.drops,
      bySource: this.bySource,
      appended: this.appended,
      acked: this.acked,
    };
  }
}

function view(
  list: {
    seq: number;
    priority: number;
    bytes: number;
    source?: string;
    topic?: string;
    args?: unknown[];
    kwargs?: unknown;
    entry?: NewEntry;
    enqueuedAt?: number;
    at?: number;
  }[],
) {
  return list.map((x) => {
    const src = x.entry ?? x;
    return {
      seq: x.seq,
      priority: x.priority,
      bytes: x.bytes,
      source: src.source,
      topic: src.topic,
      args: src.args,
      kwargs: src.kwargs,
      at: x.enqueuedAt ?? x.at,
    };
  });
}

const entryArb: fc.Arbitrary<NewEntry> = fc
  .record({
    source: fc.constantFrom('r1', 'r2', 'r3'),
    priority: fc.integer({ min: 0, max: 2 }),
    dropPolicy: fc.constantFrom<DropPolicy>('drop-oldest', 'reject-newest'),
    args: fc.array(
      fc.oneof(
        fc.integer(),
        fc.string({ maxLength: 30 }),
        fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u)),
      ),
      { maxLength: 3 },
    ),
    kw: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.integer(), { maxKeys: 2 }), { nil: undefined }),
  })
  .map(({ source, priority, dropPolicy, args, kw }) => {
    const entry: NewEntry = { source, topic: `t.${source}`, priority, dropPolicy, args };
    if (kw !== undefined) entry.kwargs = { ...kw }; // fc dictionaries have a null prototype; decoded ones do not
    return entry;
  });

type Op =
  | { kind: 'append'; entry: NewEntry }
  | { kind: 'batch'; entries: NewEntry[] }
  | { kind: 'peek'; limit: number; after: number | null }
  | { kind: 'ack'; picks: number[] }
  | { kind: 'ackUpTo'; pick: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'expire' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: entryArb.map((entry): Op => ({ kind: 'append', entry })) },
  { weight: 2, arbitrary: fc.array(entryArb, { minLength: 1, maxLength: 4 }).map((entries): Op => ({ kind: 'batch', entries })) },
  {
    weight: 2,
    arbitrary: fc.record({ limit: fc.integer({ min: 0, max: 6 }), after: fc.option(fc.nat(), { nil: null }) }).map((r): Op => ({ kind: 'peek', ...r })),
  },
  { weight: 2, arbitrary: fc.array(fc.nat(), { maxLength: 3 }).map((picks): Op => ({ kind: 'ack', picks })) },
  { weight: 1, arbitrary: fc.nat().map((pick): Op => ({ kind: 'ackUpTo', pick })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }).map((ms): Op => ({ kind: 'tick', ms })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'expire' }) },
);

const limitsArb = fc.record({
  maxCount: fc.integer({ min: 1, max: 8 }),
  maxBytes: fc.integer({ min: 30, max: 400 }),
  maxAgeMs: fc.constantFrom(0, 50),
});
