/**
 * A small field-path-aware checker: validators call it with a value and its path, it collects every
 * broken rule, and `throwIfAny` raises one SKIFF_ERR_VALIDATION naming the object, field and rule:
 * `Deployment/web: spec.replicas: must be an integer ≥ 0, got "three"`.
 */
import { SkiffError, type FieldError } from './errors.js';
import { parseQuantity } from './quantity.js';

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const envName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Renders a bad value for a message, short. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/** Where field paths are recorded while `recordCheckedFields` runs (explain's drift test); undefined otherwise. */
let sink: Set<string> | undefined;

/**
 * Runs `fn` and returns every field path a Checker looked at meanwhile: the proof, in
 * test/unit/explain.test.ts, that validation checks no field `skiff explain` does not describe.
 */
export function recordCheckedFields<T>(fn: () => T): { result: T; fields: Set<string> } {
  const outer = sink;
  sink = new Set();
  try {
    const result = fn();
    return { result, fields: sink };
  } finally {
    sink = outer;
  }
}

/** Plain-object test (not null, not an array). */
export function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Errors kept per object; beyond them only a count (a map of a million bad keys must not become a million messages). */
const maxErrors = 50;
/** What a value is, without showing it: `a number`, `a string of 12 characters`, `a list`, `a map`, `nothing`. */
function kindOfValue(v: unknown): string {
  if (v === undefined || v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  return typeof v === 'object' ? 'a map' : `a ${typeof v}`;
}

/** Collects field errors for one object. */
export class Checker {
  readonly errors: FieldError[] = [];
  /** Broken rules beyond maxErrors, counted only. */
  private more = 0;
  private hidden = false;

  constructor(readonly subject: string) {}

  /**
   * From now on a broken rule says what kind of value it got, never the value: for Secrets, whose values must not
   * reach a log, an event or an error message, even a wrong one (`stringData[pin]: must be a string, got a number`).
   */
  hideValues(): this {
    this.hidden = true;
    return this;
  }

  /** Records a broken rule at `field`; `got` is shown when given (only its kind once values are hidden). */
  fail(field: string, rule: string, got?: unknown): false {
    sink?.add(field);
    if (this.errors.length >= maxErrors) this.more++;
    else this.errors.push({ field, rule: arguments.length > 2 ? `${rule}, got ${this.hidden ? kindOfValue(got) : show(got)}` : rule });
    return false;
  }

  /** A required value is present. */
  required(v: unknown, field: string): boolean {
    sink?.add(field);
    return v === undefined || v === null ? this.fail(field, 'is required') : true;
  }

  /** A map (object); absent is fine unless required. */
  object(v: unknown, field: string, required = false): v is Record<string, any> {
    sink?.add(field);
    if (v === undefined || v === null) return required ? this.fail(field, 'is required') : false;
    return isObject(v) ? true : this.fail(field, 'must be a map', v);
  }

  /** An array; absent is fine unless required. */
  array(v: unknown, field: string, required = false): v is unknown[] {
    sink?.add(field);
    if (v === undefined || v === null) return required ? this.fail(field, 'is required') : false;
    return Array.isArray(v) ? true : this.fail(field, 'must be a list', v);
  }

  /** A string; absent is fine unless required. */
  string(v: unknown, field: string, required = false): v is string {
    sink?.add(field);
    if (v === undefined || v === null) return required ? this.fail(field, 'is required') : false;
    return typeof v === 'string' ? true : this.fail(field, 'must be a string', v);
  }

  /** A list of strings. */
  stringList(v: unknown, field: string): v is string[] {
    if (!this.array(v, field)) return false;
    let ok = true;
    v.forEach((s, i) => (ok = this.string(s, `${field}[${i}]`, true) && ok));
    return ok;
  }

  /** An integer within [min, max]. */
  int(v: unknown, field: string, min = -Infinity, max = Infinity, required = false): v is number {
    sink?.add(field);
    if (v === undefined || v === null) return required ? this.fail(field, 'is required') : false;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return true;
    const rule =
      max === Infinity ? (min === -Infinity ? 'must be an integer' : `must be an integer ≥ ${min}`) : `must be an integer from ${min} to ${max}`;
    return this.fail(field, rule, v);
  }

  /** A boolean. */
  bool(v: unknown, field: string): v is boolean {
    sink?.add(field);
    if (v === undefined || v === null) return false;
    return typeof v === 'boolean' ? true : this.fail(field, 'must be true or false', v);
  }

  /** One of a fixed set of strings. */
  oneOf<T extends string>(v: unknown, field: string, values: readonly T[], required = false): v is T {
    sink?.add(field);
    if (v === undefined || v === null) return required ? this.fail(field, 'is required') : false;
    return values.includes(v as T) ? true : this.fail(field, `must be one of ${values.join(', ')}`, v);
  }

  /** An RFC 1123 DNS label (names of containers, ports, namespaces). */
  dnsLabel(v: unknown, field: string, required = false): v is string {
    if (!this.string(v, field, required)) return false;
    if (v.length > 63 || !dnsLabel.test(v))
      return this.fail(field, 'must be a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters', v);
    return true;
  }

  /** An RFC 1123 DNS subdomain (names of most objects). */
  dnsSubdomain(v: unknown, field: string, required = false): v is string {
    if (!this.string(v, field, required)) return false;
    if (v.length > 253 || !dnsSubdomain.test(v))
      return this.fail(field, 'must be a DNS subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit', v);
    return true;
  }

  /** A map of label keys to label values (Kubernetes label syntax). */
  labels(v: unknown, field: string): v is Record<string, string> {
    if (!this.object(v, field)) return false;
    let ok = true;
    for (const [k, val] of Object.entries(v)) {
      ok = this.labelKey(k, `${field}[${k}]`) && ok;
      if (typeof val !== 'string') ok = this.fail(`${field}[${k}]`, 'must be a string', val);
      else if (val !== '' && (val.length > 63 || !labelName.test(val)))
        ok = this.fail(`${field}[${k}]`, 'must be a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit', val);
    }
    return ok;
  }

  /** A label key: optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
  labelKey(k: string, field: string): boolean {
    const slash = k.lastIndexOf('/');
    const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
    const name = slash >= 0 ? k.slice(slash + 1) : k;
    if ((prefix !== undefined && (prefix.length > 253 || !dnsSubdomain.test(prefix))) || name.length > 63 || !labelName.test(name))
      return this.fail(field, 'must be a label key: [prefix/]name, name at most 63 letters, digits, "-", "_" or "."', k);
    return true;
  }

  /** A map of strings to strings (annotations, ConfigMap data). */
  stringMap(v: unknown, field: string): v is Record<string, string> {
    if (!this.object(v, field)) return false;
    let ok = true;
    for (const [k, val] of Object.entries(v)) if (typeof val !== 'string') ok = this.fail(`${field}[${k}]`, 'must be a string', val);
    return ok;
  }

  /** An environment variable name. */
  envName(v: unknown, field: string): v is string {
    if (!this.string(v, field, true)) return false;
    return envName.test(v) ? true : this.fail(field, 'must be a valid environment variable name', v);
  }

  /** A Kubernetes quantity ("500m", "128Mi", 2). */
  quantity(v: unknown, field: string): boolean {
    sink?.add(field);
    if (v === undefined || v === null) return false;
    return parseQuantity(v) !== undefined ? true : this.fail(field, 'must be a quantity such as 500m, 2, 128Mi or 1G (finite, at most 8Pi)', v);
  }

  /** An int or a percentage string ("25%"): maxSurge, maxUnavailable. */
  intOrPercent(v: unknown, field: string): boolean {
    sink?.add(field);
    if (v === undefined || v === null) return false;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return true;
    if (typeof v === 'string' && /^[0-9]+%$/.test(v)) return true;
    return this.fail(field, 'must be an integer ≥ 0 or a percentage such as "25%"', v);
  }

  /** A port number 1–65535 (0 allowed where `allowZero`). */
  port(v: unknown, field: string, allowZero = false, required = false): v is number {
    return this.int(v, field, allowZero ? 0 : 1, 65535, required);
  }

  /** Throws one SKIFF_ERR_VALIDATION listing every broken rule, if any. */
  throwIfAny(): void {
    if (this.errors.length === 0) return;
    const list = this.errors.map((e) => `${e.field}: ${e.rule}`).join('; ') + (this.more ? `; and ${this.more} more` : '');
    throw new SkiffError('SKIFF_ERR_VALIDATION', `${this.subject}: ${list}`, this.errors);
  }
}
