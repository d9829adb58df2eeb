// The read side of the event history's store: a query over some topics' blocks (seq and time
// bounds, newest first or in publish order, a limit) answered by walking the blocks in index
// order and stopping as soon as no further block can change the answer. No writes here.

import type { BlockStatements, ReadBlock } from './block-statements';
import { decodeBlock, type BlockEvent } from './event-block';

/** One stored event, as read back. */
export interface StoredHistoryEvent extends BlockEvent {
  realm: string;
  topic: string;
}

/** Which events, in which order. Bounds are inclusive; absent = unbounded. */
export interface ReadQuery {
  limit: number;
  /** Newest first (Crossbar.io's order), or in the order they were published. */
  newestFirst: boolean;
  minSeq?: number;
  maxSeq?: number;
  minTimeUs?: number;
  maxTimeUs?: number;
}

/** What a read needs to know of a topic: its name, and its age limit (expired events never show). */
export interface ReadTopic {
  realm: string;
  topic: string;
  maxAgeMs: number | null;
}

function blocksOf(stmt: BlockStatements, topicIds: readonly number[], q: ReadQuery): Iterable<ReadBlock> {
  const one = topicIds.length === 1;
  if (q.newestFirst) {
    const below = (q.maxSeq ?? Number.MAX_SAFE_INTEGER - 1) + 1;
    return one ? stmt.newestOfTopic.iterate(topicIds[0] as number, below) : stmt.newestOfTopics.iterate(JSON.stringify(topicIds), below);
  }
  const from = q.minSeq ?? 0;
  return one ? stmt.oldestOfTopicFrom.iterate(topicIds[0] as number, from) : stmt.oldestOfTopicsFrom.iterate(JSON.stringify(topicIds), from);
}

/** The events of `topicIds` (one realm) that `q` selects, at most `q.limit`, in its order. */
export function readEvents(
  stmt: BlockStatements,
  topicOf: (id: number) => ReadTopic | undefined,
  nowUs: number,
  topicIds: readonly number[],
  q: ReadQuery,
): StoredHistoryEvent[] {
  if (topicIds.length === 0 || q.limit <= 0) return [];
  const minSeq = q.minSeq ?? -Infinity;
  const maxSeq = q.maxSeq ?? Infinity;
  const minTime = q.minTimeUs ?? -Infinity;
  const maxTime = q.maxTimeUs ?? Infinity;
  const order = q.newestFirst ? (x: BlockEvent, y: BlockEvent) => y.seq - x.seq : (x: BlockEvent, y: BlockEvent) => x.seq - y.seq;
  let found: StoredHistoryEvent[] = [];
  for (const b of blocksOf(stmt, topicIds, q)) {
    // Blocks of several topics overlap in seq, so they are merged: newest first they come by
    // last_seq descending, in publish order by first_seq ascending. Once `limit` events are
    // found that come before anything this block holds, no later block can add one.
    if (found.length >= q.limit) {
      const edge = (found[q.limit - 1] as StoredHistoryEvent).seq;
      if (q.newestFirst ? b.last_seq < edge : b.first_seq > edge) break;
    }
    // A block wholly outside the time bounds is not decoded (times can step back, so events
    // inside a block are still checked one by one).
    if (b.time_max_us < minTime || b.time_min_us > maxTime) continue;
    const t = topicOf(b.topic_id);
    const oldestUs = t?.maxAgeMs == null ? -Infinity : nowUs - t.maxAgeMs * 1000;
    for (const e of decodeBlock(b.data)) {
      if (e.seq < minSeq || e.seq > maxSeq || e.timeUs < minTime || e.timeUs > maxTime || e.timeUs <= oldestUs) continue;
      found.push({ ...e, realm: t?.realm ?? '', topic: t?.topic ?? '' });
    }
    found.sort(order);
    if (found.length > q.limit) found = found.slice(0, q.limit);
  }
  return found;
}

/** The seq of the event with this publication ID among `topicIds`, newest first; undefined when
 * it is not stored (evicted, expired, or never recorded). Decodes blocks until found. */
export function seqOfPublication(stmt: BlockStatements, topicIds: readonly number[], publication: number): number | undefined {
  if (topicIds.length === 0) return undefined;
  for (const b of blocksOf(stmt, topicIds, { limit: 1, newestFirst: true })) {
    for (const e of decodeBlock(b.data)) if (e.publication === publication) return e.seq;
  }
  return undefined;
}
