// The error thrown while decoding or validating inbound input. Whoever catches it answers with
// ABORT wamp.error.protocol_violation and closes the connection (DESIGN §3): one kind, one place.

export class ProtocolViolation extends Error {
  override readonly name = 'ProtocolViolation';
}
