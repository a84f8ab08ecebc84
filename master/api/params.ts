/** Checking API request parameters: each failure names the parameter and the rule. */
import { Checker, SkiffError, kindOf, matchesFields, matchesRequirements, parseFieldSelector, parseSelector, type ApiRequest, type KindInfo, type KObject } from '../../protocol/index.js';

/** Reads the common `{kind, name?, namespace?}` parameters; `needName` requires a name. */
export function target(req: ApiRequest, needName: boolean): { kind: KindInfo; name: string; namespace: string | undefined } {
  const c = new Checker(`request ${req.verb}`);
  c.string(req.kind, 'kind', true);
  c.string(req.name, 'name', needName);
  c.string(req.namespace, 'namespace');
  badRequest(c);
  const kind = kindOf(req.kind as string);
  const namespace = kind.namespaced ? ((req.namespace as string) || 'default') : undefined;
  return { kind, name: (req.name as string) ?? '', namespace };
}

/** Turns collected rule failures into one SKIFF_ERR_BAD_REQUEST. */
export function badRequest(c: Checker): void {
  try {
    c.throwIfAny();
  } catch (err) {
    const e = err as SkiffError;
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', e.message, e.details);
  }
}

/**
 * The `labelSelector` and `fieldSelector` of a list or watch as one predicate; bad selectors are
 * SKIFF_ERR_BAD_REQUEST naming the term (fields: only those the kind serves, protocol/field-selector.ts).
 */
export function selection(req: ApiRequest, kind: KindInfo): (o: KObject) => boolean {
  const c = new Checker(`request ${req.verb}`);
  c.string(req.labelSelector, 'labelSelector');
  c.string(req.fieldSelector, 'fieldSelector');
  badRequest(c);
  const labels = typeof req.labelSelector === 'string' ? parseSelector(req.labelSelector) : [];
  const fields = typeof req.fieldSelector === 'string' ? parseFieldSelector(req.fieldSelector, kind.kind) : [];
  return (o) => matchesRequirements(labels, o.metadata.labels) && matchesFields(fields, o);
}
