// One append inside the SQLite outbox's transaction: admission against the limits, eviction of
// victims by priority and age, the insert, and the record of what changed. The outbox applies
// that record to its in-memory mirror only after the transaction committed, so a rolled-back
// append leaves the mirror exactly as the file is.

import {
  accountedBytes,
  addToTotals,
  encodePayload,
  evictionReason,
  planAdmission,
  validateNewEntry,
  victimPriorities,
  type AppendResult,
  type DropPolicy,
  type DropReason,
  type NewEntry,
  type OutboxLimits,
  type PriorityTotals,
} from './outbox';
import type { OutboxStatements } from './sqlite-statements';

/** An entry checked and encoded before the transaction starts (no work inside the write lock). */
export interface Prepared {
  entry: NewEntry;
  payload: Buffer;
  priority: number;
  bytes: number;
  dropPolicy: DropPolicy;
}

/** What a transaction changed, applied to the in-memory mirror only after it committed. */
export interface Work {
  totals: PriorityTotals;
  count: number;
  bytes: number;
  drops: { reason: DropReason; source: string }[];
  stored: number;
  /** Highest seq assigned in this transaction (0 if none). */
  lastSeq: number;
}

/** The mirror's current state, copied so a failed transaction can simply be forgotten. */
export function startWork(mirror: { readonly totals: PriorityTotals; readonly count: number; readonly bytes: number }): Work {
  const totals: PriorityTotals = new Map();
  for (const [p, t] of mirror.totals) totals.set(p, { ...t });
  return { totals, count: mirror.count, bytes: mirror.bytes, drops: [], stored: 0, lastSeq: 0 };
}

export function prepareEntry(entry: NewEntry, defaultDropPolicy: DropPolicy): Prepared {
  validateNewEntry(entry);
  const payload = encodePayload(entry);
  return {
    entry,
    payload,
    priority: entry.priority ?? 0,
    bytes: accountedBytes(payload, entry.topic, entry.source),
    dropPolicy: entry.dropPolicy ?? defaultDropPolicy,
  };
}

/** Admits (evicting as the plan says) and inserts one entry; must run inside a transaction. */
export function appendInTransaction(stmt: OutboxStatements, p: Prepared, work: Work, limits: OutboxLimits, now: () => number): AppendResult {
  const plan = planAdmission(work.totals, work, limits, p);
  if (!plan.admit) {
    work.drops.push({ reason: plan.reason, source: p.entry.source });
    return { stored: false, dropped: plan.reason };
  }
  if (plan.evict) {
    const remaining = { count: plan.evict.count, bytes: plan.evict.bytes };
    for (const priority of victimPriorities(work.totals, plan.evict.maxVictimPriority, plan.evict.inclusive)) {
      while (remaining.count > 0 || remaining.bytes > 0) {
        // Chunked: better-sqlite3 cannot write while a SELECT is being iterated on the same connection.
        const rows = stmt.victims.all(priority, 64);
        for (const v of rows) {
          if (remaining.count <= 0 && remaining.bytes <= 0) break;
          work.drops.push({ reason: evictionReason(remaining), source: v.source });
          stmt.deleteOne.run(v.seq);
          addToTotals(work.totals, priority, -1, -v.bytes);
          work.count -= 1;
          work.bytes -= v.bytes;
          remaining.count -= 1;
          remaining.bytes -= v.bytes;
        }
        if (rows.length < 64) break;
      }
    }
  }
  const info = stmt.insert.run(p.entry.source, p.entry.topic, p.priority, p.bytes, now(), p.payload);
  const seq = Number(info.lastInsertRowid);
  addToTotals(work.totals, p.priority, 1, p.bytes);
  work.count += 1;
  work.bytes += p.bytes;
  work.stored += 1;
  work.lastSeq = seq;
  return { stored: true, seq };
}
