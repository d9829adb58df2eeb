// A line-mode serial port as a bridge session: reads text/JSON lines from a simple sensor
// (ReopeningPort for hot-plug), maps them with LineRules and publishes them from its own local
// WAMP session; unmatched lines go to a log topic. It never touches broker or dealer state.

import { SessionKeeper, type KeptSessionState } from '../../client/session-keeper';
import { Result, type WampClient } from '../../client/wamp-client';
import type { LocalIdentity } from '../../gateway-part';
import { WampError } from '../../client/wamp-error';
import type { Peer } from '../../protocol/peer';
import { ReopeningPort, type ReopeningPortState } from '../../transports/serial/reopening-port';
import { quietLogger, type Logger } from '../../util/logger';
import type { SerialLineSettings } from './config';
import { LineRules } from './line-rules';
import { LineSplitter } from './line-splitter';
import { ErrorUri } from '../../protocol/error-uris';

export interface LineBridgeDeps {
  router: { attachLocal(name: string, identity: LocalIdentity): Peer };
  logger?: Logger;
}

export type SessionState = KeptSessionState;

export interface LineBridgeCounters {
  bytesIn: number;
  /** Complete lines read (empty lines excluded). */
  lines: number;
  /** Lines published on a rule's topic. */
  published: number;
  /** Lines no rule took (published on the unmatched topic unless it is null). */
  unmatched: number;
  /** Lines over maxLineBytes, dropped. */
  overLength: number;
  overLengthBytes: number;
  /** Lines read while the bridge had no WAMP session: dropped. */
  noSession: number;
  /** Lines written to the device through the write procedure. */
  writes: number;
  /** Successful port opens, the first included. */
  opens: number;
}

export interface LineBridgeStatus {
  /** Which mode of serial bridge reports this (part.ts maps it into the part seam's PartStatus). */
  kind: 'serial-line';
  name: string;
  path: string;
  mode: 'line';
  state: ReopeningPortState;
  /** Epoch ms when the port state began. */
  since: number;
  session: SessionState;
  lastError?: string;
  nextRetryMs?: number;
  counters: LineBridgeCounters;
}

export class LineBridge {
  readonly name: string;
  private readonly log: Logger;
  private readonly rules: LineRules;
  private readonly splitter: LineSplitter;
  private readonly port: ReopeningPort;
  private readonly unmatchedTopic: string | null;
  /** The bridge's own WAMP session, rejoined if it is closed under it. */
  private readonly keeper: SessionKeeper;
  private readonly counters = { bytesIn: 0, published: 0, unmatched: 0, noSession: 0, writes: 0 };
  /** Over-length drops already logged at warn; later ones go to debug (a babbling device must not flood the journal). */
  private nextOverLengthWarn = 1;

  constructor(
    private readonly config: SerialLineSettings,
    deps: LineBridgeDeps,
  ) {
    this.name = config.name;
    this.log = (deps.logger ?? quietLogger).child(`serial.${config.name}`);
    this.rules = LineRules.compile(config.rules);
    this.keeper = new SessionKeeper({
      name: `serial-bridge:${config.name}`,
      realm: config.realm,
      identity: { authid: config.authid, authrole: config.authrole },
      router: deps.router,
      setup: async (wamp) => {
        if (config.writeProcedure !== undefined) await wamp.register(config.writeProcedure, (args) => this.write(args));
      },
      logger: this.log,
    });
    this.splitter = new LineSplitter({ maxLineBytes: config.maxLineBytes, encoding: config.encoding });
    this.unmatchedTopic = config.unmatchedTopic;
    this.port = new ReopeningPort({
      path: config.path,
      baudRate: config.baudRate,
      dataBits: config.dataBits,
      parity: config.parity,
      stopBits: config.stopBits,
      reopenMinMs: config.reopen.minMs,
      reopenMaxMs: config.reopen.maxMs,
      logger: this.log,
      // A sensor may have been mid-line when the port opened; a fresh splitter state at least
      // never glues the old port's tail to the new port's first line.
      onOpen: () => this.splitter.reset(),
      onData: (chunk) => this.onData(chunk),
      onLost: () => this.splitter.reset(),
    });
  }

  /** Joins the realm (rejects if that fails: a config problem), then opens the port. */
  async start(): Promise<void> {
    await this.keeper.start();
    this.port.start();
  }

  async stop(): Promise<void> {
    await this.port.close();
    await this.keeper.stop();
  }

  status(): LineBridgeStatus {
    const s = this.splitter.stats;
    const status: LineBridgeStatus = {
      kind: 'serial-line',
      name: this.name,
      path: this.config.path,
      mode: 'line',
      state: this.port.state,
      since: this.port.since,
      session: this.keeper.state,
      counters: {
        bytesIn: this.counters.bytesIn,
        lines: s.lines,
        published: this.counters.published,
        unmatched: this.counters.unmatched,
        overLength: s.overLength,
        overLengthBytes: s.overLengthBytes,
        noSession: this.counters.noSession,
        writes: this.counters.writes,
        opens: this.port.opens,
      },
    };
    const lastError = this.port.lastError;
    if (lastError !== undefined) status.lastError = lastError;
    const next = this.port.nextRetryMs;
    if (next !== undefined) status.nextRetryMs = next;
    return status;
  }

  // ---- port -> WAMP -------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.counters.bytesIn += chunk.length;
    const before = this.splitter.stats.overLength;
    const lines = this.splitter.push(chunk);
    const after = this.splitter.stats.overLength;
    if (after > before) {
      const fields = { path: this.config.path, overLength: after, maxLineBytes: this.config.maxLineBytes };
      if (after >= this.nextOverLengthWarn) {
        this.log.warn('line over the length limit dropped', fields);
        while (this.nextOverLengthWarn <= after) this.nextOverLengthWarn *= 10;
      } else this.log.debug('line over the length limit dropped', fields);
    }
    for (const line of lines) this.onLine(line);
  }

  private onLine(line: string): void {
    const wamp = this.keeper.session;
    if (!wamp) {
      this.counters.noSession++;
      return;
    }
    const m = this.rules.map(line, this.name);
    if (m.kind === 'publish') {
      this.counters.published++;
      this.publish(wamp, m.topic, m.args, m.kwargs, m.options);
      return;
    }
    this.counters.unmatched++;
    this.log.debug('line matched no rule', { line: line.length > 200 ? line.slice(0, 200) + '…' : line, reason: m.reason });
    if (this.unmatchedTopic !== null) this.publish(wamp, this.unmatchedTopic, [line], { port: this.name, reason: m.reason }, {});
  }

  private publish(wamp: WampClient, topic: string, args: unknown[], kwargs: Record<string, unknown> | undefined, options: Record<string, unknown>): void {
    // Fire and forget: without acknowledge the only failure is a closed session, which
    // onClose already handles (and counts further lines as noSession).
    wamp.publish(topic, args, kwargs, options).catch(() => undefined);
  }

  // ---- WAMP -> port -------------------------------------------------------------------------

  private async write(args: unknown[]): Promise<Result> {
    const text = args[0];
    if (typeof text !== 'string' || /[\r\n]/.test(text)) {
      throw new WampError(ErrorUri.invalidArgument, ['expects one argument: a line of text without CR or LF']);
    }
    const data = Buffer.from(text + this.config.lineEnding, this.config.encoding);
    await new Promise<void>((resolve, reject) => {
      const accepted = this.port.write(data, (err) => {
        if (err) reject(new WampError(ErrorUri.serialWriteFailed, [err.message]));
        else resolve();
      });
      if (!accepted) reject(new WampError(ErrorUri.serialNotOpen, [`serial port ${this.config.path} is ${this.port.state}`]));
    });
    this.counters.writes++;
    return new Result([data.length]);
  }
}
