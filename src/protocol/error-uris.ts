// The spec's predefined error and close reason URIs, in one place so every module uses the
// same spelling (spec: "Predefined URIs").

export const ErrorUri = {
  invalidUri: 'wamp.error.invalid_uri',
  noSuchProcedure: 'wamp.error.no_such_procedure',
  procedureAlreadyExists: 'wamp.error.procedure_already_exists',
  noSuchRegistration: 'wamp.error.no_such_registration',
  noSuchSubscription: 'wamp.error.no_such_subscription',
  noSuchSession: 'wamp.error.no_such_session',
  invalidArgument: 'wamp.error.invalid_argument',
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
  /** wampgate's own: the router refused work because a per-session limit was reached. */
  limitExceeded: 'wampgate.error.limit_exceeded',
  /** wampgate's own: a client message could not cross its transport (over the limit the other end
   * announced, or not encodable by the serializer), so no answer will come. */
  notSendable: 'wampgate.error.not_sendable',
  /** wampgate's own: reason of a registration revoked because a session of the same principal
   * registered the procedure with `force_reregister`. */
  registrationTakenOver: 'wampgate.error.registration_taken_over',
} as const;

export type ErrorUriValue = (typeof ErrorUri)[keyof typeof ErrorUri];
