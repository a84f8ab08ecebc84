/**
 * Label selectors: the structured form (matchLabels + matchExpressions) and kubectl's string form
 * (`app=web,tier!=db,env in (prod,qa),!canary`), parsed to one structure and matched against labels.
 */
import { SkiffError } from './errors.js';
import type { Checker } from './check.js';
import type { LabelSelector, LabelSelectorRequirement, StringMap } from './types.js';

/** A requirement after normalisation; `!=` is NotIn with one value, `=`/`==` is In with one value. */
export type Requirement = LabelSelectorRequirement;

/** Converts a structured selector to a flat list of requirements (AND). */
export function requirementsOf(sel: LabelSelector | undefined): Requirement[] {
  if (!sel) return [];
  const reqs: Requirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, operator: 'In', values: [v] }));
  return reqs.concat(sel.matchExpressions ?? []);
}

/** True when the labels satisfy every requirement. An empty selector matches everything. */
export function matchesRequirements(reqs: readonly Requirement[], labels: StringMap | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.operator) {
      case 'In':
        if (!has || !(r.values ?? []).includes(l[r.key])) return false;
        break;
      case 'NotIn':
        if (has && (r.values ?? []).includes(l[r.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** True when the labels match a structured selector. */
export function matchesSelector(sel: LabelSelector | undefined, labels: StringMap | undefined): boolean {
  return matchesRequirements(requirementsOf(sel), labels);
}

/** True when a selector selects nothing-in-particular (no terms). Kubernetes: an empty selector matches all. */
export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return requirementsOf(sel).length === 0;
}

/** Parses kubectl's `-l` string form. Throws SKIFF_ERR_VALIDATION naming the bad term. */
export function parseSelector(s: string): Requirement[] {
  const reqs: Requirement[] = [];
  const text = s.trim();
  if (text === '') return reqs;
  // Split on commas that are not inside parentheses.
  const terms: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(cur);
      cur = '';
    } else cur += ch;
  }
  terms.push(cur);
  for (const raw of terms) {
    const t = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([A-Za-z0-9._/-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t)))
      reqs.push({ key: m[1], operator: m[2] === 'in' ? 'In' : 'NotIn', values: m[3].split(',').map((v) => v.trim()).filter((v) => v !== '') });
    else if ((m = /^([A-Za-z0-9._/-]+)\s*!=\s*([A-Za-z0-9._-]*)$/.exec(t))) reqs.push({ key: m[1], operator: 'NotIn', values: [m[2]] });
    else if ((m = /^([A-Za-z0-9._/-]+)\s*==?\s*([A-Za-z0-9._-]*)$/.exec(t))) reqs.push({ key: m[1], operator: 'In', values: [m[2]] });
    else if ((m = /^!\s*([A-Za-z0-9._/-]+)$/.exec(t))) reqs.push({ key: m[1], operator: 'DoesNotExist' });
    else if ((m = /^([A-Za-z0-9._/-]+)$/.exec(t))) reqs.push({ key: m[1], operator: 'Exists' });
    else
      throw new SkiffError('SKIFF_ERR_VALIDATION', `selector: "${t}": must be key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)`, [
        { field: 'selector', rule: `"${t}" is not a selector term` },
      ]);
  }
  return reqs;
}

/** Formats a structured selector the way kubectl shows it (`app=web,env in (a,b)`). */
export function formatSelector(sel: LabelSelector | StringMap | undefined): string {
  if (!sel) return '<none>';
  const structured = 'matchLabels' in sel || 'matchExpressions' in sel;
  const reqs = structured ? requirementsOf(sel as LabelSelector) : requirementsOf({ matchLabels: sel as StringMap });
  if (reqs.length === 0) return '<none>';
  return reqs
    .map((r) => {
      if (r.operator === 'In' && r.values?.length === 1) return `${r.key}=${r.values[0]}`;
      if (r.operator === 'NotIn' && r.values?.length === 1) return `${r.key}!=${r.values[0]}`;
      if (r.operator === 'Exists') return r.key;
      if (r.operator === 'DoesNotExist') return `!${r.key}`;
      return `${r.key} ${r.operator.toLowerCase()} (${(r.values ?? []).join(',')})`;
    })
    .join(',');
}

/** Checks a structured selector at field `f`. */
export function checkSelector(c: Checker, sel: unknown, f: string, required = false): boolean {
  if (!c.object(sel, f, required)) return false;
  c.labels(sel.matchLabels, `${f}.matchLabels`);
  if (c.array(sel.matchExpressions, `${f}.matchExpressions`))
    sel.matchExpressions.forEach((e: any, i: number) => {
      const p = `${f}.matchExpressions[${i}]`;
      if (!c.object(e, p, true)) return;
      c.string(e.key, `${p}.key`, true);
      c.oneOf(e.operator, `${p}.operator`, ['In', 'NotIn', 'Exists', 'DoesNotExist'], true);
      c.stringList(e.values, `${p}.values`);
      const n = Array.isArray(e.values) ? e.values.length : 0;
      if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) c.fail(`${p}.values`, `must not be empty for ${e.operator}`);
      if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) c.fail(`${p}.values`, `must be empty for ${e.operator}`);
    });
  return true;
}
