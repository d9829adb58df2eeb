// The event history's SQLite store on a real file: count, byte and age limits evict the oldest
// and count it; the mirror (rows, bytes) matches the file after a reopen; a changed or removed
// rule takes effect at open; a corrupt file is moved aside.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { HistoryRule } from '../../../src/history/history-config';
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

function fileRows(path: string): Array<{ publication: number; topic: string }> {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT publication, topic FROM events JOIN topics ON topics.id = events.topic_id ORDER BY seq').all() as Array<{
      publication: number;
      topic: string;
    }>;
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
