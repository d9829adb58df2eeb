// The line-mode rules: compiles rules from config and maps one text line from a serial sensor to
// a WAMP publication (topic, args, kwargs, options) or to "unmatched" with a reason. Pure: no I/O,
// no sessions. Templates are line-templates.ts's; the language is documented in docs/serial-bridge.md.
//
// A rule is either a text rule (`match`: a regular expression) or a JSON rule (`json: true`).
// The first rule that applies wins; `topic` and the strings inside `args` / `kwargs` are templates
// (line-templates.ts).

import type { Dict } from '../../protocol/messages';
import { isObject } from '../../config/validate';
import { compileTopic, compileValue, LineRuleError, parseJsonPath, readPath, Skip, type Scope } from './line-templates';

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

export type LineMapping =
  { kind: 'publish'; rule: number; topic: string; args: unknown[]; kwargs?: Dict; options: Dict } | { kind: 'unmatched'; reason: string };

// ---- rules ----------------------------------------------------------------------------------

interface CompiledRule {
  /** null: the rule does not apply to this line (reason kept for the unmatched event). */
  apply(line: string, port: string): LineMapping | Skip | null;
}

const RULE_KEYS = ['match', 'flags', 'json', 'where', 'topic', 'args', 'kwargs', 'retain'];

/** Compiles one rule; throws LineRuleError naming the field at fault. */
export function compileLineRule(spec: unknown, index: number): CompiledRule {
  if (!isObject(spec)) throw new LineRuleError('', 'must be an object like { "match": "^T=(?<value>.*)$", "topic": "sensors.{port}.temperature" }');
  for (const k of Object.keys(spec)) if (!RULE_KEYS.includes(k)) throw new LineRuleError(k, `unknown key (allowed: ${RULE_KEYS.join(', ')})`);
  const isJson = spec.json === true;
  if (spec.json !== undefined && typeof spec.json !== 'boolean') throw new LineRuleError('json', 'must be true or false');
  if (isJson && spec.match !== undefined) throw new LineRuleError('match', 'a rule has either "match" (text) or "json": true, not both');
  if (!isJson && spec.match === undefined) throw new LineRuleError('match', 'a rule needs "match" (a regular expression) or "json": true');
  if (typeof spec.topic !== 'string' || spec.topic === '') throw new LineRuleError('topic', 'must be a topic template like "sensors.{port}.temperature"');
  if (spec.retain !== undefined && typeof spec.retain !== 'boolean') throw new LineRuleError('retain', 'must be true or false');
  if (spec.args !== undefined && !Array.isArray(spec.args)) throw new LineRuleError('args', 'must be a list of templates');
  if (spec.kwargs !== undefined && !isObject(spec.kwargs)) throw new LineRuleError('kwargs', 'must be an object of templates');

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
    if (!isObject(spec.where)) throw new LineRuleError('where', 'must be an object like { "$.kind": "temperature" }');
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
      return build({ port, line, json }, json, isObject(json));
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
