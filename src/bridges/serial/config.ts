// Configuration of the serial bridge: one entry per port in `bridges.serial` (a list), its types,
// defaults, and `validateSerialBridges`, which reports every problem with its path (DESIGN §3).
// Owns the shape only: line-bridge.ts and frame-port.ts decide what the values do.

import type { ConfigProblem } from '../../config/problem';
import { ProblemList } from '../../config/problem';
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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** The default unmatched-lines topic of a line port. */
export function defaultUnmatchedTopic(name: string): string {
  return `wampgate.serial.${name}.unmatched`;
}

/**
 * Checks the `bridges.serial` list; every problem comes with its path under `path`
 * (e.g. "bridges.serial[1].baudRate"). `realms`, when given, are the configured realm names.
 */
export function validateSerialBridges(value: unknown, path: string, realms?: readonly string[]): ConfigProblem[] {
  const p = new ProblemList();
  if (!Array.isArray(value)) {
    p.add(path, 'must be a list of serial ports, e.g. [{ "name": "sensor1", "path": "/dev/serial/by-id/…", "mode": "line", "realm": "realm1", "rules": [] }]');
    return p.problems;
  }
  const names = new Set<string>();
  const paths = new Set<string>();
  value.forEach((entry, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(entry)) return p.add(at, 'must be an object');
    const mode = entry.mode;
    if (mode !== 'line' && mode !== 'frame') p.add(`${at}.mode`, 'must be "line" (text/JSON lines mapped by rules) or "frame" (a WAMP device)');
    const allowed = mode === 'frame' ? frameKeys : mode === 'line' ? lineKeys : [...new Set([...lineKeys, ...frameKeys])];
    for (const k of Object.keys(entry))
      if (!allowed.includes(k))
        p.add(`${at}.${k}`, `unknown key for ${typeof mode === 'string' ? `mode "${mode}"` : 'a serial port'} (allowed: ${allowed.join(', ')})`);

    if (typeof entry.name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(entry.name))
      p.add(`${at}.name`, 'required: letters, digits, "_" or "-" (it becomes a URI component)');
    else if (names.has(entry.name)) p.add(`${at}.name`, `duplicate serial port name "${entry.name}"`);
    else names.add(entry.name);

    if (typeof entry.path !== 'string' || entry.path === '') p.add(`${at}.path`, 'required: the device path, preferably /dev/serial/by-id/…');
    else if (paths.has(entry.path)) p.add(`${at}.path`, `"${entry.path}" is already used by another serial port`);
    else paths.add(entry.path);

    if (entry.baudRate !== undefined && !(typeof entry.baudRate === 'number' && baudRates.includes(entry.baudRate)))
      p.add(`${at}.baudRate`, 'must be a standard rate such as 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600');
    if (entry.dataBits !== undefined && !isInt(entry.dataBits, 5, 8)) p.add(`${at}.dataBits`, 'must be 5, 6, 7 or 8');
    if (entry.parity !== undefined && !(typeof entry.parity === 'string' && parities.includes(entry.parity)))
      p.add(`${at}.parity`, `must be one of ${parities.join(', ')}`);
    if (entry.stopBits !== undefined && entry.stopBits !== 1 && entry.stopBits !== 1.5 && entry.stopBits !== 2) p.add(`${at}.stopBits`, 'must be 1, 1.5 or 2');
    if (entry.reopen !== undefined) {
      if (!isObject(entry.reopen)) p.add(`${at}.reopen`, 'must be an object like { "minMs": 500, "maxMs": 10000 }');
      else {
        for (const k of Object.keys(entry.reopen)) if (k !== 'minMs' && k !== 'maxMs') p.add(`${at}.reopen.${k}`, 'unknown key (allowed: minMs, maxMs)');
        const { minMs, maxMs } = entry.reopen;
        if (minMs !== undefined && !isInt(minMs, 10, 3_600_000)) p.add(`${at}.reopen.minMs`, 'must be an integer from 10 to 3600000 (ms)');
        if (maxMs !== undefined && !isInt(maxMs, 10, 3_600_000)) p.add(`${at}.reopen.maxMs`, 'must be an integer from 10 to 3600000 (ms)');
        if (isInt(minMs, 10, 3_600_000) && isInt(maxMs, 10, 3_600_000) && (maxMs as number) < (minMs as number)) p.add(`${at}.reopen.maxMs`, 'must be ≥ minMs');
      }
    }

    if (typeof entry.realm !== 'string' || !isValidUri(entry.realm, 'loose'))
      p.add(`${at}.realm`, 'required: the realm the port’s session joins, e.g. "realm1"');
    else if (realms && !realms.includes(entry.realm)) p.add(`${at}.realm`, `no realm "${entry.realm}" is configured`);

    if (mode === 'frame') {
      if (typeof entry.authid !== 'string' || entry.authid === '') p.add(`${at}.authid`, 'required in frame mode: the device session’s authid');
      if (typeof entry.authrole !== 'string' || entry.authrole === '') p.add(`${at}.authrole`, 'required in frame mode: the device session’s authrole');
      if (entry.maxFrameBytes !== undefined && !isInt(entry.maxFrameBytes, 16, 65536))
        p.add(`${at}.maxFrameBytes`, 'must be an integer from 16 to 65536 (CBOR bytes; match the device’s buffers)');
      else if (typeof entry.realm === 'string' && typeof entry.authid === 'string' && typeof entry.authrole === 'string') {
        // The WELCOME must pass the port, or the device gets ABORT for every HELLO.
        const welcome = frameWelcomeBytes({ realm: entry.realm, authid: entry.authid, authrole: entry.authrole });
        const max = (entry.maxFrameBytes as number | undefined) ?? serialBridgeDefaults.maxFrameBytes;
        if (max < welcome)
          p.add(
            `${at}.maxFrameBytes`,
            `is ${max}, but the WELCOME this port's device gets is up to ${welcome} CBOR bytes (realm, authid, authrole and the router's agent string): the device could never join; use at least ${welcome}`,
          );
      }
      if (entry.leadingDelimiter !== undefined && typeof entry.leadingDelimiter !== 'boolean') p.add(`${at}.leadingDelimiter`, 'must be true or false');
    }
    if (mode === 'line') {
      if (entry.authid !== undefined && (typeof entry.authid !== 'string' || entry.authid === '')) p.add(`${at}.authid`, 'must be a non-empty string');
      if (entry.authrole !== undefined && (typeof entry.authrole !== 'string' || entry.authrole === '')) p.add(`${at}.authrole`, 'must be a non-empty string');
      if (entry.rules === undefined) p.add(`${at}.rules`, 'required in line mode: a list of rules (may be empty: every line then goes to the unmatched topic)');
      else for (const q of checkLineRules(entry.rules, `${at}.rules`)) p.add(q.path, q.message);
      if (entry.maxLineBytes !== undefined && !isInt(entry.maxLineBytes, 1, 65536)) p.add(`${at}.maxLineBytes`, 'must be an integer from 1 to 65536');
      if (entry.encoding !== undefined && entry.encoding !== 'utf8' && entry.encoding !== 'latin1') p.add(`${at}.encoding`, 'must be "utf8" or "latin1"');
      if (
        entry.unmatchedTopic !== undefined &&
        entry.unmatchedTopic !== null &&
        !(typeof entry.unmatchedTopic === 'string' && isValidUri(entry.unmatchedTopic, 'loose') && !entry.unmatchedTopic.startsWith('wamp.'))
      ) {
        p.add(`${at}.unmatchedTopic`, 'must be a topic URI (not wamp.…) or null');
      }
      if (
        entry.writeProcedure !== undefined &&
        !(typeof entry.writeProcedure === 'string' && isValidUri(entry.writeProcedure, 'loose') && !entry.writeProcedure.startsWith('wamp.'))
      ) {
        p.add(`${at}.writeProcedure`, 'must be a procedure URI (not wamp.…)');
      }
      if (entry.lineEnding !== undefined && entry.lineEnding !== '\n' && entry.lineEnding !== '\r\n') p.add(`${at}.lineEnding`, 'must be "\\n" or "\\r\\n"');
    }
  });
  return p.problems;
}
