// The line rules' template language: `{source}` / `{source:type}` placeholders in topics, args
// and kwargs, parsed once at config load and evaluated against one line's scope (port, line,
// regex groups, parsed JSON). Pure; the rules that use it are line-rules.ts's, the language is
// documented in docs/serial-bridge.md.
//   sources  port | line | <regex group name> | <regex group number> | $ | $.a.b[0] (JSON rules)
//   types    string | number | int | bool | json     (none: the value as captured / parsed)
//   `{{` and `}}` are literal braces.
// A string that is exactly one placeholder yields a typed value; anything else yields a string.

import type { Dict } from '../../protocol/messages';
import { isValidUri } from '../../protocol/uri';

export const placeholderTypes = ['string', 'number', 'int', 'bool', 'json'] as const;
export type PlaceholderType = (typeof placeholderTypes)[number];

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

type Source = { kind: 'port' } | { kind: 'line' } | { kind: 'group'; key: string | number } | { kind: 'path'; steps: Array<string | number> };
interface Placeholder {
  text: string;
  source: Source;
  type: PlaceholderType | undefined;
}
type Part = string | Placeholder;

/** What a line offers to templates once a rule applies. */
export interface Scope {
  port: string;
  line: string;
  groups?: RegExpExecArray;
  json?: unknown;
}

/** A conversion or lookup that makes the rule not apply; caught per rule. */
export class Skip {
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

export function readPath(value: unknown, steps: ReadonlyArray<string | number>): unknown {
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

export function compileValue(value: unknown, field: string, kind: 'text' | 'json', groups: ReadonlySet<string>, groupCount: number): Producer {
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

export function compileTopic(template: string, kind: 'text' | 'json', groups: ReadonlySet<string>, groupCount: number): (scope: Scope) => string {
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
