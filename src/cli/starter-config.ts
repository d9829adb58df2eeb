// The commented starter config that `wampgate init` writes: local apps on loopback need no
// credentials; the network listener requires a ticket and every role has only the permissions
// it needs. `wampgate check` must accept it as written (a test guards that).

export function starterConfig(principalsFile: string): string {
  return `// wampgate configuration (JSON with comments).
// Check it with:  wampgate check --config <this file>
// Start with:     wampgate start --config <this file>
{
  // Realms are separate routing domains: nothing crosses between them.
  // Roles say what a session may do; anything not allowed is denied.
  "realms": [
    {
      "name": "realm1",
      "uriCheck": "loose",
      "roles": [
        // Apps on this machine (loopback listeners, anonymous): everything, including the
        // router's meta API (wamp.* is denied unless a rule names it).
        { "name": "local", "permissions": [
          { "uri": "", "match": "prefix", "allow": { "call": true, "register": true, "publish": true, "subscribe": true } },
          { "uri": "wamp.", "match": "prefix", "allow": { "call": true, "subscribe": true } } ] },
        // Devices on the network: publish readings, offer procedures under devices.
        { "name": "device", "permissions": [
          { "uri": "sensors.", "match": "prefix", "allow": { "publish": true, "subscribe": true } },
          { "uri": "devices.", "match": "prefix", "allow": { "register": true, "call": true } } ] }
      ]
    }
  ],

  "listeners": [
    // Loopback only: local apps connect without credentials.
    { "name": "websocket", "type": "websocket", "host": "127.0.0.1", "port": 8080, "path": "/ws",
      "auth": { "anonymous": { "role": "local" } } },
    { "name": "rawsocket", "type": "rawsocket", "host": "127.0.0.1", "port": 8081,
      "auth": { "anonymous": { "role": "local" } } },

    // Reachable from the network: devices authenticate with a ticket. The principals file holds
    // only salted hashes. Tickets travel in clear: add "tls": { "cert": …, "key": … } for wss://.
    { "name": "network", "type": "websocket", "host": "0.0.0.0", "port": 8090, "path": "/ws",
      "auth": { "ticket": { "principalsFile": ${JSON.stringify(principalsFile)} } } }
  ],

  // Limits sized for a board with 512 MB of RAM. Every value is optional.
  "limits": {
    "maxMessageBytes": 16842752,     // largest message a client may send: a 16 MiB payload + 64 KiB (RawSocket: 2^24 in all)
    "hardMaxMessageBytes": 33554432, // up to here a larger one gets ERROR payload_size_exceeded; beyond, the connection closes
    "maxQueueBytes": 1048576,        // outbound bytes per session before EVENTs are dropped
    "slowConsumerPolicy": "drop",    // or "disconnect"
    "helloTimeoutMs": 10000,         // a connection must say HELLO within this time
    "keepaliveIntervalMs": 30000     // ping idle connections to find dead peers (0 = off)
  },

  "log": { "level": "info" }        // debug, info, warn or error
}
`;
}
