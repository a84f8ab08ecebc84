/** How commands name their objects: `KIND NAME...` or `KIND/NAME`, and which namespace applies. */
import { kindOf, SkiffError, type KindInfo } from '../protocol/index.js';
import { str, type Values } from './args.js';

/** The namespace when none is given, as in kubectl's default context. */
export const defaultNamespace = 'default';

/** `get pods a b`, `get pod/a pod/b`, `scale deployment/web`: the kind and the names. */
export function parseTarget(verb: string, positionals: string[]): { kind: KindInfo; names: string[] } {
  if (positionals.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${verb}: a kind is required, e.g. "skiff ${verb} pods" (see "skiff ${verb} --help")`);
  if (positionals[0].includes('/')) {
    const pairs = positionals.map((p) => {
      const i = p.indexOf('/');
      if (i <= 0 || i === p.length - 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${verb}: "${p}" must be KIND/NAME`);
      return { kind: kindOf(p.slice(0, i)), name: p.slice(i + 1) };
    });
    const kind = pairs[0].kind;
    const other = pairs.find((p) => p.kind.kind !== kind.kind);
    if (other) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${verb}: mixed kinds (${kind.kind}, ${other.kind.kind}); give one kind at a time`);
    return { kind, names: pairs.map((p) => p.name) };
  }
  return { kind: kindOf(positionals[0]), names: positionals.slice(1) };
}

/** `{namespace}` for a namespaced kind (the -n flag or `default`), `{}` for cluster-scoped ones. */
export function namespaceParam(kind: KindInfo, values: Values): { namespace?: string } {
  return kind.namespaced ? { namespace: str(values, 'namespace') ?? defaultNamespace } : {};
}
