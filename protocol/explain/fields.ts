/**
 * Lookups in the field descriptions: the doc at a path (`skiff explain deployment.spec.strategy`) and
 * the fields of an object the descriptions do not know (apply's `Warning: unknown field "spec.replicsa"`,
 * as kubectl's field validation in warn mode). Status and maps of user keys are not walked.
 */
import { SkiffError } from '../errors.js';
import type { KindInfo } from '../kinds.js';
import { kindDocs } from './kinds.js';
import type { FieldDoc, KindDoc } from './types.js';

/** The documentation of a kind, or undefined when there is none. */
export function kindDoc(kind: string): KindDoc | undefined {
  return Object.hasOwn(kindDocs, kind) ? kindDocs[kind] : undefined;
}

/** The field at `path` (`spec.template.spec.containers`); throws `field "x" does not exist`, as kubectl. */
export function fieldAt(kind: KindInfo, path: string[]): FieldDoc | undefined {
  const doc = kindDoc(kind.kind);
  if (!doc) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `no documentation for ${kind.kind}`);
  let fields: Record<string, FieldDoc> | undefined = doc.fields;
  let at: FieldDoc | undefined;
  for (const name of path) {
    at = fields && Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (!at) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `field "${name}" does not exist`);
    fields = at.fields;
  }
  return at;
}

/** Paths of fields in `o` that the kind's documentation does not describe (status and `map[...]` fields are not walked). */
export function unknownFields(kind: string, o: unknown): string[] {
  const doc = kindDoc(kind);
  if (!doc || !isMap(o)) return [];
  const out: string[] = [];
  walk(doc.fields, o, '', out);
  return out;
}

function walk(fields: Record<string, FieldDoc>, o: Record<string, unknown>, prefix: string, out: string[]): void {
  for (const [k, v] of Object.entries(o)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (!prefix && k === 'status') continue;
    const f = Object.hasOwn(fields, k) ? fields[k] : undefined;
    if (!f) {
      out.push(path);
      continue;
    }
    if (!f.fields) continue;
    if (Array.isArray(v)) v.forEach((item) => isMap(item) && walk(f.fields!, item, path, out));
    else if (isMap(v)) walk(f.fields, v, path, out);
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
