// Pure mapping between MQTT topic filters and WAMP URI templates for the MQTT bridge: compiles a
// rule, maps a topic to a URI and back with numbered captures, and owns the escaping of MQTT
// levels that are not loose WAMP URI components. No I/O, no MQTT client, no WAMP session.
//
// Escaping (documented in docs/mqtt-bridge.md): an MQTT level becomes one WAMP component.
//   - the empty level            -> "%"   (a lone percent; no escaped level can be just "%")
//   - '%', '.', '#', whitespace  -> "%XX" per UTF-8 byte, upper-case hex
//   - everything else            -> unchanged
// It is total and injective, so MQTT -> WAMP -> MQTT round-trips every topic. In the other
// direction "%XX" (either hex case) and the lone "%" are decoded; a component that is not valid
// escaping, or that decodes to '/', '+', '#' or U+0000, names no MQTT topic and is not mapped.

import type { MatchPolicy } from '../../protocol/uri';

/** One level of a compiled MQTT filter. Captures are numbered 1.. in filter order. */
export type FilterLevel = { kind: 'literal'; text: string } | { kind: 'single'; capture: number } | { kind: 'multi'; capture: number };

/** One component of a compiled WAMP template. */
export type TemplatePart = { kind: 'literal'; text: string } | { kind: 'capture'; capture: number; multi: boolean };

export interface TopicRuleSpec {
  /** MQTT topic filter, with `+` and a trailing `#` as captures 1, 2, … in order. */
  mqtt: string;
  /** WAMP URI template: literal components and whole-component placeholders `{n}`. */
  wamp: string;
}

export interface WampSubscriptionSpec {
  uri: string;
  match: MatchPolicy;
}

export class TopicMappingError extends Error {
  override readonly name = 'TopicMappingError';
  constructor(
    /** Which side of the rule is wrong: becomes the config path suffix. */
    readonly field: 'mqtt' | 'wamp',
    message: string,
  ) {
    super(message);
  }
}

const NEEDS_ESCAPE = /[%.#\s]/u;
const LOOSE_COMPONENT = /^[^\s.#]+$/u;
const PLACEHOLDER = /^\{([1-9][0-9]*)\}$/;
const HEX = /^[0-9A-Fa-f]{2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** An MQTT topic level as one loose WAMP URI component (see the header for the scheme). */
export function escapeLevel(level: string): string {
  if (level.length === 0) return '%';
  if (!NEEDS_ESCAPE.test(level)) return level;
  let out = '';
  for (const ch of level) {
    if (NEEDS_ESCAPE.test(ch)) {
      for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    } else out += ch;
  }
  return out;
}

/** The MQTT level a WAMP component stands for, or undefined when it stands for none. */
export function unescapeComponent(component: string): string | undefined {
  let level: string;
  if (component === '%') level = '';
  else if (!component.includes('%')) level = component;
  else {
    const bytes: number[] = [];
    for (let i = 0; i < component.length;) {
      if (component[i] === '%') {
        const hex = component.slice(i + 1, i + 3);
        if (!HEX.test(hex)) return undefined;
        bytes.push(parseInt(hex, 16));
        i += 3;
      } else {
        const cp = component.codePointAt(i) ?? 0;
        const ch = String.fromCodePoint(cp);
        for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
        i += ch.length;
      }
    }
    try {
      level = utf8.decode(Uint8Array.from(bytes));
    } catch {
      return undefined;
    }
  }
  return isValidTopicLevel(level) ? level : undefined;
}

function isValidTopicLevel(level: string): boolean {
  return !/[/+#\u0000]/.test(level);
}

/** MQTT 3.1.1 §4.7 / MQTT 5 §4.7: a topic name has no wildcards, no U+0000, 1..65535 bytes. */
export function isValidMqttTopic(topic: string): boolean {
  return topic.length > 0 && Buffer.byteLength(topic, 'utf8') <= 65535 && !/[+#\u0000]/.test(topic);
}

/** Compiles an MQTT filter; throws TopicMappingError('mqtt') when it is not a valid filter. */
export function compileFilter(filter: string): FilterLevel[] {
  if (filter.length === 0) throw new TopicMappingError('mqtt', 'an MQTT topic filter must not be empty');
  if (Buffer.byteLength(filter, 'utf8') > 65535) throw new TopicMappingError('mqtt', 'an MQTT topic filter is at most 65535 bytes');
  if (filter.includes('\u0000')) throw new TopicMappingError('mqtt', 'an MQTT topic filter must not contain U+0000');
  const levels = filter.split('/');
  let capture = 0;
  return levels.map((text, i): FilterLevel => {
    if (text === '+') return { kind: 'single', capture: ++capture };
    if (text === '#') {
      if (i !== levels.length - 1) throw new TopicMappingError('mqtt', `"#" must be the last level of "${filter}"`);
      return { kind: 'multi', capture: ++capture };
    }
    if (text.includes('+') || text.includes('#')) {
      throw new TopicMappingError('mqtt', `"+" and "#" must occupy a whole level in "${filter}"`);
    }
    return { kind: 'literal', text };
  });
}

/**
 * Captures of `topic` against a compiled filter: one string per `+`, the remaining levels (zero
 * or more) for `#`; undefined when the topic does not match (MQTT §4.7.2: wildcards at the
 * first level never match topics starting with '$').
 */
export function matchFilter(levels: readonly FilterLevel[], topic: string): Array<string | string[]> | undefined {
  const parts = topic.split('/');
  const first = levels[0];
  if (first && first.kind !== 'literal' && topic.startsWith('$')) return undefined;
  const captures: Array<string | string[]> = [];
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.kind === 'multi') {
      captures.push(parts.slice(i));
      return captures;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (level.kind === 'literal') {
      if (part !== level.text) return undefined;
    } else captures.push(part);
  }
  return parts.length === levels.length ? captures : undefined;
}

/** Fills a filter's wildcards with captured levels: the MQTT topic a WAMP URI maps to. */
export function fillFilter(levels: readonly FilterLevel[], captures: ReadonlyArray<string | readonly string[]>): string {
  const out: string[] = [];
  for (const level of levels) {
    if (level.kind === 'literal') out.push(level.text);
    else {
      const c = captures[level.capture - 1];
      if (level.kind === 'multi') out.push(...(Array.isArray(c) ? c : []));
      else out.push(typeof c === 'string' ? c : '');
    }
  }
  return out.join('/');
}

export class TopicMapping {
  readonly filter: readonly FilterLevel[];
  readonly template: readonly TemplatePart[];
  readonly captureCount: number;
  /** Index of the multi-level placeholder in the template, -1 when there is none. */
  private readonly multiAt: number;

  constructor(readonly spec: TopicRuleSpec) {
    this.filter = compileFilter(spec.mqtt);
    const kinds = new Map<number, 'single' | 'multi'>();
    for (const l of this.filter) if (l.kind !== 'literal') kinds.set(l.capture, l.kind);
    this.captureCount = kinds.size;
    this.template = compileTemplate(spec.wamp, kinds);
    this.multiAt = this.template.findIndex((p) => p.kind === 'capture' && p.multi);
  }

  get mqtt(): string {
    return this.spec.mqtt;
  }

  get wamp(): string {
    return this.spec.wamp;
  }

  /** The WAMP URI for an MQTT topic, or undefined when the topic does not match the filter. */
  mqttToWamp(topic: string): string | undefined {
    const captures = matchFilter(this.filter, topic);
    if (!captures) return undefined;
    const out: string[] = [];
    for (const part of this.template) {
      if (part.kind === 'literal') out.push(part.text);
      else {
        const c = captures[part.capture - 1];
        if (Array.isArray(c)) for (const level of c) out.push(escapeLevel(level));
        else out.push(escapeLevel(c ?? ''));
      }
    }
    // Only a template made of nothing but a zero-level '#' capture gets here empty.
    return out.length > 0 ? out.join('.') : undefined;
  }

  /** The MQTT topic for a WAMP URI, or undefined when it does not match or names no topic. */
  wampToMqtt(uri: string): string | undefined {
    const components = uri.split('.');
    const t = this.template;
    const captures: Array<string | string[]> = new Array<string | string[]>(this.captureCount).fill('');
    const take = (part: TemplatePart, component: string): boolean => {
      if (part.kind === 'literal') return part.text === component;
      const level = unescapeComponent(component);
      if (level === undefined) return false;
      captures[part.capture - 1] = level;
      return true;
    };
    if (this.multiAt < 0) {
      if (components.length !== t.length) return undefined;
      for (let i = 0; i < t.length; i++) if (!take(t[i]!, components[i]!)) return undefined;
    } else {
      const after = t.length - this.multiAt - 1;
      if (components.length < t.length - 1) return undefined;
      for (let i = 0; i < this.multiAt; i++) if (!take(t[i]!, components[i]!)) return undefined;
      for (let i = 0; i < after; i++) {
        if (!take(t[t.length - after + i]!, components[components.length - after + i]!)) return undefined;
      }
      const middle: string[] = [];
      for (const c of components.slice(this.multiAt, components.length - after)) {
        const level = unescapeComponent(c);
        if (level === undefined) return undefined;
        middle.push(level);
      }
      const multi = t[this.multiAt]!;
      if (multi.kind === 'capture') captures[multi.capture - 1] = middle;
    }
    const topic = fillFilter(this.filter, captures);
    return isValidMqttTopic(topic) ? topic : undefined;
  }

  /**
   * The WAMP subscription (or registration) that receives every URI this rule maps: exact when
   * the template has no placeholder, wildcard when it has only single-level ones, prefix on the
   * literal components before the first placeholder when it captures '#' (the bridge then
   * checks each URI with wampToMqtt). Undefined when no pattern can cover it: a '#' placeholder
   * with no literal component before it.
   */
  wampSubscription(): WampSubscriptionSpec | undefined {
    if (this.captureCount === 0) return { uri: this.spec.wamp, match: 'exact' };
    if (this.multiAt < 0) {
      return { uri: this.template.map((p) => (p.kind === 'literal' ? p.text : '')).join('.'), match: 'wildcard' };
    }
    const literals: string[] = [];
    for (const p of this.template) {
      if (p.kind !== 'literal') break;
      literals.push(p.text);
    }
    if (literals.length === 0) return undefined;
    return { uri: literals.join('.') + '.', match: 'prefix' };
  }
}

function compileTemplate(template: string, kinds: ReadonlyMap<number, 'single' | 'multi'>): TemplatePart[] {
  if (template.length === 0) throw new TopicMappingError('wamp', 'a WAMP URI template must not be empty');
  const used = new Set<number>();
  const parts = template.split('.').map((text): TemplatePart => {
    const m = PLACEHOLDER.exec(text);
    if (m) {
      const capture = Number(m[1]);
      const kind = kinds.get(capture);
      if (!kind) throw new TopicMappingError('wamp', `"{${capture}}" refers to no "+" or "#" of the MQTT filter (it has ${kinds.size})`);
      if (used.has(capture)) throw new TopicMappingError('wamp', `"{${capture}}" is used twice; each capture maps to exactly one place`);
      used.add(capture);
      return { kind: 'capture', capture, multi: kind === 'multi' };
    }
    if (text.includes('{') || text.includes('}')) {
      throw new TopicMappingError('wamp', `"${text}": a placeholder must be a whole component like "{1}"`);
    }
    if (!LOOSE_COMPONENT.test(text)) {
      throw new TopicMappingError('wamp', `"${template}" is not a valid WAMP URI template (empty component, whitespace or '#')`);
    }
    return { kind: 'literal', text };
  });
  // Every capture must be used, or a WAMP URI could not be mapped back to one MQTT topic.
  for (const capture of kinds.keys()) {
    if (!used.has(capture)) throw new TopicMappingError('wamp', `capture {${capture}} of the MQTT filter is not used in the WAMP template`);
  }
  return parts;
}

/** Compiles a rule; throws TopicMappingError naming the side that is wrong. */
export function compileTopicMapping(spec: TopicRuleSpec): TopicMapping {
  return new TopicMapping(spec);
}
