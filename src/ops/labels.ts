// Owns the words the status page shows for counters, drop reasons and states: people read
// "Decode errors", not "decodeErrors"; a counter not in the table is humanized, so a new part's
// counters read well without an entry here. Does not own the counters (the parts do).

/** Counter names the bridges and the uplink report -> what a person reads. */
const COUNTER_LABELS: Record<string, string> = {
  received: 'Received',
  published: 'Published',
  wampPublished: 'Published to WAMP',
  wampReceived: 'Received from WAMP',
  decodeErrors: 'Decode errors',
  encodeErrors: 'Encode errors',
  dropped: 'Dropped',
  unmappable: 'No rule could map',
  loopsSuppressed: 'Own messages ignored',
  rpcCalls: 'Calls to devices',
  rpcTimeouts: 'Call timeouts',
  rpcErrors: 'Call errors',
  rpcServed: 'Calls from devices',
  connects: 'Connects',
  connectFailures: 'Failed connects',
  bytesIn: 'Bytes read',
  bytesOut: 'Bytes written',
  lines: 'Lines read',
  unmatched: 'Lines no rule took',
  overLength: 'Over-long lines',
  overLengthBytes: 'Over-long bytes',
  noSession: 'Lost (no session)',
  writes: 'Writes',
  frames: 'Frames in',
  framesOut: 'Frames out',
  crcErrors: 'CRC errors',
  cobsErrors: 'Framing errors',
  oversized: 'Oversized frames in',
  oversizedOut: 'Oversized frames out',
  droppedBytes: 'Bytes skipped',
  opens: 'Port opens',
  peers: 'Device sessions',
  // the event history (history/part.ts)
  rows: 'Events stored',
  bytes: 'Stored size',
  max_bytes: 'Size cap',
  file_bytes: 'File on disk',
  topics: 'Topics',
  queued: 'Waiting to be written',
  written: 'Written',
  evicted_count: 'Evicted (per-topic count)',
  evicted_age: 'Expired (age)',
  evicted_bytes: 'Evicted (size cap)',
  evicted_unconfigured: 'Removed (no rule any more)',
  dropped_queue_full: 'Not recorded (writer behind)',
  dropped_storage_error: 'Not recorded (storage error)',
  dropped_not_encodable: 'Not recorded (payload)',
  dropped_stopped: 'Not recorded (stopping)',
  session_lists_not_stored: 'Not stored (session ID lists)',
};

/** Router drop reasons (router-status.ts DROP_REASONS) -> what a person reads. */
const DROP_LABELS: Record<string, string> = {
  slow_consumer_event: 'Slow subscriber (event dropped)',
  slow_consumer_disconnect: 'Slow subscriber disconnected',
  protocol_violation: 'Protocol violation',
  auth_failure: 'Authentication failed',
  auth_busy: 'Login refused: too busy to check',
  internal_error: 'Internal error',
  unrepresentable_event: 'Event not representable for a subscriber',
  unrepresentable_call: 'Call not representable for the callee',
  message_over_limit: 'Message over maxMessageBytes (refused)',
  too_large_event: 'Event too large for a subscriber',
  too_large_call: 'Call message too large for its receiver',
};

/** "decodeErrors" -> "Decode errors", "queue_full" -> "Queue full": for names not in the tables. */
export function humanize(name: string): string {
  const words = name
    .replace(/[_.-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function counterLabel(name: string): string {
  return COUNTER_LABELS[name] ?? humanize(name);
}

export function dropLabel(reason: string): string {
  return DROP_LABELS[reason] ?? humanize(reason);
}

/** Counters that are errors or losses: shown highlighted when non-zero. */
export function isTroubleCounter(name: string): boolean {
  return /error|fail|drop|timeout|unmappable|unmatched|overlength|oversized|nosession|skipped/i.test(name);
}

/** Severity of a link state for badges and state strips. */
export function stateTone(state: string): 'ok' | 'warn' | 'bad' | 'off' {
  if (state === 'connected' || state === 'ready' || state === 'up') return 'ok';
  if (state === 'connecting') return 'warn';
  if (state === 'stopped') return 'off';
  return 'bad';
}
