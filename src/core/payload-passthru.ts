// Payload Passthru Mode (spec: "Payload Passthru Mode"): the ppt_* options a publisher or
// caller sets are copied untouched into the EVENT / INVOCATION / RESULT details, as are the
// enc_* options Autobahn|Python and Crossbar.io use for the same purpose. And the payload itself
// (args, kwargs, a transparent payload, and the bytes the sender encoded them in) moves from
// one message to the next in one step, so no routing path forgets the encoded form.

import { getEncoded, setEncoded, type Dict, type Payload } from '../protocol/messages';

const keys = ['ppt_scheme', 'ppt_serializer', 'ppt_cipher', 'ppt_keyid'] as const;
const encKeys = ['enc_algo', 'enc_key', 'enc_serializer'] as const;

export function copyPassthru(from: Dict, to: Dict): void {
  if (from.ppt_scheme !== undefined) for (const k of keys) if (from[k] !== undefined) to[k] = from[k];
  if (from.enc_algo !== undefined) for (const k of encKeys) if (from[k] !== undefined) to[k] = from[k];
}

/** Copies the payload of `from` onto `to` (only the fields that are set). */
export function copyPayload(from: Payload, to: Payload): void {
  if (from.args !== undefined) to.args = from.args;
  if (from.kwargs !== undefined) to.kwargs = from.kwargs;
  if (from.payload !== undefined) to.payload = from.payload;
  const encoded = getEncoded(from);
  if (encoded !== undefined) setEncoded(to, encoded);
}
