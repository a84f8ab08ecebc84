/** The pod-template-hash: a short stable hash of a pod template, as Kubernetes labels ReplicaSets. */
import { createHash } from 'node:crypto';
import type { PodTemplateSpec } from '../../../protocol/index.js';

/** The label a Deployment adds to its ReplicaSets' selectors and pods. */
export const templateHashLabel = 'pod-template-hash';

/** Stable JSON (sorted keys) so equal templates hash equally whatever their key order. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as any)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stable((v as any)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** A template without the hash label (to compare a ReplicaSet's template with the Deployment's). */
export function withoutHash(t: PodTemplateSpec): PodTemplateSpec {
  const c = structuredClone(t);
  if (c.metadata?.labels) delete c.metadata.labels[templateHashLabel];
  return c;
}

/** 10 lowercase alphanumerics derived from the template. */
export function templateHash(t: PodTemplateSpec): string {
  const h = createHash('sha256').update(stable(withoutHash(t))).digest();
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return Array.from(h.subarray(0, 10), (b) => alphabet[b % alphabet.length]).join('');
}

/** True when two templates are equal apart from the hash label. */
export function sameTemplate(a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  return stable(withoutHash(a)) === stable(withoutHash(b));
}
