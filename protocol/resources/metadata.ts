/** Validation of `metadata`, shared by every kind. */
import type { Checker } from '../check.js';

/** Checks metadata: name (DNS subdomain, or label where `labelName`), namespace, labels, annotations. */
export function checkMetadata(c: Checker, meta: unknown, opts: { namespaced: boolean; labelName?: boolean }): void {
  if (!c.object(meta, 'metadata', true)) return;
  if (meta.name === undefined && typeof meta.generateName === 'string') {
    // generateName: the server appends a random suffix; the prefix must be a valid name start.
    if (!/^[a-z0-9]([-a-z0-9.]*)?$/.test(meta.generateName)) c.fail('metadata.generateName', 'must be a lowercase DNS name prefix', meta.generateName);
  } else if (opts.labelName) c.dnsLabel(meta.name, 'metadata.name', true);
  else c.dnsSubdomain(meta.name, 'metadata.name', true);
  if (opts.namespaced) c.dnsLabel(meta.namespace, 'metadata.namespace');
  else if (meta.namespace !== undefined && meta.namespace !== '') c.fail('metadata.namespace', 'must be empty: this kind is not namespaced', meta.namespace);
  c.labels(meta.labels, 'metadata.labels');
  c.stringMap(meta.annotations, 'metadata.annotations');
  if (c.stringList(meta.finalizers, 'metadata.finalizers'))
    meta.finalizers.forEach((k: string, i: number) => c.labelKey(k, `metadata.finalizers[${i}]`));
}
