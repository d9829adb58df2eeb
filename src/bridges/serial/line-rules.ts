// The line-mode rule language: compiles rules from config and maps one text line from a serial
// sensor to a WAMP publication (topic, args, kwargs, options) or to "unmatched" with a reason.
// Pure: no I/O, no sessions. The language is documented in docs/serial-bridge.md.
//
// A rule is either a text rule (`match`: a regular expression) or a JSON rule (`json: true`).
// The first rule that applies wins. Templates (`topic`, strings inside `args` / `kwargs`) use
// placeholders `{source}` or `{source:type}`:
//   sources  port | line | <regex group name> | <regex group number> | $ | $.a.b[0] (JSON rules)
//   types    string | number | int | bool | json     (none: the value as captured / parsed)
//   `{{` and `}}` are literal braces.
// A string that is exactly one placeholder yields a typed value; anything else yields a string.

import { isValidUri } from '../../protocol/uri';
import type { Dict } from '../../protocol/messages';

export interface LineRuleSpec {
  /** Text rule: a JavaScript regular expression tested against the line (no newline, no trailing CR). */
  match?: string;
  /** Regex flags; only i, s and u. */
  flags?: string;
  /** JSON rule: the line must be one JSON value; `{$.path}` reads it. */
  json?: boolean;
  /** JSON rules: every listed path must equal the given primitive for the rule to apply. */
  where?: Record<string, string | number | boolean | null>;
  /** WAMP topic template, e.g. "sensors.{port}.temperature". */
  topic: string;
  /** Default: text rule ["{line}"]; JSON rule: [value] for a non-object, [] (+ kwargs = object) for an object. */
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** Publish with the WAMP `retain` option (the broker keeps the last event for late subscribers). */
  retain?: boolean;
}

export const placeholderTypes = ['string', 'number', 'int', 'bool', 'json'] as const;
export type PlaceholderType = (typeof placeholderTypes)[number];

export type LineMapping =
  { kind: 'publish'; rule: number; topic: string; args: unknown[]; kwargs?: Dict; options: Dict } | { kind: 'unmatched'; reason: string };

export class LineRuleError extends Error {
  override readonly name = 'LineRuleError';
  /** `field` is relative to the rule, e.g. "topic" or "args[1]". */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

// ---- templates ------------------------------------------------------------------------------

type Source = { kind: 'port' } | { kind: 'line' } | { kind: 'group'; key: string | number } | { kind: 'path'; steps: Array<string | number> };
interface Placeholder {
  text: string;
  source: Source;
  type: PlaceholderType | undefined;
}
type Part = string | Placeholder;

/** What a line offers to templates once a rule applies. */
interface Scope {
  port: string;
  line: string;
  groups?: RegExpExecArray;
  json?: unknown;
}

/** A conversion or lookup that makes the rule not apply; caught per rule. */
class Skip {
  constructor(readonly reason: string) {}
}

const MISSING = Symbol('missing');

const PATH_STEP = /^(?:\.([A-Za-z0-9_-]+)|\[(\d+)\])/;

export function parseJsonPath(text: string): Array<string | number> | undefined {
  if (!text.startsWith('$')) return undefined;
  const steps: Array<string | number> = [];
  let rest = text.slice(1);
  while (rest.length > 0) {
    const m = PATH_STEP.exec(rest);
    if (!m) return undefined;
    steps.push(m[1] !== undefined ? m[1] : Number(m[2]));
    rest = rest.slice(m[0].length);
  }
  return steps;
}

function readPath(value: unknown, steps: ReadonlyArray<string | number>): unknown {
  let v = value;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(v) || step >= v.length) return MISSING;
      v = v[step];
    } else {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, step)) return MISSING;
      v = (v as Dict)[step];
    }
  }
  return v;
}

/** Splits a template into literal text and placeholders; throws LineRuleError on bad syntax. */
export function parseTemplate(template: string, field: string, kind: 'text' | 'json', groups: ReadonlySet<string>, groupCount: number): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i] as string;
    if (c === '{' && template[i + 1] === '{') {
      literal += '{';
      i += 2;
      continue;
    }
    if (c === '}' && template[i + 1] === '}') {
      literal += '}';
      i += 2;
      continue;
    }
    if (c === '}') throw new LineRuleError(field, `unmatched "}" at ${i}; write "}}" for a literal brace`);
    if (c !== '{') {
      literal += c;
      i++;
      continue;
    }
    const end = template.indexOf('}', i);
    if (end === -1) throw new LineRuleError(field, `unclosed "{" at ${i}; write "{{" for a literal brace`);
    const inner = template.slice(i + 1, end);
    const colon = inner.lastIndexOf(':');
    const name = colon === -1 ? inner : inner.slice(0, colon);
    const typeText = colon === -1 ? undefined : inner.slice(colon + 1);
    let type: PlaceholderType | undefined;
    if (typeText !== undefined) {
      if (!(placeholderTypes as readonly string[]).includes(typeText))
        throw new LineRuleError(field, `unknown type "${typeText}" in {${inner}}; use ${placeholderTypes.join(', ')}`);
      type = typeText as PlaceholderType;
    }
    let source: Source;
    if (name === 'port') source = { kind: 'port' };
    else if (name === 'line') source = { kind: 'line' };
    else if (name.startsWith('$')) {
      if (kind !== 'json') throw new LineRuleError(field, `{${inner}}: JSON paths need "json": true`);
      const steps = parseJsonPath(name);
      if (!steps) throw new LineRuleError(field, `{${inner}}: a JSON path is $, $.name, $.a.b or $.list[0]`);
      source = { kind: 'path', steps };
    } else if (/^\d+$/.test(name)) {
      const n = Number(name);
      if (kind !== 'text' || n < 1 || n > groupCount) throw new LineRuleError(field, `{${inner}}: the pattern has no group ${name}`);
      source = { kind: 'group', key: n };
    } else {
      if (kind !== 'text' || !groups.has(name))
        throw new LineRuleError(
          field,
          `{${inner}}: unknown placeholder; use port, line, ${kind === 'text' ? 'a named group of "match" or a group number' : 'or a JSON path like $.value'}`,
        );
      source = { kind: 'group', key: name };
    }
    if (literal) parts.push(literal);
    literal = '';
    parts.push({ text: `{${inner}}`, source, type });
    i = end + 1;
  }
  if (literal || parts.length === 0) parts.push(literal);
  return parts;
}

function lookup(source: Source, scope: Scope): unknown {
  switch (source.kind) {
    case 'port':
      return scope.port;
    case 'line':
      return scope.line;
    case 'group': {
      const g = scope.groups;
      if (!g) return MISSING;
      const v = typeof source.key === 'number' ? g[source.key] : g.groups?.[source.key];
      return v === undefined ? MISSING : v;
    }
    case 'path':
      return readPath(scope.json, source.steps);
  }
}

const TRUE_WORDS = new Set(['true', '1', 'on', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'off', 'no']);

function convert(value: unknown, type: PlaceholderType | undefined, text: string): unknown {
  switch (type) {
    case undefined:
      return value;
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'number':
    case 'int': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n)) throw new Skip(`${text} is not a number: ${JSON.stringify(value)}`);
      if (type === 'int' && !Number.isInteger(n)) throw new Skip(`${text} is not an integer: ${JSON.stringify(value)}`);
      return n;
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      const word = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim().toLowerCase() : '';
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      throw new Skip(`${text} is not a boolean: ${JSON.stringify(value)}`);
    }
    case 'json': {
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        throw new Skip(`${text} is not JSON: ${JSON.stringify(value)}`);
      }
    }
  }
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A compiled template value: produces the JSON value for args/kwargs. */
type Producer = (scope: Scope) => unknown;

function compileValue(value: unknown, field: string, kind: 'text' | 'json', groups: ReadonlySet<string>, groupCount: number): Producer {
  if (typeof value === 'string') {
    const parts = parseTemplate(value, field, kind, groups, groupCount);
    const only = parts.length === 1 ? parts[0] : undefined;
    if (typeof only === 'string') return () => only;
    if (only !== undefined) {
      // A whole-string placeholder keeps its type; a missing value (an optional group that did
      // not take part, an absent JSON field) is null rather than a failed rule.
      return (scope) => {
        const v = lookup(only.source, scope);
        return v === MISSING ? null : convert(v, only.type, only.text);
      };
    }
    return (scope) => {
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') out += p;
        else {
          const v = lookup(p.source, scope);
          if (v !== MISSING) out += asText(convert(v, p.type, p.text));
        }
      }
      return out;
    };
  }
  if (Array.isArray(value)) {
    const items = value.map((v, i) => compileValue(v, `${field}[${i}]`, kind, groups, groupCount));
    return (scope) => items.map((p) => p(scope));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Dict).map(([k, v]) => [k, compileValue(v, `${field}.${k}`, kind, groups, groupCount)] as const);
    return (scope) => {
      const out: Dict = {};
      for (const [k, p] of entries) out[k] = p(scope);
      return out;
    };
  }
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw new LineRuleError(field, 'must be JSON (string, number, boolean, null, list or object)');
  }
  return () => value;
}

function compileTopic(template: string, kind: 'text' | 'json', groups: ReadonlySet<string>, groupCount: number): (scope: Scope) => string {
  const parts = parseTemplate(template, 'topic', kind, groups, groupCount);
  const sample = parts.map((p) => (typeof p === 'string' ? p : 'x')).join('');
  if (!isValidUri(sample, 'loose'))
    throw new LineRuleError('topic', `"${template}" is not a topic URI template (components separated by ".", no spaces or "#")`);
  if (sample.startsWith('wamp.')) throw new LineRuleError('topic', '"wamp." topics are reserved for the router');
  return (scope) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') {
        out += p;
        continue;
      }
      const v = lookup(p.source, scope);
      if (v === MISSING || v === null) throw new Skip(`${p.text} is missing for the topic`);
      const s = asText(convert(v, p.type, p.text));
      // A value must not add or remove URI components: "a.b" would silently reroute.
      if (s === '' || /[\s.#]/.test(s)) throw new Skip(`${p.text} = ${JSON.stringify(s)} cannot be part of a topic`);
      out += s;
    }
    if (out.startsWith('wamp.')) throw new Skip(`topic "${out}" is reserved`);
    return out;
  };
}

// ---- rules ----------------------------------------------------------------------------------

interface CompiledRule {
  /** null: the rule does not apply to this line (reason kept for the unmatched event). */
  apply(line: string, port: string): LineMapping | Skip | null;
}

const RULE_KEYS = ['match', 'flags', 'json', 'where', 'topic', 'args', 'kwargs', 'retain'];

function isPlainObject(v: unknown): v is Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Compiles one rule; throws LineRuleError naming the field at fault. */
export function compileLineRule(spec: unknown, index: number): CompiledRule {
  if (!isPlainObject(spec)) throw new LineRuleError('', 'must be an object like { "match": "^T=(?<value>.*)$", "topic": "sensors.{port}.temperature" }');
  for (const k of Object.keys(spec)) if (!RULE_KEYS.includes(k)) throw new LineRuleError(k, `unknown key (allowed: ${RULE_KEYS.join(', ')})`);
  const isJson = spec.json === true;
  if (spec.json !== undefined && typeof spec.json !== 'boolean') throw new LineRuleError('json', 'must be true or false');
  if (isJson && spec.match !== undefined) throw new LineRuleError('match', 'a rule has either "match" (text) or "json": true, not both');
  if (!isJson && spec.match === undefined) throw new LineRuleError('match', 'a rule needs "match" (a regular expression) or "json": true');
  if (typeof spec.topic !== 'string' || spec.topic === '') throw new LineRuleError('topic', 'must be a topic template like "sensors.{port}.temperature"');
  if (spec.retain !== undefined && typeof spec.retain !== 'boolean') throw new LineRuleError('retain', 'must be true or false');
  if (spec.args !== undefined && !Array.isArray(spec.args)) throw new LineRuleError('args', 'must be a list of templates');
  if (spec.kwargs !== undefined && !isPlainObject(spec.kwargs)) throw new LineRuleError('kwargs', 'must be an object of templates');

  let regex: RegExp | undefined;
  const groups = new Set<string>();
  let groupCount = 0;
  if (!isJson) {
    if (typeof spec.match !== 'string') throw new LineRuleError('match', 'must be a regular expression string');
    if (spec.flags !== undefined && (typeof spec.flags !== 'string' || !/^[isu]*$/.test(spec.flags) || new Set(spec.flags).size !== spec.flags.length)) {
      throw new LineRuleError('flags', 'may hold only i, s and u, each once');
    }
    try {
      regex = new RegExp(spec.match, typeof spec.flags === 'string' ? spec.flags : '');
      // An alternation with the empty pattern always matches, revealing every group.
      const probe = new RegExp(`${spec.match}|`, regex.flags).exec('') as RegExpExecArray;
      groupCount = probe.length - 1;
      for (const g of Object.keys(probe.groups ?? {})) groups.add(g);
    } catch (err) {
      throw new LineRuleError('match', `not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const g of ['port', 'line']) if (groups.has(g)) throw new LineRuleError('match', `the group name "${g}" is taken by the built-in placeholder`);
  } else if (spec.flags !== undefined) throw new LineRuleError('flags', 'only for "match" rules');

  const where: Array<{ steps: Array<string | number>; value: unknown; path: string }> = [];
  if (spec.where !== undefined) {
    if (!isJson) throw new LineRuleError('where', 'only for "json": true rules');
    if (!isPlainObject(spec.where)) throw new LineRuleError('where', 'must be an object like { "$.kind": "temperature" }');
    for (const [path, value] of Object.entries(spec.where)) {
      const steps = parseJsonPath(path);
      if (!steps) throw new LineRuleError(`where.${path}`, 'keys are JSON paths: $.name, $.a.b, $.list[0]');
      if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
        throw new LineRuleError(`where.${path}`, 'must be a string, number, boolean or null');
      where.push({ steps, value, path });
    }
  }

  const kind = isJson ? 'json' : 'text';
  const topic = compileTopic(spec.topic, kind, groups, groupCount);
  const args = spec.args !== undefined ? compileValue(spec.args, 'args', kind, groups, groupCount) : undefined;
  const kwargs = spec.kwargs !== undefined ? compileValue(spec.kwargs, 'kwargs', kind, groups, groupCount) : undefined;
  const options: Dict = spec.retain === true ? { retain: true } : {};

  const build = (scope: Scope, defaultValue: unknown, isDefaultObject: boolean): LineMapping | Skip => {
    try {
      const out: LineMapping = { kind: 'publish', rule: index, topic: topic(scope), args: [], options: { ...options } };
      if (args) out.args = args(scope) as unknown[];
      else if (!isDefaultObject) out.args = [defaultValue];
      if (kwargs) out.kwargs = kwargs(scope) as Dict;
      else if (!args && isDefaultObject) out.kwargs = defaultValue as Dict;
      return out;
    } catch (err) {
      if (err instanceof Skip) return err;
      throw err;
    }
  };

  if (regex) {
    const re = regex;
    return {
      apply(line, port) {
        const groupsFound = re.exec(line);
        if (!groupsFound) return null;
        return build({ port, line, groups: groupsFound }, line, false);
      },
    };
  }
  return {
    apply(line, port) {
      let json: unknown;
      try {
        json = JSON.parse(line) as unknown;
      } catch {
        return new Skip('not JSON');
      }
      for (const w of where) if (readPath(json, w.steps) !== w.value) return null;
      return build({ port, line, json }, json, isPlainObject(json));
    },
  };
}

/** An ordered list of compiled rules: the first that applies to a line wins. */
export class LineRules {
  private constructor(private readonly rules: CompiledRule[]) {}

  /** Throws LineRuleError (with `index`) at the first bad rule; config.ts reports them all. */
  static compile(specs: readonly unknown[]): LineRules {
    return new LineRules(
      specs.map((spec, i) => {
        try {
          return compileLineRule(spec, i);
        } catch (err) {
          if (err instanceof LineRuleError) throw new LineRuleError(`[${i}]${err.field ? '.' + err.field : ''}`, err.message);
          throw err;
        }
      }),
    );
  }

  get size(): number {
    return this.rules.length;
  }

  /** Maps one line (without its newline); never throws. */
  map(line: string, port: string): LineMapping {
    let reason = this.rules.length === 0 ? 'no rules' : 'no rule matched';
    for (const rule of this.rules) {
      let r: LineMapping | Skip | null;
      try {
        r = rule.apply(line, port);
      } catch (err) {
        // A rule bug must not stop the bridge; the line goes to the unmatched topic.
        r = new Skip(`rule failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (r === null) continue;
      if (r instanceof Skip) {
        reason = r.reason;
        continue;
      }
      return r;
    }
    return { kind: 'unmatched', reason };
  }
}

/** Every problem of a rule list, each with the field at fault relative to `path`. */
export function checkLineRules(value: unknown, path: string): Array<{ path: string; message: string }> {
  if (!Array.isArray(value)) return [{ path, message: 'must be a list of rules' }];
  const problems: Array<{ path: string; message: string }> = [];
  value.forEach((spec, i) => {
    try {
      compileLineRule(spec, i);
    } catch (err) {
      if (err instanceof LineRuleError) problems.push({ path: `${path}[${i}]${err.field ? '.' + err.field : ''}`, message: err.message });
      else throw err;
    }
  });
  return problems;
}
