// SqliteOutbox against the shared contract suite (real files in a temp dir), plus what only a file
// has: reopen, the exclusive lock, a full disk (max_page_count) and corruption moved aside.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { outboxSuite } from './outbox-suite';
import Database from 'better-sqlite3';
import { encodePayload } from '../../../src/uplink/outbox';
import { SCHEMA_VERSION, SqliteOutbox, type SqliteOutboxOptions } from '../../../src/uplink/sqlite-outbox';
import { createLogger, type LogLevel } from '../../../src/util/logger';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wampgate-outbox-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => path.join(dir, `outbox-${++n}.db`);

// NORMAL keeps the many-file property test fast; durability changes no semantics, only fsyncs.
outboxSuite('SqliteOutbox', (options) => new SqliteOutbox({ ...options, path: freshPath(), durability: 'normal' }), { propertyRuns: 100 });

function captureLog() {
  const lines: { level: LogLevel; msg: string; fields: Record<string, unknown> }[] = [];
  const logger = createLogger({ level: 'debug', sink: (level, _c, msg, fields) => lines.push({ level, msg, fields: fields ?? {} }) });
  return { logger, lines };
}

function open(options: Partial<SqliteOutboxOptions> & { path: string }): SqliteOutbox {
  return new SqliteOutbox(options);
}

describe('SqliteOutbox storage', () => {
  test('reopen: unacked entries are still there in order, totals reloaded, seq continues', () => {
    const file = freshPath();
    const a = open({ path: file });
    for (let i = 1; i <= 10; i++) a.append({ source: i % 2 ? 'odd' : 'even', topic: 't', args: [i, Buffer.from([i])], priority: i % 3 });
    a.ack([1, 2, 5]);
    const before = a.stats();
    a.close();

    const b = open({ path: file });
    const s = b.stats();
    assert.equal(s.count, 7);
    assert.equal(s.bytes, before.bytes);
    assert.equal(s.oldestSeq, 3);
    assert.equal(s.nextSeq, 11);
    assert.deepEqual(
      b.peek(100).map((x) => x.seq),
      [3, 4, 6, 7, 8, 9, 10],
    );
    assert.deepEqual(b.peek(1)[0]?.args, [3, Buffer.from([3])]);
    const r = b.append({ source: 'odd', topic: 't', args: [11] });
    assert.deepEqual(r, { stored: true, seq: 11 });
    b.ack({ upTo: 100 });
    b.close();

    const c = open({ path: file });
    assert.equal(c.stats().count, 0);
    assert.deepEqual(c.append({ source: 'x', topic: 't' }), { stored: true, seq: 12 }, 'seq never restarts, even after the table was emptied');
    c.close();
  });

  test('reopen: dead letters are kept in the same file and their totals reloaded', () => {
    const file = freshPath();
    const a = open({ path: file });
    for (let i = 1; i <= 3; i++) a.append({ source: 's', topic: 't', args: [i] });
    a.deadLetter(2, { reason: 'too-large', error: 'over the link limit', attempts: 3 });
    const before = a.stats().deadLetters;
    a.close();
    const b = open({ path: file });
    assert.deepEqual(
      b.stats().deadLetters,
      { ...before, moved: { 'too-large': 0, 'not-encodable': 0, refused: 0, 'link-closed': 0 } },
      'moved counts restart with the process',
    );
    assert.deepEqual(
      b.peek(10).map((x) => x.seq),
      [1, 3],
    );
    assert.deepEqual(
      b.deadLetters(10).map((d) => [d.seq, d.reason, d.args]),
      [[2, 'too-large', [2]]],
    );
    b.close();
  });

  test('reopen: priority totals are reloaded, so eviction after restart still picks the lowest priority', () => {
    const file = freshPath();
    const a = open({ path: file, maxCount: 3 });
    a.append({ source: 'hi', topic: 't', priority: 5 });
    a.append({ source: 'lo', topic: 't', priority: 0 });
    a.append({ source: 'hi', topic: 't', priority: 5 });
    a.close();
    const b = open({ path: file, maxCount: 3 });
    assert.equal(b.append({ source: 'mid', topic: 't', priority: 1, dropPolicy: 'reject-newest' }).stored, true);
    assert.deepEqual(
      b.peek(10).map((x) => x.source),
      ['hi', 'hi', 'mid'],
    );
    assert.deepEqual(b.stats().dropsBySource, { lo: 1 });
    b.close();
  });

  test('an older file is migrated at open: a version-1 buffer (no dead_letters) keeps its entries and seqs', () => {
    const file = freshPath();
    // Exactly what wampgate wrote before schema 2: the outbox table, user_version 1.
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(
      'CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, topic TEXT NOT NULL, priority INTEGER NOT NULL, ' +
        'bytes INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, payload BLOB NOT NULL); CREATE INDEX outbox_by_priority ON outbox (priority);',
    );
    const payload = encodePayload({ args: [7] });
    for (let i = 0; i < 3; i++)
      old.prepare('INSERT INTO outbox (source, topic, priority, bytes, enqueued_at, payload) VALUES (?, ?, 0, ?, 1, ?)').run('s', 't', 10, payload);
    old.prepare('DELETE FROM outbox WHERE seq = 1').run();
    old.pragma('user_version = 1');
    old.close();

    const b = open({ path: file });
    assert.deepEqual(
      b.peek(10).map((x) => [x.seq, x.args]),
      [
        [2, [7]],
        [3, [7]],
      ],
    );
    assert.equal(b.stats().nextSeq, 4);
    assert.equal(b.deadLetter(2, { reason: 'refused', error: 'e', attempts: 3 }), true, 'the dead-letter table exists after the migration');
    b.close();
    const check = new Database(file);
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    check.close();
  });

  test('a file from a newer wampgate is refused at open, untouched', () => {
    const file = freshPath();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => open({ path: file }), /newer than this wampgate/);
    assert.ok(fs.existsSync(file) && !fs.readdirSync(dir).some((f) => f.startsWith(path.basename(file) + '.corrupt')));
  });

  test('a second owner of the same file is refused (exclusive lock) instead of sharing silently', () => {
    const file = freshPath();
    const a = open({ path: file });
    assert.throws(() => open({ path: file }), /locked|busy/i);
    a.append({ source: 's', topic: 't' });
    a.close();
    const b = open({ path: file });
    assert.equal(b.stats().count, 1);
    b.close();
  });

  test('full disk: appends fail with a counted drop, never throw, and resume once acks free space', () => {
    const file = freshPath();
    const { logger, lines } = captureLog();
    const ob = open({ path: file, maxPageCount: 24, logger, maxCount: 1_000_000, maxBytes: 1e9 });
    const blob = Buffer.alloc(2000, 7);
    let storedCount = 0;
    let first: { stored: boolean } | undefined;
    for (let i = 0; i < 200; i++) {
      const r = ob.append({ source: 'cam', topic: 't', args: [i, blob] });
      if (!r.stored) {
        assert.deepEqual(r, { stored: false, dropped: 'disk-full' });
        first = r;
        break;
      }
      storedCount++;
    }
    assert.ok(first, 'the page cap was reached');
    assert.ok(storedCount > 2, `some entries fit before the cap (${storedCount})`);
    // Keep hammering: every one is a counted drop, only one warning is logged.
    for (let i = 0; i < 5; i++) assert.equal(ob.append({ source: 'cam', topic: 't', args: [blob] }).stored, false);
    const batch = ob.appendBatch([
      { source: 'cam', topic: 't', args: [blob] },
      { source: 'cam', topic: 't', args: [blob] },
    ]);
    assert.deepEqual(
      batch.map((r) => r.stored),
      [false, false],
    );
    let s = ob.stats();
    assert.equal(s.drops['disk-full'], 8);
    assert.equal(s.dropsBySource['cam'], 8);
    assert.equal(s.diskFull, true);
    assert.equal(s.count, storedCount);
    assert.equal(lines.filter((l) => l.level === 'warn' && /full/.test(l.msg)).length, 1);
    // What was stored before is intact and in order.
    const entries = ob.peek(1000);
    assert.deepEqual(
      entries.map((x) => x.args?.[0]),
      Array.from({ length: storedCount }, (_, i) => i),
    );

    // The cloud acknowledges: space comes back and buffering resumes.
    assert.equal(ob.ack({ upTo: entries[Math.floor(storedCount / 2)]!.seq }) > 0, true);
    const again = ob.append({ source: 'cam', topic: 't', args: ['after', blob] });
    assert.equal(again.stored, true);
    s = ob.stats();
    assert.equal(s.diskFull, false);
    assert.ok(lines.some((l) => l.level === 'info' && /resumed/.test(l.msg)));
    ob.close();

    // And the file is still a healthy database.
    const re = open({ path: file, maxPageCount: 24 });
    assert.equal(re.stats().count, s.count);
    assert.equal(re.peek(1000).at(-1)?.args?.[0], 'after');
    re.close();
  });

  test('full disk in the middle of a batch: the entries that fit are kept', () => {
    const ob = open({ path: freshPath(), maxPageCount: 24 });
    const blob = Buffer.alloc(2000, 1);
    const results = ob.appendBatch(Array.from({ length: 100 }, (_, i) => ({ source: 's', topic: 't', args: [i, blob] })));
    const kept = results.filter((r) => r.stored).length;
    assert.ok(kept > 0 && kept < 100, `kept ${kept}`);
    assert.ok(
      results.slice(kept).every((r) => !r.stored && r.dropped === 'disk-full'),
      'stored prefix, then drops',
    );
    assert.equal(ob.stats().count, kept);
    assert.equal(ob.stats().drops['disk-full'], 100 - kept);
    ob.close();
  });

  test('corrupt file: moved aside with a timestamp suffix, an error log names it, a fresh outbox starts', () => {
    const file = freshPath();
    const garbage = Buffer.from('this is not an SQLite database, it is what an SD card returned'.repeat(100));
    fs.writeFileSync(file, garbage);
    const { logger, lines } = captureLog();
    const ob = open({ path: file, logger });
    const errors = lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1);
    const moved = errors[0]!.fields['movedTo'];
    assert.equal(typeof moved, 'string');
    assert.match(moved as string, /\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    assert.deepEqual(fs.readFileSync(moved as string), garbage, 'the moved file is the original bytes');
    assert.equal(ob.stats().count, 0);
    assert.deepEqual(ob.append({ source: 's', topic: 't', args: [1] }), { stored: true, seq: 1 });
    ob.close();
    const again = open({ path: file });
    assert.equal(again.stats().count, 1, 'the fresh file is a working outbox');
    again.close();
  });

  test('corrupt file twice: the second move does not overwrite the first', () => {
    const file = freshPath();
    const { logger, lines } = captureLog();
    fs.writeFileSync(file, Buffer.alloc(8192, 0xab));
    open({ path: file, logger }).close();
    fs.writeFileSync(file, Buffer.alloc(8192, 0xcd));
    open({ path: file, logger }).close();
    const moved = lines.filter((l) => l.level === 'error').map((l) => l.fields['movedTo'] as string);
    assert.equal(moved.length, 2);
    assert.notEqual(moved[0], moved[1]);
    assert.equal(fs.readFileSync(moved[0]!)[0], 0xab);
    assert.equal(fs.readFileSync(moved[1]!)[0], 0xcd);
  });

  test('a garbage page inside an otherwise valid file is detected at open and moved aside', () => {
    const file = freshPath();
    const a = open({ path: file });
    for (let i = 0; i < 300; i++) a.append({ source: 's', topic: 't', args: ['x'.repeat(100), i] });
    a.close();
    // Overwrite the interior pages (the first page, with the header, stays valid).
    const fd = fs.openSync(file, 'r+');
    const size = fs.fstatSync(fd).size;
    fs.writeSync(fd, Buffer.alloc(size - 4096, 0xee), 0, size - 4096, 4096);
    fs.closeSync(fd);
    const { logger, lines } = captureLog();
    const b = open({ path: file, logger });
    assert.ok(lines.some((l) => l.level === 'error' && typeof l.fields['movedTo'] === 'string'));
    assert.equal(b.stats().count, 0);
    assert.equal(b.append({ source: 's', topic: 't' }).stored, true);
    b.close();
  });
});
