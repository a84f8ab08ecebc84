/** `-o json|yaml|name` and the `kind.group/name` spelling kubectl uses in its messages. */
import { stringify } from 'yaml';
import { findKind, type KObject } from '../../protocol/index.js';

/** `deployment.apps` for apps/v1 kinds, `pod` for core v1 ones: how kubectl names a resource type. */
export function resourceType(kind: string, apiVersion?: string): string {
  const av = apiVersion ?? findKind(kind)?.apiVersion ?? 'v1';
  const group = av.includes('/') ? av.slice(0, av.indexOf('/')) : '';
  return group ? `${kind.toLowerCase()}.${group}` : kind.toLowerCase();
}

/** `deployment.apps/web`. */
export function resourceName(o: Pick<KObject, 'kind' | 'apiVersion' | 'metadata'>): string {
  return `${resourceType(o.kind, o.apiVersion)}/${o.metadata.name}`;
}

/** Fills apiVersion and kind on list items that came without them, so each item stands alone. */
export function withTypeMeta(o: KObject, kind: string): KObject {
  if (o.apiVersion && o.kind) return o;
  const info = findKind(kind);
  const { apiVersion, kind: k, ...rest } = o;
  // apiVersion and kind first, as Kubernetes prints them.
  return { apiVersion: apiVersion || info?.apiVersion || 'v1', kind: k || info?.kind || kind, ...rest } as KObject;
}

/** The Kubernetes-shaped List of some objects. */
export function asList(items: KObject[]): { apiVersion: 'v1'; kind: 'List'; items: KObject[] } {
  return { apiVersion: 'v1', kind: 'List', items };
}

/** JSON as kubectl prints it: 4-space indent, trailing newline. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, null, 4) + '\n';
}

/** YAML as kubectl prints it: block style, sequences not indented under their key. */
export function toYaml(v: unknown): string {
  // No anchors and aliases for objects that occur twice (a selector sharing the template's labels): kubectl never prints them.
  return stringify(v, { indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false });
}
