// Interning: the host turns strings (labels, taints, images, ports, runtimes, topology values,
// pod selectors) into small integer ids and bit positions once, so the kernels see only numbers.
import type { EngineLabelSelector } from './types.js';

/** Strings to dense ids, in order of first sight. */
export class Dictionary {
  private readonly ids = new Map<string, number>();
  /** The values by id. */
  readonly values: string[] = [];

  /** The id of `value`, or -1 when unseen. */
  get(value: string): number {
    return this.ids.get(value) ?? -1;
  }

  /** The id of `value`, adding it when unseen. */
  intern(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }

  /** Number of ids handed out. */
  get size(): number {
    return this.values.length;
  }
}

/** metav1 LabelSelector semantics: matchLabels AND matchExpressions; an empty selector matches everything. */
export function selectorMatches(sel: EngineLabelSelector, labels: Record<string, string>): boolean {
  const ml = sel.matchLabels;
  if (ml) for (const k in ml) if (labels[k] !== ml[k]) return false;
  const exprs = sel.matchExpressions;
  if (!exprs) return true;
  for (const e of exprs) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key])) return false;
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

const selectorKeys = new WeakMap<EngineLabelSelector, string>();

/** A canonical string for a selector (sorted), so equal selectors share one counter; memoised per object. */
export function selectorKey(sel: EngineLabelSelector): string {
  let key = selectorKeys.get(sel);
  if (key === undefined) selectorKeys.set(sel, (key = computeSelectorKey(sel)));
  return key;
}

function computeSelectorKey(sel: EngineLabelSelector): string {
  const labels = Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const exprs = (sel.matchExpressions ?? [])
    .map((e) => [e.key, e.operator, [...(e.values ?? [])].sort()] as const)
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return JSON.stringify([labels, exprs]);
}
