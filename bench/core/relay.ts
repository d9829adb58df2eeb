// The baseline: a `ws` server with no WAMP logic, the ceiling of one Node WebSocket hop. Each
// connection says its role in the URL (?role=pub|sub|caller|callee). Every message from a `pub`
// goes unchanged to every `sub`; from a `caller` to the `callee`; from the `callee` to the
// caller. Same ws settings as the router's listener (no compression, 1 MiB max, UTF-8 checks).
// With --cork, each connection's socket is corked for the rest of the tick on its first send, so
// the frames one inbound chunk produces leave in one writev (what a batching router could do).
// Run by the core benchmark as its own process: node dist/bench/core/relay.js [--cork] → IPC {port}.

import * as http from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';

const cork = process.argv.includes('--cork');
const subs = new Set<WebSocket>();
const corked = new WeakSet<WebSocket>();

function send(ws: WebSocket, data: Buffer, binary: boolean): void {
  if (cork && !corked.has(ws)) {
    const sock = (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    corked.add(ws);
    sock.cork();
    process.nextTick(() => {
      corked.delete(ws);
      sock.uncork();
    });
  }
  ws.send(data, { binary });
}
const callees: WebSocket[] = [];
const callers: WebSocket[] = [];

const server = http.createServer();
const wss = new WebSocketServer({
  server,
  maxPayload: 1024 * 1024,
  perMessageDeflate: false,
  clientTracking: false,
  // Accept whichever WAMP subprotocol the client offers first, as the router would.
  handleProtocols: (protocols) => protocols.values().next().value ?? false,
});

wss.on('connection', (ws, req) => {
  const role = new URL(req.url ?? '/', 'http://x').searchParams.get('role');
  ws.on('error', () => undefined);
  if (role === 'sub') {
    subs.add(ws);
    ws.on('close', () => subs.delete(ws));
  } else if (role === 'pub') {
    ws.on('message', (data, isBinary) => {
      for (const s of subs) send(s, data as Buffer, isBinary);
    });
  } else if (role === 'callee') {
    callees.push(ws);
    ws.on('message', (data, isBinary) => callers[0] && send(callers[0], data as Buffer, isBinary));
    ws.on('close', () => callees.splice(callees.indexOf(ws), 1));
  } else if (role === 'caller') {
    callers.push(ws);
    ws.on('message', (data, isBinary) => callees[0] && send(callees[0], data as Buffer, isBinary));
    ws.on('close', () => callers.splice(callers.indexOf(ws), 1));
  } else {
    ws.close(1008, 'role must be pub, sub, caller or callee');
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send?.({ port });
});
// The orchestrator owns this process: leave when it goes away.
process.on('disconnect', () => process.exit(0));
