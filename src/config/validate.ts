// The validator kit every config section is written with: "is this an object", unknown keys, and
// typed readers that return the value when it is fine and otherwise record a problem with its
// JSON path (DESIGN §3: report every problem at once). Knows no section; sections use it.

import { isValidUri } from '../protocol/uri';
import { ProblemList, type ConfigProblem } from './problem';

export type Obj = Record<string, unknown>;

/** A plain JSON object (not null, not a list). */
export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `parent.key`, or `key` at the top. */
export function pathOf(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

interface Required {
  /** Absent is a problem ("is required", or `message`). Default: absent is fine (undefined). */
  required?: boolean;
  /** Replaces the default message, for both a bad and a missing value. */
  message?: string;
}

export interface ObjectOptions extends Required {
  /** The unknown-key message for the allowed keys; default "unknown key (allowed: …)". Sections
   * that always said it differently keep their wording, so no message users see changes. */
  unknown?: (allowed: readonly string[]) => string;
}

export interface StringOptions extends Required {
  /** "" is a value (e.g. an MQTT username); default: "" is a problem like a wrong type. */
  allowEmpty?: boolean;
}

export interface IntOptions extends Required {
  min?: number;
  max?: number;
}

/**
 * Collects problems. Each reader checks one value at one path: it returns the value, typed, when
 * it is present and fine, and undefined otherwise (absent, or bad and reported). A section then
 * resolves its defaults with `??` in one place.
 */
export class Check extends ProblemList {
  addAll(problems: readonly ConfigProblem[]): void {
    for (const q of problems) this.add(q.path, q.message);
  }

  /** Reports every key of `obj` not in `allowed`. `what` names the thing (e.g. `mode "frame"`) in
   * the message; `unknown` replaces the message. */
  unknownKeys(obj: Obj, allowed: readonly string[], path: string, what?: string, unknown?: ObjectOptions['unknown']): void {
    const shown = allowed.filter((a) => a !== '$schema');
    const message = unknown ? unknown(shown) : `unknown key${what ? ` for ${what}` : ''} (allowed: ${shown.join(', ')})`;
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) this.add(pathOf(path, k), message);
  }

  /** An object with only `allowed` keys (unknown ones reported, the object still returned). */
  object(v: unknown, path: string, allowed: readonly string[], opts: ObjectOptions = {}): Obj | undefined {
    if (v === undefined && !opts.required) return undefined;
    if (!isObject(v)) {
      this.add(path, opts.message ?? 'must be an object');
      return undefined;
    }
    this.unknownKeys(v, allowed, path, undefined, opts.unknown);
    return v;
  }

  /** A string, non-empty unless `allowEmpty`. */
  string(v: unknown, path: string, opts: StringOptions = {}): string | undefined {
    if (v === undefined) return this.missing(path, opts);
    if (typeof v !== 'string' || (v.length === 0 && !opts.allowEmpty)) {
      this.add(path, opts.message ?? 'must be a non-empty string');
      return undefined;
    }
    return v;
  }

  /** An integer in [min, max]. */
  int(v: unknown, path: string, opts: IntOptions = {}): number | undefined {
    if (v === undefined) return this.missing(path, opts);
    const { min = Number.MIN_SAFE_INTEGER, max } = opts;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || (max !== undefined && v > max)) {
      this.add(path, opts.message ?? (max === undefined ? `must be an integer ≥ ${min}` : `must be an integer from ${min} to ${max}`));
      return undefined;
    }
    return v;
  }

  /** A number (not only integers) in [min, max]. */
  number(v: unknown, path: string, opts: IntOptions & { min: number; max: number }): number | undefined {
    if (v === undefined) return this.missing(path, opts);
    if (typeof v !== 'number' || !(v >= opts.min && v <= opts.max)) {
      this.add(path, opts.message ?? `must be a number from ${opts.min} to ${opts.max}`);
      return undefined;
    }
    return v;
  }

  bool(v: unknown, path: string, opts: Required = {}): boolean | undefined {
    if (v === undefined) return this.missing(path, opts);
    if (typeof v !== 'boolean') {
      this.add(path, opts.message ?? 'must be true or false');
      return undefined;
    }
    return v;
  }

  /** One of a fixed set of strings or numbers. */
  oneOf<T extends string | number>(v: unknown, path: string, allowed: readonly T[], opts: Required = {}): T | undefined {
    if (v === undefined) return this.missing(path, opts);
    if (!(allowed as readonly unknown[]).includes(v)) {
      this.add(path, opts.message ?? `must be one of ${allowed.join(', ')}`);
      return undefined;
    }
    return v as T;
  }

  /** A list (`nonEmpty`: with at least one item); items are the caller's to check. */
  list(v: unknown, path: string, opts: Required & { nonEmpty?: boolean } = {}): unknown[] | undefined {
    if (v === undefined) return this.missing(path, opts);
    if (!Array.isArray(v) || (opts.nonEmpty && v.length === 0)) {
      this.add(path, opts.message ?? (opts.nonEmpty ? 'must be a non-empty list' : 'must be a list'));
      return undefined;
    }
    return v;
  }

  /** A WAMP URI (spec "URIs": loose rules unless `strict`). */
  uri(v: unknown, path: string, opts: Required & { strict?: boolean } = {}): string | undefined {
    if (v === undefined) return this.missing(path, opts);
    if (typeof v !== 'string' || !isValidUri(v, opts.strict ? 'strict' : 'loose')) {
      this.add(path, opts.message ?? 'must be a valid URI');
      return undefined;
    }
    return v;
  }

  private missing(path: string, opts: Required): undefined {
    if (opts.required) this.add(path, opts.message ?? 'is required');
    return undefined;
  }
}
