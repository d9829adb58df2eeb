// wampgate's own error URIs: what the router and its parts (uplink, MQTT and serial bridges)
// answer where the spec has no word. The spec's URIs are in error-uris.ts, which joins both into
// ErrorUri; docs/errors.md says for each when it is sent and what to do (a test keeps them equal).

export const WampgateErrorUri = {
  /** The router refused work because a per-session limit was reached (maxPendingCalls,
   * maxSubscriptionsPerSession). */
  limitExceeded: 'wampgate.error.limit_exceeded',
  /** A client message could not cross its transport (over the limit the other end announced, or
   * not encodable by the serializer), so no answer will come. */
  notSendable: 'wampgate.error.not_sendable',
  /** Reason of a registration revoked because a session of the same principal registered the
   * procedure with `force_reregister`. */
  registrationTakenOver: 'wampgate.error.registration_taken_over',
  /** ABORT of a HELLO (or AUTHENTICATE) with ticket authentication while limits.ticketCheckQueue
   * key derivations already wait: try again later. */
  authBusy: 'wampgate.error.auth_busy',
  /** Uplink: a downward call while the link is down (and did not come back within
   * offlineCallTimeoutMs). */
  uplinkOffline: 'wampgate.error.uplink_offline',
  /** MQTT bridge RPC (docs/mqtt-bridge.md "RPC"): the device gave no reply within the rule's timeout. */
  mqttTimeout: 'wampgate.error.mqtt_timeout',
  /** MQTT bridge RPC: the bridge is not connected to its broker (or lost it during the call). */
  mqttUnavailable: 'wampgate.error.mqtt_unavailable',
  /** MQTT bridge RPC: maxPendingRequests requests already wait for a reply. */
  mqttBusy: 'wampgate.error.mqtt_busy',
  /** MQTT bridge RPC: the device's reply does not decode with the rule's payload codec. */
  mqttBadReply: 'wampgate.error.mqtt_bad_reply',
  /** Serial line bridge: the port is not open (unplugged, or reopening). */
  serialNotOpen: 'wampgate.error.serial.not_open',
  /** Serial line bridge: the operating system refused the write. */
  serialWriteFailed: 'wampgate.error.serial.write_failed',
} as const;
