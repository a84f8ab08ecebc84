/**
 * The labels every container the agent makes carries (kubelet's `io.kubernetes.*` labels, Skiff's names):
 * they are the driver's records. After an agent restart the engine is asked for the containers labelled with
 * this node, and a pod's containers are found by pod uid and container name — nothing is kept in the data dir.
 */

/** Label keys. */
export const L = {
  /** The node name: several agents may share one engine (tests; a board running two), each sees its own. */
  node: 'io.skiff.node',
  podUid: 'io.skiff.pod.uid',
  podName: 'io.skiff.pod.name',
  podNamespace: 'io.skiff.pod.namespace',
  container: 'io.skiff.container.name',
  /** The attempt's restartCount. */
  attempt: 'io.skiff.container.attempt',
  /** sandbox (the pod's infra container holding its network namespace) or container. */
  role: 'io.skiff.role',
  /** terminationGracePeriodSeconds × 1000, so a reap gives a leftover its own grace. */
  graceMs: 'io.skiff.grace-ms',
  /** When the attempt was started, ISO time (the engine's StartedAt is the process's, after the image pull). */
  startedAt: 'io.skiff.started-at',
} as const;

/** What a label set says about one container; undefined when the labels are not Skiff's or not complete. */
export interface Labelled {
  node: string;
  podUid: string;
  podName: string;
  namespace: string;
  role: 'sandbox' | 'container';
  /** Container name (containers only). */
  container?: string;
  attempt: number;
  graceMs: number;
  startedAt?: Date;
}

/** The labels of a sandbox or container attempt. */
export function labelsFor(x: Omit<Labelled, 'startedAt'> & { startedAt?: Date }): Record<string, string> {
  return {
    [L.node]: x.node,
    [L.podUid]: x.podUid,
    [L.podName]: x.podName,
    [L.podNamespace]: x.namespace,
    [L.role]: x.role,
    ...(x.container !== undefined ? { [L.container]: x.container } : {}),
    [L.attempt]: String(x.attempt),
    [L.graceMs]: String(x.graceMs),
    ...(x.startedAt ? { [L.startedAt]: x.startedAt.toISOString() } : {}),
  };
}

/** Reads a label set back (labels are strings anyone with the engine's socket could have set: checked). */
export function readLabels(labels: Record<string, string> | undefined | null): Labelled | undefined {
  if (!labels || typeof labels !== 'object') return undefined;
  const get = (k: string) => (Object.prototype.hasOwnProperty.call(labels, k) && typeof labels[k] === 'string' ? labels[k] : undefined);
  const node = get(L.node);
  const podUid = get(L.podUid);
  const role = get(L.role);
  if (!node || !podUid || (role !== 'sandbox' && role !== 'container')) return undefined;
  const container = get(L.container);
  if (role === 'container' && !container) return undefined;
  const attempt = Number(get(L.attempt));
  const grace = Number(get(L.graceMs));
  const started = Date.parse(get(L.startedAt) ?? '');
  return {
    node,
    podUid,
    podName: get(L.podName) ?? '',
    namespace: get(L.podNamespace) ?? '',
    role,
    ...(container ? { container } : {}),
    attempt: Number.isInteger(attempt) && attempt >= 0 ? attempt : 0,
    graceMs: Number.isFinite(grace) && grace >= 0 ? grace : 30_000,
    ...(Number.isNaN(started) ? {} : { startedAt: new Date(started) }),
  };
}

/** The engine's `filters` for listing containers by label (`{"label": ["k=v", ...]}`). */
export function labelFilter(pairs: Record<string, string>): string {
  return JSON.stringify({ label: Object.entries(pairs).map(([k, v]) => `${k}=${v}`) });
}
