/**
 * The StatefulSet rules, table by table and in memory: the sync plan (ordered and parallel creation, reverse
 * scale-down one at a time, failed pods replaced, partitioned rolling update from the highest ordinal down,
 * maxUnavailable, OnDelete, claims made before their pod and waited for while being deleted), the pods'
 * identity, the status and kubectl's rollout status lines.
 */
import { describe, expect, it } from 'vitest';
import { normalizeObject, type PersistentVolumeClaim, type Pod, type StatefulSet } from '../../protocol/index.js';
import { claimName, ordinalOf, statefulClaims, statefulPod } from '../../master/controllers/statefulset/identity.js';
import { planSet, type Step } from '../../master/controllers/statefulset/plan.js';
import { setStatus, statefulSetRolloutStatus } from '../../master/controllers/statefulset/status.js';

const now = Date.parse('2026-01-01T00:10:00Z');

function setWith(o: { replicas?: number; policy?: 'OrderedReady' | 'Parallel'; partition?: number; onDelete?: boolean; maxUnavailable?: number; claims?: boolean; whenDeleted?: 'Delete' | 'Retain'; start?: number; minReady?: number } = {}): StatefulSet {
  const s = normalizeObject({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: 'web',
      podManagementPolicy: o.policy ?? 'OrderedReady',
      minReadySeconds: o.minReady ?? 0,
      selector: { matchLabels: { app: 'web' } },
      updateStrategy: o.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: o.partition ?? 0, ...(o.maxUnavailable ? { maxUnavailable: o.maxUnavailable } : {}) } },
      ...(o.start !== undefined ? { ordinals: { start: o.start } } : {}),
      ...(o.whenDeleted ? { persistentVolumeClaimRetentionPolicy: { whenDeleted: o.whenDeleted } } : {}),
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', command: ['run'], volumeMounts: o.claims ? [{ name: 'data', mountPath: 'd' }] : [] }] } },
      ...(o.claims ? { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } : {}),
    },
  }) as StatefulSet;
  s.metadata.uid = 'set-uid';
  return s;
}

type PodState = 'ready' | 'running' | 'pending' | 'terminating' | 'failed' | 'recent';

/** A pod of `web` at an ordinal, in a state, at a revision (`old` or `new`). */
function podAt(ord: number, state: PodState = 'ready', revision = 'new'): Pod {
  const ready = state === 'ready' || state === 'terminating' || state === 'recent';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `web-${ord}`,
      namespace: 'default',
      uid: `pod-${ord}`,
      labels: { app: 'web', 'controller-revision-hash': revision },
      ...(state === 'terminating' ? { deletionTimestamp: '2026-01-01T00:09:00Z' } : {}),
    },
    spec: { containers: [{ name: 'c', command: ['run'] }], nodeName: 'n1' },
    status: {
      phase: state === 'pending' ? 'Pending' : state === 'failed' ? 'Failed' : 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: state === 'recent' ? '2026-01-01T00:09:59Z' : '2026-01-01T00:00:00Z' }],
    },
  };
}

const claimsFor = (...names: string[]) => new Map(names.map((n) => [n, { metadata: { name: n, namespace: 'default' } } as PersistentVolumeClaim]));
const plan = (set: StatefulSet, pods: Pod[], claims = new Map<string, PersistentVolumeClaim>()) => planSet({ set, pods, claims, updateRevision: 'new', now });
const show = (steps: Step[]) =>
  steps.map((s) => (s.kind === 'createPod' ? `create web-${s.ordinal}${s.revision === 'current' ? ' (current)' : ''}` : s.kind === 'createClaims' ? `claims ${s.names.join(',')}` : `delete ${s.pod.metadata.name} (${s.why})`));

describe('StatefulSet plan', () => {
  const cases: { name: string; set: StatefulSet; pods: Pod[]; claims?: Map<string, PersistentVolumeClaim>; steps: string[]; waiting?: RegExp }[] = [
    { name: 'OrderedReady, nothing yet: only web-0', set: setWith(), pods: [], steps: ['create web-0'], waiting: /web-0 to be Running and Ready/ },
    { name: 'OrderedReady: web-1 waits for web-0 to be Ready', set: setWith(), pods: [podAt(0, 'running')], steps: [], waiting: /web-0 to be Running and Ready/ },
    { name: 'OrderedReady: web-0 Ready, so web-1', set: setWith(), pods: [podAt(0)], steps: ['create web-1'], waiting: /web-1 to be Running and Ready/ },
    { name: 'OrderedReady: a gap (web-1 deleted) is filled before anything else', set: setWith(), pods: [podAt(0), podAt(2)], steps: ['create web-1'], waiting: /web-1 to be Running and Ready/ },
    { name: 'OrderedReady with minReadySeconds: Ready one second ago is not enough', set: setWith({ minReady: 10 }), pods: [podAt(0, 'recent')], steps: [], waiting: /web-0/ },
    { name: 'Parallel: every missing pod at once', set: setWith({ policy: 'Parallel' }), pods: [podAt(1, 'pending')], steps: ['create web-0', 'create web-2'] },
    { name: 'a Failed pod is deleted first (it comes back)', set: setWith(), pods: [podAt(0, 'failed'), podAt(1)], steps: ['delete web-0 (failed)'], waiting: /web-0 to be replaced/ },
    { name: 'claims before their pod', set: setWith({ claims: true }), pods: [], steps: ['claims data-web-0', 'create web-0'], waiting: /web-0/ },
    { name: 'an existing claim is reused', set: setWith({ claims: true }), pods: [], claims: claimsFor('data-web-0'), steps: ['create web-0'], waiting: /web-0/ },
    {
      name: 'a claim being deleted holds its pod back',
      set: setWith({ claims: true }),
      pods: [],
      claims: new Map([['data-web-0', { metadata: { name: 'data-web-0', deletionTimestamp: 'x' } } as PersistentVolumeClaim]]),
      steps: [],
      waiting: /claim data-web-0 to be deleted/,
    },
    { name: 'ordinals.start: the first pod is web-5', set: setWith({ start: 5, replicas: 1 }), pods: [], steps: ['create web-5'], waiting: /web-5/ },
    { name: 'scale down: the highest ordinal goes first, one at a time', set: setWith({ replicas: 1 }), pods: [podAt(0), podAt(1), podAt(2)], steps: ['delete web-2 (condemned)'] },
    { name: 'scale down waits while a condemned pod terminates', set: setWith({ replicas: 1 }), pods: [podAt(0), podAt(1), podAt(2, 'terminating')], steps: [], waiting: /web-2 to be deleted/ },
    { name: 'scale down waits for every other pod to be healthy', set: setWith({ replicas: 1 }), pods: [podAt(0, 'running'), podAt(1)], steps: [], waiting: /web-0/ },
    { name: 'Parallel scale down: all at once', set: setWith({ replicas: 1, policy: 'Parallel' }), pods: [podAt(0), podAt(1), podAt(2)], steps: ['delete web-2 (condemned)', 'delete web-1 (condemned)'] },
    { name: 'rolling update: the highest old pod first', set: setWith(), pods: [podAt(0, 'ready', 'old'), podAt(1, 'ready', 'old'), podAt(2, 'ready', 'old')], steps: ['delete web-2 (update)'], waiting: /before web-1 is updated/ },
    { name: 'rolling update: the next only once the updated one is Ready', set: setWith(), pods: [podAt(0, 'ready', 'old'), podAt(1, 'ready', 'old'), podAt(2, 'running')], steps: [], waiting: /web-2 to be Running and Ready/ },
    { name: 'rolling update continues downwards', set: setWith(), pods: [podAt(0, 'ready', 'old'), podAt(1, 'ready', 'old'), podAt(2)], steps: ['delete web-1 (update)'], waiting: /before web-0 is updated/ },
    { name: 'partition 2: only web-2 is updated', set: setWith({ partition: 2 }), pods: [podAt(0, 'ready', 'old'), podAt(1, 'ready', 'old'), podAt(2)], steps: [] },
    { name: 'partition 2: a deleted web-0 comes back at the current revision', set: setWith({ partition: 2 }), pods: [podAt(1, 'ready', 'old'), podAt(2)], steps: ['create web-0 (current)'], waiting: /web-0/ },
    { name: 'maxUnavailable 2: two pods at once', set: setWith({ maxUnavailable: 2 }), pods: [podAt(0, 'ready', 'old'), podAt(1, 'ready', 'old'), podAt(2, 'ready', 'old')], steps: ['delete web-2 (update)', 'delete web-1 (update)'], waiting: /before web-0 is updated/ },
    { name: 'OnDelete: old pods stay', set: setWith({ onDelete: true }), pods: [podAt(0, 'ready', 'old'), podAt(1, 'ready', 'old'), podAt(2, 'ready', 'old')], steps: [] },
    { name: 'OnDelete: a deleted pod comes back at the update revision', set: setWith({ onDelete: true }), pods: [podAt(1, 'ready', 'old')], steps: ['create web-0'], waiting: /web-0/ },
  ];
  it.each(cases)('$name', ({ set, pods, claims, steps, waiting }) => {
    const p = plan(set, pods, claims);
    expect(show(p.steps)).toEqual(steps);
    if (waiting) expect(p.waiting).toMatch(waiting);
    else expect(p.waiting).toBeUndefined();
  });
});

describe('StatefulSet pod identity', () => {
  it('names, labels, hostname, subdomain and one claim volume per template', () => {
    const set = setWith({ claims: true });
    const pod = statefulPod(set, 2, set.spec.template, 'web-abc');
    expect(pod.metadata).toMatchObject({
      name: 'web-2',
      labels: { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-2', 'apps.kubernetes.io/pod-index': '2', 'controller-revision-hash': 'web-abc' },
      ownerReferences: [{ kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true }],
    });
    expect(pod.spec).toMatchObject({ hostname: 'web-2', subdomain: 'web', volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-2' } }] });
    expect(ordinalOf(set, pod)).toBe(2);
    expect(ordinalOf(set, { ...pod, metadata: { ...pod.metadata, name: 'web-02' } })).toBeUndefined();
    expect(ordinalOf(set, { ...pod, metadata: { ...pod.metadata, name: 'webby-1' } })).toBeUndefined();
    expect(claimName('data', set, 7)).toBe('data-web-7');
  });

  it.each([
    ['Retain', undefined],
    ['Delete', [{ kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: false }]],
  ] as const)('claims with whenDeleted %s have owner %o', (policy, owners) => {
    const [c] = statefulClaims(setWith({ claims: true, whenDeleted: policy }), 1);
    expect(c!.metadata.name).toBe('data-web-1');
    expect(c!.metadata.labels).toEqual({ app: 'web' });
    expect(c!.spec.resources.requests.storage).toBe('1Gi');
    if (owners) expect(c!.metadata.ownerReferences).toMatchObject(owners);
    else expect(c!.metadata.ownerReferences).toBeUndefined();
  });
});

describe('StatefulSet status and rollout status', () => {
  it('counts pods by revision; the update revision becomes current once every pod is updated and ready', () => {
    const set = setWith();
    set.metadata.generation = 4;
    const mid = setStatus(set, [podAt(0, 'ready', 'old'), podAt(1, 'ready', 'old'), podAt(2, 'running')], 'old', 'new', now);
    expect(mid).toMatchObject({ observedGeneration: 4, replicas: 3, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 1, currentRevision: 'old', updateRevision: 'new' });
    const done = setStatus(set, [podAt(0), podAt(1), podAt(2)], 'old', 'new', now);
    expect(done).toMatchObject({ readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: 'new' });
  });

  const viewer = (status: Partial<NonNullable<StatefulSet['status']>>, o: { partition?: number; generation?: number } = {}) => {
    const set = setWith({ partition: o.partition });
    set.metadata.generation = o.generation ?? 1;
    set.status = { replicas: 3, observedGeneration: 1, ...status };
    return statefulSetRolloutStatus(set);
  };
  it.each([
    [{}, { generation: 2 }, 'Waiting for statefulset spec update to be observed...', false],
    [{ readyReplicas: 1 }, {}, 'Waiting for 2 pods to be ready...', false],
    [{ readyReplicas: 3, updatedReplicas: 1 }, {}, 'Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...', false],
    [{ readyReplicas: 3, updatedReplicas: 1 }, { partition: 2 }, 'partitioned roll out complete: 1 new pods have been updated...', true],
    [{ readyReplicas: 3, updatedReplicas: 3 }, {}, 'partitioned roll out complete: 3 new pods have been updated...', true],
  ])('kubectl: %o %o → %s', (status, o, message, done) => {
    expect(viewer(status, o)).toEqual({ message, done });
  });

  it('OnDelete has no rollout status, as in kubectl', () => {
    expect(() => statefulSetRolloutStatus(setWith({ onDelete: true }))).toThrow('rollout status is only available for RollingUpdate strategy type');
  });
});
