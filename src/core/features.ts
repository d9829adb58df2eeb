// What the router announces in WELCOME.Details.roles (spec: "Feature Announcement"). Only
// features that work end to end are listed; a test checks each one against behaviour.

export const brokerFeatures = {
  publisher_identification: true,
  publisher_exclusion: true,
  subscriber_blackwhite_listing: true,
  pattern_based_subscription: true,
  event_retention: true,
  session_meta_api: true,
  subscription_meta_api: true,
  payload_passthru_mode: true,
} as const;

export const dealerFeatures = {
  caller_identification: true,
  pattern_based_registration: true,
  shared_registration: true,
  progressive_call_results: true,
  call_canceling: true,
  call_timeout: true,
  /** Crossbar.io's REGISTER option: a new session of the same authid and authrole takes over. */
  force_reregister: true,
  session_meta_api: true,
  registration_meta_api: true,
  testament_meta_api: true,
  payload_passthru_mode: true,
} as const;

/** The roles of WELCOME. `event_history` only for a realm that keeps history (spec "Event
 * History": a broker announcing it provides wamp.subscription.get_events with stored events). */
export function routerRoles(options: { eventHistory?: boolean } = {}): Record<string, unknown> {
  const broker: Record<string, boolean> = { ...brokerFeatures };
  if (options.eventHistory === true) broker.event_history = true;
  return { broker: { features: broker }, dealer: { features: { ...dealerFeatures } } };
}

/** Reads HELLO.Details.roles.<role>.features.<feature> defensively: clients send anything. */
export function clientSupports(roles: unknown, role: string, feature: string): boolean {
  if (!roles || typeof roles !== 'object') return false;
  const r = (roles as Record<string, unknown>)[role];
  if (!r || typeof r !== 'object') return false;
  const f = (r as Record<string, unknown>).features;
  if (!f || typeof f !== 'object') return false;
  return (f as Record<string, unknown>)[feature] === true;
}
