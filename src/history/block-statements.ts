// The prepared statements of the event history's blocks table: insert, the reads behind
// wamp.subscription.get_events, and the eviction candidates (a topic's oldest block, the file's
// oldest block, an expired block), which one builder makes so the three cannot drift apart.

import type Database from 'better-sqlite3';
import { INSERT_BLOCK } from './history-schema';

/** A block as eviction sees it: enough to drop it whole, and its events to trim it. */
export interface BlockRow {
  id: number;
  topic_id: number;
  events: number;
  bytes: number;
  time_max_us: number;
  data: Buffer;
}

/** A block as a read sees it. */
export interface ReadBlock {
  topic_id: number;
  first_seq: number;
  last_seq: number;
  time_min_us: number;
  time_max_us: number;
  data: Buffer;
}

/** Which blocks may lose events, oldest first: one topic's (its count limit), any topic's (the
 * byte cap), or those whose oldest event is past its age (the sweep). */
export type EvictionScope = 'topic' | 'file' | 'expired';

// Each scope's order is the one its index already has (one topic's blocks are in the same order
// by first_seq and last_seq), so finding the candidate is one index step, never a sort.
const EVICTION_SCOPE: Record<EvictionScope, { where: string; order: string }> = {
  topic: { where: 'WHERE topic_id = ?', order: 'last_seq' },
  file: { where: '', order: 'first_seq' },
  expired: { where: 'WHERE expires_us IS NOT NULL AND expires_us <= ?', order: 'expires_us' },
};

/** The oldest block in `scope` (by seq, never by wall clock; expired ones by expiry). */
function oldestBlock<P extends unknown[]>(db: Database.Database, scope: EvictionScope): Database.Statement<P, BlockRow> {
  const { where, order } = EVICTION_SCOPE[scope];
  return db.prepare<P, BlockRow>(`SELECT id, topic_id, events, bytes, time_max_us, data FROM blocks ${where} ORDER BY ${order} LIMIT 1`);
}

const READ = 'topic_id, first_seq, last_seq, time_min_us, time_max_us, data';

type Insert = [number, number, number, number, number, number, number | null, number, Buffer];
type Rewrite = [number, number, number, number, number, number | null, number, Buffer, number];

export interface BlockStatements {
  insertTopic: Database.Statement<[string, string, number | null]>;
  insertBlock: Database.Statement<Insert>;
  oldestOfTopic: Database.Statement<[number], BlockRow>;
  oldestOfFile: Database.Statement<[], BlockRow>;
  oldestExpired: Database.Statement<[number], BlockRow>;
  deleteBlock: Database.Statement<[number]>;
  /** What is left of a trimmed block. */
  rewriteBlock: Database.Statement<Rewrite>;
  /** Newest first by last_seq: blocks of several topics overlap in seq, so a reader merges them. */
  newestOfTopic: Database.Statement<[number, number], ReadBlock>;
  newestOfTopics: Database.Statement<[string, number], ReadBlock>;
  /** In publish order, blocks holding events from a seq on (one topic's blocks never overlap). */
  oldestOfTopicFrom: Database.Statement<[number, number], ReadBlock>;
  oldestOfTopicsFrom: Database.Statement<[string, number], ReadBlock>;
  lastSeq: Database.Statement<[], { s: number | null }>;
}

export function prepareBlockStatements(db: Database.Database): BlockStatements {
  return {
    insertTopic: db.prepare('INSERT INTO topics (realm, topic, max_age_ms) VALUES (?, ?, ?)'),
    insertBlock: db.prepare(INSERT_BLOCK),
    oldestOfTopic: oldestBlock(db, 'topic'),
    oldestOfFile: oldestBlock(db, 'file'),
    oldestExpired: oldestBlock(db, 'expired'),
    deleteBlock: db.prepare('DELETE FROM blocks WHERE id = ?'),
    rewriteBlock: db.prepare(
      'UPDATE blocks SET first_seq = ?, last_seq = ?, events = ?, time_min_us = ?, time_max_us = ?, expires_us = ?, bytes = ?, data = ? WHERE id = ?',
    ),
    newestOfTopic: db.prepare(`SELECT ${READ} FROM blocks WHERE topic_id = ? AND first_seq < ? ORDER BY last_seq DESC`),
    newestOfTopics: db.prepare(`SELECT ${READ} FROM blocks WHERE topic_id IN (SELECT value FROM json_each(?)) AND first_seq < ? ORDER BY last_seq DESC`),
    oldestOfTopicFrom: db.prepare(`SELECT ${READ} FROM blocks WHERE topic_id = ? AND last_seq >= ? ORDER BY last_seq`),
    oldestOfTopicsFrom: db.prepare(`SELECT ${READ} FROM blocks WHERE topic_id IN (SELECT value FROM json_each(?)) AND last_seq >= ? ORDER BY first_seq`),
    lastSeq: db.prepare('SELECT MAX(last_seq) AS s FROM blocks'),
  };
}
