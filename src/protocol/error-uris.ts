// The catalog of error and close-reason URIs a peer can get from wampgate, so every module uses
// the same spelling: the spec's predefined URIs here (spec: "Predefined URIs"), wampgate's own in
// wampgate-error-uris.ts, both joined in ErrorUri. No other module writes such a URI inline (lint).

import { WampgateErrorUri } from './wampgate-error-uris';

/** The spec's predefined URIs, plus two Autobahn conventions every WAMP peer knows. */
export const SpecErrorUri = {
  invalidUri: 'wamp.error.invalid_uri',
  noSuchProcedure: 'wamp.error.no_such_procedure',
  procedureAlreadyExists: 'wamp.error.procedure_already_exists',
  noSuchRegistration: 'wamp.error.no_such_registration',
  noSuchSubscription: 'wamp.error.no_such_subscription',
  noSuchSession: 'wamp.error.no_such_session',
  invalidArgument: 'wamp.error.invalid_argument',
  /** Autobahn's reason for a session that leaves of its own accord (not in the spec's list). */
  closeNormal: 'wamp.close.normal',
  systemShutdown: 'wamp.close.system_shutdown',
  closeRealm: 'wamp.close.close_realm',
  goodbyeAndOut: 'wamp.close.goodbye_and_out',
  killed: 'wamp.close.killed',
  protocolViolation: 'wamp.error.protocol_violation',
  notAuthorized: 'wamp.error.not_authorized',
  authorizationFailed: 'wamp.error.authorization_failed',
  authenticationFailed: 'wamp.error.authentication_failed',
  noAuthMethod: 'wamp.error.no_auth_method',
  noSuchRealm: 'wamp.error.no_such_realm',
  noSuchRole: 'wamp.error.no_such_role',
  noSuchPrincipal: 'wamp.error.no_such_principal',
  canceled: 'wamp.error.canceled',
  timeout: 'wamp.error.timeout',
  optionNotAllowed: 'wamp.error.option_not_allowed',
  optionDisallowedDiscloseMe: 'wamp.error.option_disallowed.disclose_me',
  noEligibleCallee: 'wamp.error.no_eligible_callee',
  unavailable: 'wamp.error.unavailable',
  payloadSizeExceeded: 'wamp.error.payload_size_exceeded',
  /** A payload value has no exact form in the receiver's serializer. Autobahn's name for "the
   * application payload could not be serialized" (ApplicationError.INVALID_PAYLOAD, raised in
   * Autobahn clients as SerializationError), so Crossbar.io peers know it. */
  invalidPayload: 'wamp.error.invalid_payload',
  /** Autobahn's error for a handler that threw something that is not a WAMP error. */
  runtimeError: 'wamp.error.runtime_error',
  /** wamp.subscription.get_events on a realm or subscription without event history (Crossbar.io's
   * URI for the same answer, so its clients know it). */
  historyUnavailable: 'wamp.error.history_unavailable',
} as const;

/** Every URI of the catalog under one name; a key in both halves fails to compile. */
export const ErrorUri = { ...SpecErrorUri, ...WampgateErrorUri } as const;
const disjoint: [keyof typeof SpecErrorUri & keyof typeof WampgateErrorUri] extends [never] ? true : never = true;
void disjoint;

export type ErrorUriValue = (typeof ErrorUri)[keyof typeof ErrorUri];
