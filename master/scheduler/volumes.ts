/**
 * What a pod's claims mean for its placement (kube-scheduler's VolumeBinding plugin, simplified): a bound
 * claim's volume node affinity joins the pod's required node affinity (a local-path pod runs where its
 * directory is); an unbound WaitForFirstConsumer claim lets the pod go anywhere, and the node it gets is
 * written on the claim (`volume.kubernetes.io/selected-node`) before the pod is bound, so the provisioner
 * makes the volume there; a claim that is missing, being deleted or unbound without WaitForFirstConsumer
 * keeps the pod Pending with kube-scheduler's reason.
 */
import type { NodeSelectorRequirement, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../protocol/index.js';
import type { Informers } from '../informer.js';
import { hostnameLabel } from '../controllers/daemonset/eligibility.js';
import { claimPlacement, claimsOf } from '../controllers/volumes/match.js';

/** A pod's volumes as the scheduler sees them. */
export interface VolumeFit {
  /** Why the pod cannot be placed now (it is retried when claims or volumes change). */
  blocked?: string;
  /** Node affinity the volumes add: each entry a list of ORed terms, all ANDed. */
  terms: NodeSelectorRequirement[][][];
  /** Unbound WaitForFirstConsumer claims without a node yet: the pod's node becomes theirs. */
  select: string[];
  /** The nodes the volumes pin the pod to, for the explanation when none fits. */
  nodes: string[];
}

/** The fit of a pod's volumes, from the cache. */
export function volumeFit(pod: Pod, informers: Informers): VolumeFit {
  const fit: VolumeFit = { terms: [], select: [], nodes: [] };
  const ns = pod.metadata.namespace;
  for (const name of claimsOf(pod)) {
    const p = claimPlacement(
      name,
      informers.get('PersistentVolumeClaim', ns, name),
      (n) => informers.get('PersistentVolume', undefined, n),
      (n) => informers.get('StorageClass', undefined, n),
    );
    if (p.kind === 'blocked') return { ...fit, blocked: p.reason };
    if (p.kind === 'bound' && p.terms) {
      fit.terms.push(p.terms);
      for (const t of p.terms) for (const r of t) if (r.key === hostnameLabel && r.operator === 'In') fit.nodes.push(...(r.values ?? []));
    }
    if (p.kind === 'waiting' && p.node) {
      fit.terms.push([[{ key: hostnameLabel, operator: 'In', values: [p.node] }]]);
      fit.nodes.push(p.node);
    }
    if (p.kind === 'waiting' && !p.node) fit.select.push(name);
  }
  return fit;
}
