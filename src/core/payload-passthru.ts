// Payload Passthru Mode (spec: "Payload Passthru Mode"): the ppt_* options a publisher or
// caller sets are copied untouched into the EVENT / INVOCATION / RESULT details.

import type { Dict } from '../protocol/messages';

const keys = ['ppt_scheme', 'ppt_serializer', 'ppt_cipher', 'ppt_keyid'] as const;

export function copyPassthru(from: Dict, to: Dict): void {
  if (from.ppt_scheme === undefined) return;
  for (const k of keys) if (from[k] !== undefined) to[k] = from[k];
}
