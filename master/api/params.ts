/** Checking API request parameters: each failure names the parameter and the rule. */
import { Checker, SkiffError, kindOf, type ApiRequest, type KindInfo } from '../../protocol/index.js';

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
