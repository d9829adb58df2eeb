// Configuration of the serial bridge: one entry per port in `bridges.serial` (a list), its types,
// defaults, and `readSerialBridges` on the config kit, which reports every problem with its path
// (DESIGN §3).
// Owns the shape only: line-bridge.ts and frame-port.ts decide what the values do.

import { ConfigError, type ConfigProblem } from '../../config/problem';
import { Check, isObject, type Obj } from '../../config/validate';
import { frameWelcomeBytes } from './welcome-size';
import { isValidUri } from '../../protocol/uri';
import type { SerialParity } from '../../transports/serial/reopening-port';
import { checkLineRules, type LineRuleSpec } from './line-rules';
import type { LineEncoding } from './line-splitter';

export type SerialMode = 'line' | 'frame';

export interface SerialPortCommon {
  /** Unique among serial ports ([A-Za-z0-9_-]): names the part, its log, its session and `{port}`. */
  name: string;
  /** Prefer /dev/serial/by-id/usb-…: it survives replugging into another USB socket. */
  path: string;
  /** One of the standard rates (see baudRates). Default 115200. */
  baudRate?: number;
  /** Default 8. */
  dataBits?: 5 | 6 | 7 | 8;
  /** Default 'none'. */
  parity?: SerialParity;
  /** Default 1. */
  stopBits?: 1 | 1.5 | 2;
  /** Hot-plug reopen backoff: doubles from minMs (500) up to maxMs (10000). */
  reopen?: { minMs?: number; maxMs?: number };
}

export interface SerialLineConfig extends SerialPortCommon {
  mode: 'line';
  /** The realm the bridge's own session joins to publish. */
  realm: string;
  /** The bridge session's authid; default `serial-bridge:<name>`. */
  authid?: string;
  /** The bridge session's authrole; default 'serial-bridge'. */
  authrole?: string;
  /** Ordered; the first rule that applies to a line wins. See line-rules.ts / docs/serial-bridge.md. */
  rules: LineRuleSpec[];
  /** Longer lines are dropped and counted. Default 1024. */
  maxLineBytes?: number;
  /** Default 'utf8'. */
  encoding?: LineEncoding;
  /** Where lines no rule took go (args [line], kwargs {port, reason}); null: nowhere (still counted).
   *  Default `wampgate.serial.<name>.unmatched`. */
  unmatchedTopic?: string | null;
  /** If set, the bridge registers this procedure: call it with [text] to write text + lineEnding. */
  writeProcedure?: string;
  /** Appended to written lines. Default "\n". */
  lineEnding?: '\n' | '\r\n';
}

export interface SerialFrameConfig extends SerialPortCommon {
  mode: 'frame';
  /** The device's session: the only realm it may join, and the identity it gets (no auth on the wire). */
  realm: string;
  authid: string;
  authrole: string;
  /** Largest CBOR message either way, CRC excluded; match the device's buffers. Default 1024. */
  maxFrameBytes?: number;
  /** Send 0x00 before every frame so a device that booted mid-frame resyncs. Default true. */
  leadingDelimiter?: boolean;
}

export type SerialBridgeConfig = SerialLineConfig | SerialFrameConfig;

/** A serial port with every default resolved (by the bridges section): what FramePort and
 * LineBridge run with. */
interface PortSettings {
  name: string;
  path: string;
  realm: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: SerialParity;
  stopBits: 1 | 1.5 | 2;
  reopen: { minMs: number; maxMs: number };
}

export interface SerialLineSettings extends PortSettings {
  mode: 'line';
  authid: string;
  authrole: string;
  rules: LineRuleSpec[];
  maxLineBytes: number;
  encoding: LineEncoding;
  unmatchedTopic: string | null;
  writeProcedure?: string;
  lineEnding: '\n' | '\r\n';
}

export interface SerialFrameSettings extends PortSettings {
  mode: 'frame';
  authid: string;
  authrole: string;
  maxFrameBytes: number;
  leadingDelimiter: boolean;
}

export type SerialPortSettings = SerialLineSettings | SerialFrameSettings;

export const serialBridgeDefaults = {
  baudRate: 115200,
  dataBits: 8 as const,
  parity: 'none' as SerialParity,
  stopBits: 1 as const,
  reopenMinMs: 500,
  reopenMaxMs: 10_000,
  lineAuthrole: 'serial-bridge',
  maxLineBytes: 1024,
  maxFrameBytes: 1024,
  encoding: 'utf8' as LineEncoding,
  lineEnding: '\n' as const,
  /** A 0x00 before every frame resyncs a device that booted mid-frame; costs one byte a frame. */
  leadingDelimiter: true,
} as const;

/** Linux termios rates (the B… constants): others fail at open on most USB adapters. */
export const baudRates: readonly number[] = [
  50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000,
  1500000, 2000000, 2500000, 3000000, 3500000, 4000000,
];
const parities: readonly string[] = ['none', 'even', 'odd', 'mark', 'space'];
const commonKeys = ['name', 'path', 'mode', 'baudRate', 'dataBits', 'parity', 'stopBits', 'reopen'];
const lineKeys = [...commonKeys, 'realm', 'authid', 'authrole', 'rules', 'maxLineBytes', 'encoding', 'unmatchedTopic', 'writeProcedure', 'lineEnding'];
const frameKeys = [...commonKeys, 'realm', 'authid', 'authrole', 'maxFrameBytes', 'leadingDelimiter'];

/** The default unmatched-lines topic of a line port. */
export function defaultUnmatchedTopic(name: string): string {
  return `wampgate.serial.${name}.unmatched`;
}

/** Every problem of a `bridges.serial` list, each with its path under `path`. */
export function validateSerialBridges(value: unknown, path: string, realms?: readonly string[]): ConfigProblem[] {
  const c = new Check();
  readSerialBridges(c, value, path, realms);
  return c.problems;
}

/**
 * Checks the `bridges.serial` list on the config kit; every problem comes with its path under
 * `path` (e.g. "bridges.serial[1].baudRate"). `realms`, when given, are the configured realm
 * names. Returns the ports that are valid, typed.
 */
export function readSerialBridges(c: Check, value: unknown, path: string, realms?: readonly string[]): SerialPortSettings[] {
  if (!Array.isArray(value)) {
    c.add(path, 'must be a list of serial ports, e.g. [{ "name": "sensor1", "path": "/dev/serial/by-id/…", "mode": "line", "realm": "realm1", "rules": [] }]');
    return [];
  }
  const names = new Set<string>();
  const paths = new Set<string>();
  const out: SerialPortSettings[] = [];
  value.forEach((entry, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(entry)) return c.add(at, 'must be an object');
    const before = c.problems.length;
    const mode = c.oneOf(entry.mode, `${at}.mode`, ['line', 'frame'] as const, {
      required: true,
      message: 'must be "line" (text/JSON lines mapped by rules) or "frame" (a WAMP device)',
    });
    const allowed = mode === 'frame' ? frameKeys : mode === 'line' ? lineKeys : [...new Set([...lineKeys, ...frameKeys])];
    c.unknownKeys(entry, allowed, at, typeof entry.mode === 'string' ? `mode "${entry.mode}"` : 'a serial port');

    if (typeof entry.name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(entry.name))
      c.add(`${at}.name`, 'required: letters, digits, "_" or "-" (it becomes a URI component)');
    else if (names.has(entry.name)) c.add(`${at}.name`, `duplicate serial port name "${entry.name}"`);
    else names.add(entry.name);

    const device = c.string(entry.path, `${at}.path`, { required: true, message: 'required: the device path, preferably /dev/serial/by-id/…' });
    if (device !== undefined && paths.has(device)) c.add(`${at}.path`, `"${device}" is already used by another serial port`);
    else if (device !== undefined) paths.add(device);

    c.oneOf(entry.baudRate, `${at}.baudRate`, baudRates, {
      message: 'must be a standard rate such as 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600',
    });
    c.int(entry.dataBits, `${at}.dataBits`, { min: 5, max: 8, message: 'must be 5, 6, 7 or 8' });
    c.oneOf(entry.parity, `${at}.parity`, parities);
    c.oneOf(entry.stopBits, `${at}.stopBits`, [1, 1.5, 2], { message: 'must be 1, 1.5 or 2' });
    const reopen = c.object(entry.reopen, `${at}.reopen`, ['minMs', 'maxMs'], { message: 'must be an object like { "minMs": 500, "maxMs": 10000 }' });
    if (reopen) {
      const ms = { min: 10, max: 3_600_000, message: 'must be an integer from 10 to 3600000 (ms)' };
      const minMs = c.int(reopen.minMs, `${at}.reopen.minMs`, ms);
      const maxMs = c.int(reopen.maxMs, `${at}.reopen.maxMs`, ms);
      if (minMs !== undefined && maxMs !== undefined && maxMs < minMs) c.add(`${at}.reopen.maxMs`, 'must be ≥ minMs');
    }

    const realm = c.uri(entry.realm, `${at}.realm`, { required: true, message: 'required: the realm the port’s session joins, e.g. "realm1"' });
    if (realm !== undefined && realms && !realms.includes(realm)) c.add(`${at}.realm`, `no realm "${realm}" is configured`);

    if (mode === 'frame') checkFramePort(c, entry, at);
    if (mode === 'line') checkLinePort(c, entry, at);
    if (c.problems.length === before) out.push(resolvePort(entry as unknown as SerialBridgeConfig));
  });
  return out;
}

/** A valid port's defaults, resolved once. */
function resolvePort(e: SerialBridgeConfig): SerialPortSettings {
  const D = serialBridgeDefaults;
  const port: PortSettings = {
    name: e.name,
    path: e.path,
    realm: e.realm,
    baudRate: e.baudRate ?? D.baudRate,
    dataBits: e.dataBits ?? D.dataBits,
    parity: e.parity ?? D.parity,
    stopBits: e.stopBits ?? D.stopBits,
    reopen: { minMs: e.reopen?.minMs ?? D.reopenMinMs, maxMs: e.reopen?.maxMs ?? D.reopenMaxMs },
  };
  if (e.mode === 'frame') {
    return {
      ...port,
      mode: 'frame',
      authid: e.authid,
      authrole: e.authrole,
      maxFrameBytes: e.maxFrameBytes ?? D.maxFrameBytes,
      leadingDelimiter: e.leadingDelimiter ?? D.leadingDelimiter,
    };
  }
  return {
    ...port,
    mode: 'line',
    authid: e.authid ?? `serial-bridge:${e.name}`,
    authrole: e.authrole ?? D.lineAuthrole,
    rules: e.rules,
    maxLineBytes: e.maxLineBytes ?? D.maxLineBytes,
    encoding: e.encoding ?? D.encoding,
    unmatchedTopic: e.unmatchedTopic === undefined ? defaultUnmatchedTopic(e.name) : e.unmatchedTopic,
    lineEnding: e.lineEnding ?? D.lineEnding,
    ...(e.writeProcedure !== undefined ? { writeProcedure: e.writeProcedure } : {}),
  };
}

/** One port's settings from its raw config (tests, embedding); throws ConfigError with every problem. */
export function resolveSerialPort<M extends SerialBridgeConfig>(entry: M): M extends SerialFrameConfig ? SerialFrameSettings : SerialLineSettings {
  const c = new Check();
  const [settings] = readSerialBridges(c, [entry], 'serialPort');
  if (!c.ok || !settings) throw new ConfigError(c.problems);
  return settings as M extends SerialFrameConfig ? SerialFrameSettings : SerialLineSettings;
}

function checkFramePort(c: Check, entry: Obj, at: string): void {
  c.string(entry.authid, `${at}.authid`, { required: true, message: 'required in frame mode: the device session’s authid' });
  c.string(entry.authrole, `${at}.authrole`, { required: true, message: 'required in frame mode: the device session’s authrole' });
  const frameBytes = { min: 16, max: 65536, message: 'must be an integer from 16 to 65536 (CBOR bytes; match the device’s buffers)' };
  if (entry.maxFrameBytes !== undefined && c.int(entry.maxFrameBytes, `${at}.maxFrameBytes`, frameBytes) === undefined) {
    // reported
  } else if (typeof entry.realm === 'string' && typeof entry.authid === 'string' && typeof entry.authrole === 'string') {
    // The WELCOME must pass the port, or the device gets ABORT for every HELLO.
    const welcome = frameWelcomeBytes({ realm: entry.realm, authid: entry.authid, authrole: entry.authrole });
    const max = (entry.maxFrameBytes as number | undefined) ?? serialBridgeDefaults.maxFrameBytes;
    if (max < welcome)
      c.add(
        `${at}.maxFrameBytes`,
        `is ${max}, but the WELCOME this port's device gets is up to ${welcome} CBOR bytes (realm, authid, authrole and the router's agent string): the device could never join; use at least ${welcome}`,
      );
  }
  c.bool(entry.leadingDelimiter, `${at}.leadingDelimiter`);
}

function checkLinePort(c: Check, entry: Obj, at: string): void {
  c.string(entry.authid, `${at}.authid`);
  c.string(entry.authrole, `${at}.authrole`);
  if (entry.rules === undefined) c.add(`${at}.rules`, 'required in line mode: a list of rules (may be empty: every line then goes to the unmatched topic)');
  else c.addAll(checkLineRules(entry.rules, `${at}.rules`));
  c.int(entry.maxLineBytes, `${at}.maxLineBytes`, { min: 1, max: 65536 });
  c.oneOf(entry.encoding, `${at}.encoding`, ['utf8', 'latin1'], { message: 'must be "utf8" or "latin1"' });
  const topic = entry.unmatchedTopic;
  if (topic !== undefined && topic !== null && !(typeof topic === 'string' && isValidUri(topic, 'loose') && !topic.startsWith('wamp.'))) {
    c.add(`${at}.unmatchedTopic`, 'must be a topic URI (not wamp.…) or null');
  }
  const proc = entry.writeProcedure;
  if (proc !== undefined && !(typeof proc === 'string' && isValidUri(proc, 'loose') && !proc.startsWith('wamp.'))) {
    c.add(`${at}.writeProcedure`, 'must be a procedure URI (not wamp.…)');
  }
  c.oneOf(entry.lineEnding, `${at}.lineEnding`, ['\n', '\r\n'], { message: 'must be "\\n" or "\\r\\n"' });
}
