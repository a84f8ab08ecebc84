/**
 * Which labels a node may put on its own Node object: Kubernetes' NodeRestriction admission plugin, as the
 * kubelet is held to it (its --node-labels at registration and its own status updates alike). Labels outside
 * the `kubernetes.io` and `k8s.io` namespaces are the node's to set, except Skiff's own `skiff.io` namespace;
 * inside them only the well-known labels a kubelet sets, and `kubernetes.io/hostname` only to its own name.
 * `node-role.kubernetes.io/*` and `node-restriction.kubernetes.io/*` are the administrator's (apply the Node).
 * The agent checks its --labels with this at start; the master checks joins and status messages.
 */

/** kubernetes.io labels a kubelet may set (k8s.io/api/core/v1 well-known labels; kubelet's allowed set). */
const kubeletLabels: ReadonlySet<string> = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
]);

/** kubernetes.io namespaces a kubelet may set anything under. */
const kubeletPrefixes = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

/** True when `prefix` is `domain` or a subdomain of it. */
function within(prefix: string, domain: string): boolean {
  return prefix === domain || prefix.endsWith('.' + domain);
}

/** Why node `node` may not set label `key` = `value` on itself, or undefined when it may. */
export function nodeLabelRefusal(node: string, key: string, value: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  if (key === 'kubernetes.io/hostname') return value === node ? undefined : `a node may set kubernetes.io/hostname only to its own name "${node}"`;
  if (within(prefix, 'node-restriction.kubernetes.io') || within(prefix, 'node-role.kubernetes.io'))
    return `${prefix}/ labels are set by an administrator (apply the Node), not by the node itself`;
  if (within(prefix, 'kubernetes.io') || within(prefix, 'k8s.io')) {
    if (kubeletLabels.has(key) || kubeletPrefixes.includes(prefix)) return undefined;
    return `a node may set only the well-known kubernetes.io labels a kubelet sets (${[...kubeletLabels].slice(0, 3).join(', ')}, topology.kubernetes.io/zone, …)`;
  }
  if (within(prefix, 'skiff.io')) return `${prefix}/ labels are set by the master`;
  return undefined;
}
