// The commented starter config that `wampgate init` writes. `wampgate check` must accept it
// as written (a test guards that).

export const starterConfig = `// wampgate configuration (JSON with comments).
// Check it with:  wampgate check --config <this file>
// Start with:     wampgate start --config <this file>
{
  // Realms are separate routing domains: nothing crosses between them.
  "realms": [
    { "name": "realm1", "uriCheck": "loose" }
  ],

  // Where clients connect. Listeners on 127.0.0.1 or a Unix socket accept anonymous
  // sessions by default; a listener on another address needs an "auth" section.
  "listeners": [
    { "name": "websocket", "type": "websocket", "host": "127.0.0.1", "port": 8080, "path": "/ws" },
    { "name": "rawsocket", "type": "rawsocket", "host": "127.0.0.1", "port": 8081 }
    // A Unix socket for local apps and devices:
    // , { "name": "unix", "type": "rawsocket", "unixPath": "/run/wampgate/wamp.sock" }
  ],

  // Limits sized for a board with 512 MB of RAM. Every value is optional.
  "limits": {
    "maxMessageBytes": 1048576,      // largest message a client may send
    "maxQueueBytes": 1048576,        // outbound bytes per session before EVENTs are dropped
    "slowConsumerPolicy": "drop",    // or "disconnect"
    "helloTimeoutMs": 10000,         // a connection must say HELLO within this time
    "keepaliveIntervalMs": 30000     // ping idle connections to find dead peers (0 = off)
  },

  "log": { "level": "info" }        // debug, info, warn or error
}
`;
