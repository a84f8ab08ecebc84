/**
 * How the SQLite store keeps a value in its change log. A value (JSON text) of 64 bytes or more is kept
 * deflated (raw DEFLATE, RFC 1951) with a preset dictionary (RFC 1950 §2.2's FDICT idea): Kubernetes-style
 * objects repeat the same field names in every version of every object, and one pod is ~1 KB of them,
 * so even a single value compresses ~4× against the dictionary (~1.3 KB → ~300 bytes) where deflate alone
 * gets ~2× (docs/scale.md). A deflated value is a BLOB whose first byte names the codec and its dictionary;
 * anything else (a short value, one that would not shrink, every value written by schema 1 and 2) is the JSON
 * text itself. The dictionaries are part of the file format: one is never changed, a new one gets a new tag.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { reusableRaw } from './zlib-reuse.js';
import { SkiffError } from '../../protocol/errors.js';

/**
 * Dictionary 1: the field names and common values of the objects Skiff stores (Pod, Node, Deployment,
 * ReplicaSet, Service, Endpoints, Lease, Event, ...), in the order the master writes them. Deflate reaches
 * back at most 32 KiB and codes nearer matches in fewer bits, so the commonest kind (Pod) comes last.
 */
export const dictionary1 = Buffer.from(
  [
    '{"apiVersion":"v1","kind":"Event","metadata":{"name":"","namespace":"default","uid":"","creationTimestamp":"","generation":1},',
    '"involvedObject":{"kind":"","name":"","namespace":"","uid":""},"reason":"","message":"","type":"Normal","count":1,"firstTimestamp":"","lastTimestamp":"","source":{"component":""}}',
    '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","spec":{"holderIdentity":"","leaseDurationSeconds":15,"acquireTime":"","renewTime":""}}',
    '{"apiVersion":"v1","kind":"Service","spec":{"selector":{},"ports":[{"name":"http","port":80,"targetPort":8080,"protocol":"TCP"}],"type":"ClusterIP"}}',
    '{"apiVersion":"v1","kind":"Endpoints","subsets":[{"addresses":[{"ip":"","nodeName":"","targetRef":{"kind":"Pod","name":"","namespace":"","uid":""}}],"notReadyAddresses":[],"ports":[{"port":80,"protocol":"TCP"}]}]}',
    '{"apiVersion":"v1","kind":"Node","metadata":{"name":"","labels":{"kubernetes.io/hostname":"","kubernetes.io/arch":"arm64","kubernetes.io/os":"linux","node.skiff.io/agent-version":""}},"spec":{"unschedulable":true,"taints":[{"key":"","effect":"NoSchedule"}]},',
    '"status":{"conditions":[{"type":"Ready","status":"True","reason":"AgentReady","message":"skiff-agent is posting ready status","lastHeartbeatTime":"","lastTransitionTime":""},',
    '{"type":"MemoryPressure","status":"False","reason":"AgentHasSufficientMemory","lastHeartbeatTime":"","lastTransitionTime":""}],',
    '"capacity":{"cpu":"4","memory":"Ki","pods":"110"},"allocatable":{"cpu":"m","memory":"Ki","pods":"110"},"addresses":[{"type":"InternalIP","address":""},{"type":"Hostname","address":""}],',
    '"nodeInfo":{"architecture":"arm64","operatingSystem":"linux","kernelVersion":"","osImage":"Debian GNU/Linux 12 (bookworm)","kubeletVersion":"","agentVersion":"","containerRuntimeVersion":"","runtimes":["process","container","wasi"],"nodeVersion":"v","volumeDir":"","cgroupVersion":"v2","cpus":4,"memoryBytes":}}}',
    '{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":1,"selector":{"matchLabels":{"app":""}},"minReadySeconds":0,"revisionHistoryLimit":10,"progressDeadlineSeconds":600,',
    '"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}}},"status":{"observedGeneration":1,"replicas":1,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1,"unavailableReplicas":0,',
    '"conditions":[{"type":"Available","status":"True","reason":"MinimumReplicasAvailable","message":"Deployment has minimum availability.","lastUpdateTime":"","lastTransitionTime":""},',
    '{"type":"Progressing","status":"True","reason":"NewReplicaSetAvailable","message":"ReplicaSet \\"\\" has successfully progressed.","lastUpdateTime":"","lastTransitionTime":""}]}}',
    '{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"annotations":{"deployment.kubernetes.io/revision":"1","deployment.kubernetes.io/desired-replicas":"","deployment.kubernetes.io/max-replicas":""},',
    '"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"","uid":"","controller":true,"blockOwnerDeletion":true}]},"spec":{"replicas":1,"minReadySeconds":0,',
    '"selector":{"matchLabels":{"app":"","pod-template-hash":""}},"template":{"metadata":{"labels":{"app":"","pod-template-hash":""}},"spec":{}}},"status":{"replicas":1,"fullyLabeledReplicas":1,"readyReplicas":1,"availableReplicas":1,"observedGeneration":1}}',
    '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"","generateName":"","namespace":"default","labels":{"app":"","pod-template-hash":""},"annotations":{},',
    '"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"","uid":"","controller":true,"blockOwnerDeletion":true}],"uid":"","creationTimestamp":"","deletionTimestamp":"","deletionGracePeriodSeconds":30,"finalizers":[],"generation":2},',
    '"spec":{"containers":[{"name":"main","image":"","imagePullPolicy":"IfNotPresent","command":[],"args":[],"env":[{"name":"","value":""}],"ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],',
    '"resources":{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"","memory":""}},"readinessProbe":{},"livenessProbe":{}}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"runtimeClassName":"","nodeSelector":{},"tolerations":[],"nodeName":""},',
    '"status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"True","lastTransitionTime":""},{"type":"Initialized","status":"True","lastTransitionTime":""},',
    '{"type":"ContainersReady","status":"True","lastTransitionTime":""},{"type":"Ready","status":"True","lastTransitionTime":""}],',
    '"containerStatuses":[{"name":"main","ready":false,"restartCount":0,"state":{"waiting":{"reason":"ContainerCreating"}}},{"name":"main","ready":true,"started":true,"restartCount":0,"state":{"running":{"startedAt":""}}}],',
    '"hostIP":"127.0.0.1","podIP":"127.0.0.1","startTime":""}}',
  ].join(''),
);

/** The first byte of a value deflated against dictionary 1. */
export const deflated1 = 1;
/** Shorter values are kept as text: deflate's fixed cost is not worth it. */
export const minDeflateBytes = 64;

/**
 * zlib's compression level for values: its default. A value is one short block deflated on the master's thread once
 * per write (~10 % of its busy time in a rollout: docs/scale.md, session 30), but most of that is fixed (the stream's
 * reset and the dictionary set again, ~13 µs even at level 0): on the bench's pods levels 1–3 took 4–10 % less time
 * and stored 4–8 % more bytes (`node dist/bench/store-codec.js` prints the levels side by side), not worth the disk.
 * Any level's bytes read the same: it is not part of the format.
 */
export const deflateLevel = 6;

/** One deflate and one inflate stream primed with dictionary 1, reset after each value (zlib-reuse.ts). */
const deflate1 = reusableRaw('deflate', dictionary1, deflateRawSync, deflateLevel);
const inflate1 = reusableRaw('inflate', dictionary1, inflateRawSync);

/** How a value is stored: its text, or the tagged deflated bytes when smaller. Called once per write. */
export function encodeValue(text: string): string | Buffer {
  if (text.length < minDeflateBytes) return text;
  const input = Buffer.from(text);
  const out = deflate1(input, 1);
  if (out.length >= input.length) return text;
  out[0] = deflated1;
  return out;
}

/** The JSON text of a stored value (null stays null: a delete). */
export function decodeValue(stored: string | Buffer | null): string | null {
  if (stored === null || typeof stored === 'string') return stored;
  if (stored[0] !== deflated1) throw new SkiffError('SKIFF_ERR_INTERNAL', `store: a stored value has an unknown encoding (tag ${stored[0]}); written by a newer Skiff?`);
  return inflate1(stored.subarray(1), 0).toString('utf8');
}
