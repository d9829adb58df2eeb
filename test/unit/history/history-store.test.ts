// The event history's SQLite store on a real file: count, byte and age limits evict the oldest
// and count it; the mirror (rows, bytes) matches the file after a reopen; a changed or removed
// rule takes effect at open; a corrupt file is moved aside; files of schema 1 and 2 are converted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { HistoryRule } from '../../../src/history/history-config';
import { decodeBlockV2 } from '../../../src/history/block-v2';
import { decodeBlock, encodeBlock } from '../../../src/history/event-block';
import { SCHEMA_VERSION } from '../../../src/history/history-schema';
import { HistoryStore, ROW_OVERHEAD_BYTES, type NewHistoryEvent } from '../../../src/history/history-store';
import { quietLogger } from '../../../src/util/logger';
import { tempDir } from '../../integration/support/gateway';

const rule = (over: Partial<HistoryRule> = {}): HistoryRule => ({ uri: 't.', match: 'prefix', maxEvents: 1000, maxAgeMs: null, ...over });

let n = 0;
function event(topic: string, r: HistoryRule, payloadBytes = 10, timeUs = Date.now() * 1000): NewHistoryEvent {
  n++;
  return {
    realm: 'realm1',
    topic,
    rule: r,
    timeUs,
    publication: n,
    session: 1,
    authid: null,
    authrole: null,
    serializer: 'json',
    count: 1,
    payload: Buffer.from(`[${'1'.repeat(Math.max(1, payloadBytes - 2))}]`),
    extra: null,
  };
}

function open(path: string, r: HistoryRule | undefined, maxBytes = 1 << 30, now?: () => number): HistoryStore {
  return new HistoryStore({ path, maxBytes, ruleFor: () => r, logger: quietLogger, ...(now ? { now } : {}) });
}

/** Every event in the file, in seq order, read from the blocks directly (not through the store). */
function fileRows(path: string): Array<{ publication: number; topic: string }> {
  const db = new Database(path, { readonly: true });
  try {
    const blocks = db.prepare('SELECT topic, data FROM blocks JOIN topics ON topics.id = blocks.topic_id').all() as Array<{ topic: string; data: Buffer }>;
    return blocks
      .flatMap((b) => decodeBlock(b.data).map((e) => ({ seq: e.seq, publication: e.publication, topic: b.topic })))
      .sort((x, y) => x.seq - y.seq)
      .map(({ publication, topic }) => ({ publication, topic }));
  } finally {
    db.close();
  }
}

test('the per-topic count keeps the newest maxEvents of each topic, in order, and counts evictions', () => {
  const dir = tempDir('wampgate-hs-');
  try {
    const path = join(dir.path, 'h.sqlite');
    const r = rule({ maxEvents: 3 });
    const store = open(path, r);
    const a = [1, 2, 3, 4, 5].map(() => event('t.a', r));
    const b = [1, 2].map(() => event('t.b', r));
    store.append([...a.slice(0, 2), ...b, ...a.slice(2)]);
    assert.equal(store.rowCount, 5);
    assert.equal(store.evicted.count, 2);
    store.close();
    assert.deepEqual(
      fileRows(path).map((x) => x.publication),
      [b[0], b[1], a[2], a[3], a[4]].map((e) => e?.publication),
    );
  } finally {
    dir.remove();
  }
});

test('the byte cap removes the oldest events of any topic first, and the mirror survives a reopen', () => {
  const dir = tempDir('wampgate-hs-');
  try {
    const path = join(dir.path, 'h.sqlite');
    const r = rule();
    const rowBytes = 100 + ROW_OVERHEAD_BYTES;
    const store = open(path, r, rowBytes * 10);
    for (let i = 0; i < 25; i++) store.append([event(i % 2 ? 't.a' : 't.b', r, 100)]);
    assert.ok(store.byteCount <= rowBytes * 10, `bytes ${store.byteCount} within the cap`);
    assert.equal(store.rowCount, 10);
    assert.equal(store.evicted.bytes, 15);
    const rows = store.rowCount;
    const bytes = store.byteCount;
    store.close();
    const pubs = fileRows(path).map((x) => x.publication);
    assert.deepEqual(
      pubs,
      [...pubs].sort((x, y) => x - y),
    );
    assert.equal(pubs.length, 10);
    const again = open(path, r, rowBytes * 10);
    assert.equal(again.rowCount, rows);
    assert.equal(again.byteCount, bytes);
    again.close();
  } finally {
    dir.remove();
  }
});

test('events past their rule age are never read and are removed by expire', () => {
  const dir = tempDir('wampgate-hs-');
  try {
    let now = 1_000_000_000_000;
    const r = rule({ maxAgeMs: 60_000 });
    const store = open(join(dir.path, 'h.sqlite'), r, 1 << 30, () => now);
    store.append([event('t.a', r, 10, now * 1000)]);
    now += 30_000;
    store.append([event('t.a', r, 10, now * 1000)]);
    const id = store.topicId('realm1', 't.a') as number;
    assert.equal(store.newest([id], 10).length, 2);
    now += 40_000; // the first is 70 s old now
    assert.equal(store.newest([id], 10).length, 1, 'an expired event is not read even before the sweep');
    assert.equal(store.expire(), 1);
    assert.equal(store.rowCount, 1);
    assert.equal(store.evicted.age, 1);
    store.close();
  } finally {
    dir.remove();
  }
});

test('at open, rules as configured now apply: a removed rule drops its topics, a lower count trims', () => {
  const dir = tempDir('wampgate-hs-');
  try {
    const path = join(dir.path, 'h.sqlite');
    const r = rule({ maxEvents: 10 });
    const store = open(path, r);
    store.append([1, 2, 3, 4, 5].map(() => event('t.a', r)));
    store.close();
    const trimmed = open(path, rule({ maxEvents: 2 }));
    assert.equal(trimmed.rowCount, 2);
    assert.equal(trimmed.evicted.count, 3);
    trimmed.close();
    const gone = open(path, undefined);
    assert.equal(gone.rowCount, 0);
    assert.equal(gone.evicted.unconfigured, 2);
    assert.equal(gone.topicCount, 0);
    gone.close();
  } finally {
    dir.remove();
  }
});

test('a corrupt file is moved aside and an empty history starts', () => {
  const dir = tempDir('wampgate-hs-');
  try {
    const path = join(dir.path, 'h.sqlite');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const store = open(path, rule());
    assert.equal(store.rowCount, 0);
    store.append([event('t.a', rule())]);
    assert.equal(store.rowCount, 1);
    store.close();
    assert.ok(existsSync(path));
    assert.equal(readdirSync(dir.path).filter((f) => f.startsWith('h.sqlite.corrupt-')).length, 1);
  } finally {
    dir.remove();
  }
});

// Schema 1 (one row per event), as wampgate wrote it before blocks: a user's existing file.
const SCHEMA_1 = `
CREATE TABLE topics (id INTEGER PRIMARY KEY, realm TEXT NOT NULL, topic TEXT NOT NULL, max_age_ms INTEGER, UNIQUE (realm, topic));
CREATE TABLE events (seq INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, time_us INTEGER NOT NULL, expires_us INTEGER,
  publication INTEGER NOT NULL, session INTEGER, authid TEXT, authrole TEXT, serializer TEXT NOT NULL, count INTEGER NOT NULL,
  payload BLOB NOT NULL, extra TEXT, bytes INTEGER NOT NULL);
CREATE INDEX events_by_topic ON events (topic_id);
CREATE INDEX events_by_expiry ON events (expires_us) WHERE expires_us IS NOT NULL;`;

test('a schema 1 file (one row per event) is converted at open: same events, order, bytes; expired ones go', () => {
  const dir = tempDir('wampgate-hs-');
  try {
    const path = join(dir.path, 'h.sqlite');
    const nowMs = Date.now();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(SCHEMA_1);
    old.prepare('INSERT INTO topics (id, realm, topic, max_age_ms) VALUES (1, ?, ?, NULL), (2, ?, ?, 60000)').run('realm1', 't.a', 'realm1', 't.b');
    const insert = old.prepare(
      'INSERT INTO events (seq, topic_id, time_us, expires_us, publication, session, authid, authrole, serializer, count, payload, extra, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const rows: Array<{ seq: number; topic: number; timeUs: number; authid: string | null; payload: Buffer; extra: string | null }> = [];
    // Seqs with gaps (evictions happened), 2500 events over two topics: several blocks each.
    for (let i = 1; i <= 2500; i++) {
      const topic = i % 3 === 0 ? 2 : 1;
      // The first t.b events are two minutes old: past t.b's one-minute age.
      const timeUs = (topic === 2 && i < 100 ? nowMs - 120_000 : nowMs) * 1000;
      const r = { seq: i * 2, topic, timeUs, authid: i % 2 ? 'dev-ü' : null, payload: Buffer.from(`["v",${i}]`), extra: i === 7 ? '{"ppt_scheme":"x"}' : null };
      rows.push(r);
      const bytes = r.payload.length + (r.authid?.length ?? 0) + 4 + (r.extra?.length ?? 0) + ROW_OVERHEAD_BYTES;
      insert.run(r.seq, topic, timeUs, topic === 2 ? timeUs + 60_000_000 : null, 1000 + i, 5, r.authid, 'role', 'json', 1, r.payload, r.extra, bytes);
    }
    old.pragma('user_version = 1');
    old.close();

    // The same rules as the file was written under: t.b keeps one minute.
    const rules: Record<string, HistoryRule> = { 't.a': rule({ maxEvents: 10_000 }), 't.b': rule({ maxEvents: 10_000, maxAgeMs: 60_000 }) };
    const store = new HistoryStore({ path, maxBytes: 1 << 30, ruleFor: (_realm, topic) => rules[topic], logger: quietLogger });
    const kept = rows.filter((r) => !(r.topic === 2 && r.timeUs < nowMs * 1000));
    assert.equal(kept.length, rows.length - 33);
    assert.equal(store.rowCount, kept.length);
    assert.equal(store.evicted.age, 33, 'events past their age at conversion are expired at open');
    const a = store.topicId('realm1', 't.a') as number;
    const b = store.topicId('realm1', 't.b') as number;
    const all = store.newest([a, b], 10_000);
    assert.deepEqual(
      all.map((e) => e.seq),
      kept.map((r) => r.seq).reverse(),
      'same events, newest first, in their old seq order',
    );
    assert.deepEqual(
      store.newest([a], 3).map((e) => e.seq),
      kept
        .filter((r) => r.topic === 1)
        .map((r) => r.seq)
        .reverse()
        .slice(0, 3),
    );
    const seven = all.find((e) => e.publication === 1007);
    assert.equal(seven?.extra, '{"ppt_scheme":"x"}');
    assert.equal(seven?.authid, 'dev-ü');
    assert.equal(seven?.authrole, 'role');
    assert.equal(seven?.serializer, 'json');
    assert.equal(seven?.payload.toString(), '["v",7]');
    assert.equal(all.find((e) => e.publication === 1008)?.authid, null);
    const bytes = store.byteCount;
    store.close();

    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal((db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'events'").get() as { n: number }).n, 0, 'the events table is gone');
    db.close();
    const again = new HistoryStore({ path, maxBytes: 1 << 30, ruleFor: (_realm, topic) => rules[topic], logger: quietLogger });
    assert.equal(again.rowCount, kept.length, 'a converted file reopens as it is');
    assert.equal(again.byteCount, bytes);
    again.close();
  } finally {
    dir.remove();
  }
});

test('events of several topics written in one batch read back newest first across topics; partial trims keep order', () => {
  const dir = tempDir('wampgate-hs-');
  try {
    const path = join(dir.path, 'h.sqlite');
    const r = rule({ maxEvents: 7 });
    const store = open(path, r);
    const written: NewHistoryEvent[] = [];
    for (let round = 0; round < 4; round++) {
      const batch = [0, 1, 2, 3, 4].flatMap((i) => [event('t.a', r), event(i % 2 ? 't.b' : 't.c', r)]);
      written.push(...batch);
      store.append(batch);
    }
    const ids = ['t.a', 't.b', 't.c'].map((t) => store.topicId('realm1', t) as number);
    const expected = ['t.a', 't.b', 't.c'].flatMap((t) => written.filter((e) => e.topic === t).slice(-7));
    const newest = store.newest(ids, 100);
    assert.deepEqual(
      newest.map((e) => e.publication),
      expected.map((e) => e.publication).sort((x, y) => y - x),
    );
    assert.deepEqual(
      store.newest(ids, 4).map((e) => e.publication),
      newest.slice(0, 4).map((e) => e.publication),
    );
    assert.deepEqual(
      store.newest(ids, 3, newest[2]?.seq).map((e) => e.publication),
      newest.slice(3, 6).map((e) => e.publication),
      'paging before a seq',
    );
    assert.equal(store.rowCount, 21);
    assert.equal(store.evicted.count, written.length - 21);
    store.close();
    assert.deepEqual(
      fileRows(path).map((x) => x.publication),
      expected.map((e) => e.publication).sort((x, y) => x - y),
    );
  } finally {
    dir.remove();
  }
});

test('a schema 2 file (fixed-width blocks, written by wampgate 1025943) is converted at open: same events, seqs, bytes', () => {
  const dir = tempDir('wampgate-hs-');
  try {
    const path = join(dir.path, 'h.sqlite');
    // test/fixtures/history/schema2.sqlite: made by make-schema2.js beside it (1200 events, two topics).
    copyFileSync(resolve(__dirname, '../../../../test/fixtures/history/schema2.sqlite'), path);
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('user_version', { simple: true }), 2);
    const expected = (raw.prepare('SELECT data FROM blocks').all() as Array<{ data: Buffer }>)
      .flatMap((b) => decodeBlockV2(b.data))
      .sort((x, y) => y.seq - x.seq);
    raw.close();
    assert.equal(expected.length, 1200);

    const r = rule({ maxEvents: 10_000 });
    const store = open(path, r);
    assert.equal(store.rowCount, 1200);
    const ids = [store.topicId('realm1', 't.a'), store.topicId('realm1', 't.b')] as number[];
    const all = store.newest(ids, 10_000);
    assert.deepEqual(
      all.map(({ realm: _r, topic: _t, ...e }) => ({ ...e, payload: e.payload.toString('hex') })),
      expected.map((e) => ({ ...e, payload: e.payload.toString('hex') })),
      'every field of every event survives the conversion',
    );
    // Values the fixture's maker wrote, so the old reader cannot agree with a wrong file.
    const seven = all.find((e) => e.publication === 4_503_599_627_370_007);
    assert.deepEqual(
      [seven?.authid, seven?.authrole, seven?.session, seven?.extra, seven?.payload.toString()],
      ['dev-ü', 'role', 5, '{"ppt_scheme":"x"}', '["v",7]'],
    );
    const six = all.find((e) => e.publication === 4_503_599_627_370_006);
    assert.deepEqual([six?.session, six?.authid, six?.serializer, six?.timeUs], [null, null, 'cbor', 1_790_000_000_000_000 + 6 * 1500]);
    const bytes = store.byteCount;
    store.close();

    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const packed = (db.prepare('SELECT SUM(LENGTH(data)) AS n FROM blocks').get() as { n: number }).n;
    db.close();
    assert.ok(packed < 110_000 * 0.6, `compact blocks take ${packed} bytes`);
    const again = open(path, r);
    assert.equal(again.rowCount, 1200, 'a converted file reopens as it is');
    assert.equal(again.byteCount, bytes);
    again.close();
  } finally {
    dir.remove();
  }
});

test('a block keeps every field exactly: seqs with gaps, times that step back, 53-bit numbers, unicode, empty payloads', () => {
  const events = [
    {
      seq: 1,
      timeUs: 1_790_000_000_000_000,
      publication: 2 ** 53,
      session: 2 ** 53 - 1,
      authid: 'ü-ä',
      authrole: 'r',
      serializer: 'json',
      count: 2,
      payload: Buffer.from('[1],{}'),
      extra: null,
    },
    {
      seq: 2,
      timeUs: 1_790_000_000_000_000,
      publication: 1,
      session: 2 ** 53 - 1,
      authid: 'ü-ä',
      authrole: 'r',
      serializer: 'json',
      count: 1,
      payload: Buffer.alloc(0),
      extra: '{"t":1}',
    },
    {
      seq: 900_000_000_000,
      timeUs: 1_789_999_999_000_000,
      publication: 0,
      session: null,
      authid: null,
      authrole: 'r',
      serializer: 'cbor',
      count: 0,
      payload: Buffer.alloc(0),
      extra: null,
    },
    {
      seq: 900_000_000_001,
      timeUs: 1_790_000_000_000_001,
      publication: 77,
      session: 3,
      authid: 'x'.repeat(300),
      authrole: null,
      serializer: 'msgpack',
      count: 1,
      payload: Buffer.alloc(70_000, 7),
      extra: 'é'.repeat(50),
    },
  ];
  const b = encodeBlock(
    events,
    events.map((e) => e.seq),
  );
  assert.deepEqual(
    decodeBlock(b.data).map((e) => ({ ...e, payload: e.payload.toString('hex') })),
    events.map((e) => ({ ...e, payload: e.payload.toString('hex') })),
  );
  assert.deepEqual([b.firstSeq, b.lastSeq, b.events, b.timeMinUs, b.timeMaxUs], [1, 900_000_000_001, 4, 1_789_999_999_000_000, 1_790_000_000_000_001]);
  assert.throws(() => decodeBlock(b.data.subarray(0, b.data.length - 1)), /truncated/);
});
