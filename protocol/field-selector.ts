/**
 * Field selectors (`--field-selector`), as the Kubernetes API server serves them: `=`, `==` and `!=`
 * terms joined by commas, every term must hold. Only the fields the API server indexes for each kind
 * are selectable — `metadata.name` and `metadata.namespace` for every kind, for pods
 * `spec.nodeName` and `status.phase`, for events their involvedObject, reason, type, source and
 * reportingComponent (`involvedObject.name=web-1,type=Warning`) — anything else is refused with the API server's words,
 * `field label not supported: spec.foo`. A missing field compares as the empty string, as there.
 */
import { SkiffError } from './errors.js';
import { isKind } from './kinds.js';
import type { KObject } from './types.js';

/** One term: `field=value` (`op` '=') or `field!=value`. */
export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** How each selectable field is read from an object; the kinds it applies to (undefined: every kind). */
type Field = { kinds?: readonly string[]; read(o: KObject): unknown };
const fields: ReadonlyMap<string, Field> = new Map<string, Field>([
  ['metadata.name', { read: (o: KObject) => o.metadata?.name }],
  ['metadata.namespace', { read: (o: KObject) => o.metadata?.namespace }],
  ['spec.nodeName', { kinds: ['Pod'], read: (o: KObject) => (isKind(o, 'Pod') ? o.spec?.nodeName : undefined) }],
  ['status.phase', { kinds: ['Pod'], read: (o: KObject) => (isKind(o, 'Pod') ? o.status?.phase : undefined) }],
  ...(['kind', 'namespace', 'name', 'uid', 'apiVersion', 'fieldPath'] as const).map(
    (f): [string, Field] => [`involvedObject.${f}`, { kinds: ['Event'], read: (o: KObject) => (o.involvedObject as Record<string, unknown> | undefined)?.[f] }],
  ),
  ['reason', { kinds: ['Event'], read: (o: KObject) => o.reason }],
  ['type', { kinds: ['Event'], read: (o: KObject) => o.type }],
  ['source', { kinds: ['Event'], read: (o: KObject) => (o.source as { component?: string } | undefined)?.component }],
  ['reportingComponent', { kinds: ['Event'], read: (o: KObject) => o.reportingComponent }],
]);

/** The fields selectable on a kind (for messages and docs). */
export function selectableFields(kind: string): string[] {
  return [...fields].filter(([, f]) => !f.kinds || f.kinds.includes(kind)).map(([name]) => name);
}

/**
 * Parses `a=b,c!=d` for `kind`. A backslash escapes `,`, `=`, `!` and itself in a value, as in the
 * API server. Throws SKIFF_ERR_BAD_REQUEST naming the bad term or field.
 */
export function parseFieldSelector(text: string, kind: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const term of splitTerms(text.trim())) {
    if (term === '') continue;
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/s.exec(term);
    if (!m) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `invalid field selector: "${term}": must be FIELD=VALUE, FIELD==VALUE or FIELD!=VALUE`);
    const field = m[1].trim();
    const f = fields.get(field);
    if (!f || (f.kinds && !f.kinds.includes(kind)))
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `field label not supported: ${field} (${kind} supports ${selectableFields(kind).join(', ')})`);
    out.push({ field, op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]) });
  }
  return out;
}

/** True when `o` satisfies every requirement. */
export function matchesFields(reqs: readonly FieldRequirement[], o: KObject): boolean {
  for (const r of reqs) {
    const v = fields.get(r.field)!.read(o);
    const s = v === undefined || v === null ? '' : String(v);
    if ((s === r.value) !== (r.op === '=')) return false;
  }
  return true;
}

/** Splits on commas that are not escaped. */
function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i] + s[++i];
      continue;
    }
    if (s[i] === ',') {
      terms.push(cur.trim());
      cur = '';
    } else cur += s[i];
  }
  terms.push(cur.trim());
  return terms;
}

function unescape(v: string): string {
  return v.trim().replace(/\\(.)/g, '$1');
}
