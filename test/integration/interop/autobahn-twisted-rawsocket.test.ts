// Regression for issue 10: wampgate's RawSocket listener used to send transport PINGs to every
// client, and Autobahn|Python's Twisted RawSocket client (Int32StringReceiver: no frame types)
// reads a PING header as a 16 MiB length and closes. Debian's python3-autobahn, Twisted, joins
// over RawSocket, stays idle for many keepalive intervals (short ones here), then proves its
// session is the same one by calling, publishing and being called; no connection was dropped.
//
// Without an importable Autobahn|Python + Twisted the test skips with the reason, except under CI
// (where `apt-get install python3-autobahn` is part of the setup) where it fails with it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deferred, Inbox, startTestGateway, tempDir, within } from '../support/gateway';

const SCRIPT = String.raw`
import json, sys
from twisted.internet import reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint
from autobahn.twisted.wamp import ApplicationSession, ApplicationSessionFactory
from autobahn.twisted.rawsocket import WampRawSocketClientFactory
from autobahn.wamp.types import ComponentConfig, PublishOptions

port, serializer_name, idle_s = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])

def say(**kw):
    print(json.dumps(kw), flush=True)

class App(ApplicationSession):
    async def onJoin(self, details):
        say(step="joined", session=details.session)
        await self.register(lambda: "still here", "com.tw.ping")
        # Idle: no WAMP traffic at all while the router's keepalive intervals pass.
        await task.deferLater(reactor, idle_s, lambda: None)
        say(step="idle-done", session=self._session_id)
        result = await self.call("com.tw.echo", "after idle")
        say(step="called", result=result)
        await self.publish("com.tw.out", self._session_id, options=PublishOptions(acknowledge=True))
        say(step="published")

    def onLeave(self, details):
        say(step="left", reason=details.reason)
        self.disconnect()

    def onDisconnect(self):
        say(step="disconnected")
        if reactor.running:
            reactor.stop()

if serializer_name == "msgpack":
    from autobahn.wamp.serializer import MsgPackSerializer as S
else:
    from autobahn.wamp.serializer import JsonSerializer as S

session_factory = ApplicationSessionFactory(ComponentConfig(realm="realm1"))
session_factory.session = App
factory = WampRawSocketClientFactory(session_factory, serializer=S())
TCP4ClientEndpoint(reactor, "127.0.0.1", port).connect(factory).addErrback(lambda f: (say(step="error", error=str(f.value)), reactor.stop()))
reactor.run()
`;

function findTwistedAutobahn(): { python?: string; reason: string } {
  const tried: string[] = [];
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      const version = execFileSync(candidate, ['-c', 'import autobahn, twisted; print(autobahn.__version__, twisted.__version__)'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 10_000,
      }).trim();
      return { python: candidate, reason: `Autobahn|Python/Twisted ${version} via ${candidate}` };
    } catch (err) {
      tried.push(`${candidate}: ${((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n').pop() ?? ''}`);
    }
  }
  return { reason: `Autobahn|Python with Twisted is not importable (apt-get install python3-autobahn); tried ${tried.join('; ')}` };
}

const found = findTwistedAutobahn();

interface Step {
  step: string;
  [k: string]: unknown;
}

for (const serializer of ['json', 'msgpack'] as const) {
  test(`Autobahn|Python Twisted RawSocket (${serializer}) stays joined while idle through 20 keepalive intervals: zero drops`, async (t) => {
    if (!found.python) {
      if (process.env.CI) assert.fail(found.reason);
      t.skip(found.reason);
      return;
    }
    // 50 ms intervals: before the fix the first PING (after 50 ms) ended the link (the Twisted client
    // closes at once on what it reads as a 16 MiB length). The timeout is generous so the test's
    // own WebSocket client on a loaded machine is not what gets closed.
    const tg = await startTestGateway({ keepaliveIntervalMs: 50, keepaliveTimeoutMs: 5000 });
    const dir = tempDir('wampgate-tw-');
    const script = join(dir.path, 'client.py');
    writeFileSync(script, SCRIPT);
    const js = await tg.client('websocket');
    const idleSeconds = 1.0;
    const py = spawn(found.python, [script, String(tg.tcpPort), serializer, String(idleSeconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = deferred<number | null>();
    py.on('close', (code) => exited.resolve(code));
    let stderr = '';
    py.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const steps = new Inbox<Step>();
    let partial = '';
    py.stdout.on('data', (d: Buffer) => {
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) steps.push(JSON.parse(line) as Step);
    });
    const next = async (name: string): Promise<Step> => {
      const s = await Promise.race([
        steps.next(`the Python step "${name}"`),
        exited.promise.then((code) => {
          throw new Error(`the Twisted client exited (${String(code)}) before step "${name}"; stderr:\n${stderr}`);
        }),
      ]);
      assert.equal(s.step, name, `expected step ${name}, got ${JSON.stringify(s)}; stderr: ${stderr}`);
      return s;
    };
    try {
      await js.register('com.tw.echo', (args) => args[0]);
      const published = deferred<unknown[]>();
      await js.subscribe('com.tw.out', (args) => published.resolve(args));
      const joined = await next('joined');
      const idle = await next('idle-done');
      assert.equal(idle.session, joined.session, 'the same session after the idle time');
      assert.equal((await next('called')).result, 'after idle');
      await next('published');
      assert.deepEqual(await within(published.promise, 'the Twisted client event'), [joined.session]);
      const answer = await js.call('com.tw.ping');
      assert.deepEqual(answer.args, ['still here'], 'the router still reaches the Twisted session');
      const closed = tg.gateway.router.stats.connectionsClosed;
      assert.deepEqual(closed, {}, `the router closed no connection on its own (${JSON.stringify(closed)})`);
      await js.call('wamp.session.kill', [joined.session], { reason: 'wamp.close.normal' });
      await next('left');
      await within(exited.promise, 'the Twisted client to exit');
    } finally {
      if (py.exitCode === null) py.kill('SIGKILL');
      await tg.stop();
      dir.remove();
    }
  });
}
