/**
 * ReplicaSet controller rules, in memory: scaling up and down, which pods go first on a scale-down
 * (Kubernetes' ActivePods ranking), adoption of matching orphans, release of pods whose labels no
 * longer match, status counts and minReadySeconds on the fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { podFromTemplate, startReplicaSetController } from '../../master/controllers/replicaset.js';
import { controllerOf } from '../../master/controllers/pods.js';
import { harness, type Harness } from './harness.js';
import { podWith, rsWith } from './builders.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.stop());

const rs = () => h.get('ReplicaSet', 'default', 'web')!;
const live = () => h.pods().filter((p) => !p.metadata.deletionTimestamp);

describe('ReplicaSet: scaling', () => {
  it('creates spec.replicas pods from the template, owned by the ReplicaSet, and counts them in status', async () => {
    await h.run(startReplicaSetController);
    await h.create(rsWith({ replicas: 3 }));
    const pods = h.pods();
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(p.metadata.labels).toEqual({ app: 'web' });
      expect(controllerOf(p)).toMatchObject({ kind: 'ReplicaSet', name: 'web', uid: rs().metadata.uid, controller: true });
    }
    expect(rs().status).toEqual({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 });
    expect(h.reasons('ReplicaSet', 'default', 'web')).toEqual(['SuccessfulCreate', 'SuccessfulCreate', 'SuccessfulCreate']);
  });

  it.each([
    [3, 5, 5],
    [5, 2, 2],
    [2, 0, 0],
  ])('scales %i → %i replicas: %i pods left', async (from, to, left) => {
    await h.run(startReplicaSetController);
    await h.create(rsWith({ replicas: from }));
    await h.update('ReplicaSet', 'default', 'web', (o) => (o.spec.replicas = to));
    expect(live()).toHaveLength(left);
    expect(rs().status?.replicas).toBe(left);
    expect(rs().status?.observedGeneration).toBe(2);
  });

  it('replaces a pod that finished or was deleted, never counting terminating pods', async () => {
    await h.run(startReplicaSetController);
    await h.create(rsWith({ replicas: 2 }));
    const [a, b] = h.pods();
    await h.setPhase([a], 'Failed');
    await h.bind([b], 'n1');
    await h.delete('Pod', 'default', b.metadata.name); // bound: only marked Terminating
    const active = h.pods().filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed');
    expect(active).toHaveLength(2);
    expect(active.map((p) => p.metadata.name)).not.toContain(a.metadata.name);
    expect(active.map((p) => p.metadata.name)).not.toContain(b.metadata.name);
  });

  it('a sync with nothing changed writes nothing (idempotent)', async () => {
    const c = await h.run(startReplicaSetController);
    await h.create(rsWith({ replicas: 2 }));
    const rev = await h.store.revision();
    await c.sync('default/web');
    await c.sync('default/gone');
    expect(await h.store.revision()).toBe(rev);
  });
});

describe('ReplicaSet: which pod goes first on a scale-down (ActivePods ranking)', () => {
  // Each row: the pod to delete and the pod to keep; the ReplicaSet wants 1 of the 2.
  type Spec = Omit<Parameters<typeof podWith>[0], 'name' | 'owner'>;
  const rows: [string, Spec, Spec][] = [
    ['unscheduled before scheduled', {}, { node: 'n1' }],
    ['Pending before Running', { node: 'n1', phase: 'Pending' }, { node: 'n1', phase: 'Running' }],
    ['Unknown before Running', { node: 'n1', phase: 'Unknown' }, { node: 'n1', phase: 'Running' }],
    ['not ready before ready', { node: 'n1', phase: 'Running', ready: false }, { node: 'n1', phase: 'Running', ready: true }],
    ['more restarts first', { node: 'n1', ready: true, restarts: 5 }, { node: 'n1', ready: true, restarts: 1 }],
    ['newer first (created later)', { node: 'n1', ready: true }, { node: 'n1', ready: true }],
    ['the scheduling rule outranks readiness', { ready: true }, { node: 'n1', ready: false }],
  ];
  it.each(rows)('%s', async (_rule, victim, keeper) => {
    const owner = await h.create(rsWith({ replicas: 1 }));
    // The keeper is older: the age rule only decides when everything else is equal.
    await h.create(podWith({ name: 'keeper', owner, ...keeper }));
    await h.clock.advance(1000);
    await h.create(podWith({ name: 'victim', owner, ...victim }));
    await h.run(startReplicaSetController);
    expect(live().map((p) => p.metadata.name)).toEqual(['keeper']);
  });
});

describe('ReplicaSet: adoption and release', () => {
  it('adopts matching orphans instead of creating pods, and leaves the rest alone', async () => {
    const other = await h.create(rsWith({ name: 'other', replicas: 1, labels: { tier: 'other' } }));
    await h.create(podWith({ name: 'orphan', labels: { app: 'web' } }));
    await h.create(podWith({ name: 'foreign', labels: { app: 'db' } }));
    await h.create(podWith({ name: 'owned-elsewhere', labels: { app: 'web', tier: 'other' }, owner: other }));
    await h.create(podWith({ name: 'done', labels: { app: 'web' }, phase: 'Succeeded' }));
    await h.create(rsWith({ replicas: 2 }));
    await h.run(startReplicaSetController);
    const ownerOf = (name: string) => controllerOf(h.get('Pod', 'default', name)!)?.name;
    expect(ownerOf('orphan')).toBe('web');
    expect(ownerOf('foreign')).toBeUndefined();
    expect(ownerOf('owned-elsewhere')).toBe('other');
    expect(ownerOf('done')).toBeUndefined();
    // One adopted + one created.
    expect(h.pods().filter((p) => controllerOf(p)?.name === 'web')).toHaveLength(2);
  });

  it('releases a pod whose labels no longer match the selector, and replaces it', async () => {
    await h.run(startReplicaSetController);
    await h.create(rsWith({ replicas: 2 }));
    const [p] = h.pods();
    await h.update('Pod', 'default', p.metadata.name, (o) => (o.metadata.labels = { app: 'debug' }));
    const released = h.get('Pod', 'default', p.metadata.name)!;
    expect(controllerOf(released)).toBeUndefined();
    expect(h.pods({ app: 'web' }).filter((x) => controllerOf(x)?.name === 'web')).toHaveLength(2);
  });
});

describe('ReplicaSet: a sync costs what is out of place, not the pods it owns', () => {
  it('a sync with nothing to claim or release reads counts only; a pod seen off the selector brings back one scan', async () => {
    const c = await h.run(startReplicaSetController);
    await h.create(rsWith({ replicas: 50 }));
    await h.setReady(h.pods());
    const dependents = vi.spyOn(h.ctx.informers, 'dependents');
    await c.sync('default/web');
    expect(dependents).not.toHaveBeenCalled();
    expect(rs().status).toMatchObject({ replicas: 50, fullyLabeledReplicas: 50, readyReplicas: 50, availableReplicas: 50 });
    // A relabelled pod makes the ReplicaSet suspect: the next sync scans once, releases it and replaces it.
    const [p] = h.pods();
    await h.update('Pod', 'default', p.metadata.name, (o) => (o.metadata.labels = { app: 'debug' }));
    expect(dependents).toHaveBeenCalled();
    expect(controllerOf(h.get('Pod', 'default', p.metadata.name)!)).toBeUndefined();
    expect(live().filter((x) => controllerOf(x)?.name === 'web')).toHaveLength(50);
    dependents.mockClear();
    await c.sync('default/web');
    expect(dependents).not.toHaveBeenCalled();
  });

  it('a changed selector releases the pods it no longer matches', async () => {
    await h.run(startReplicaSetController);
    await h.create(rsWith({ replicas: 2 }));
    for (const p of h.pods()) await h.update('Pod', 'default', p.metadata.name, (o) => (o.metadata.labels = { app: 'web', track: 'old' }));
    await h.update('ReplicaSet', 'default', 'web', (o) => {
      o.spec.selector = { matchLabels: { app: 'web', track: 'new' } };
      o.spec.template.metadata = { labels: { app: 'web', track: 'new' } };
    });
    const mine = live().filter((x) => controllerOf(x)?.name === 'web');
    expect(mine.map((x) => x.metadata.labels?.track)).toEqual(['new', 'new']);
    expect(rs().status).toMatchObject({ replicas: 2, fullyLabeledReplicas: 2 });
  });
});

describe('ReplicaSet: status', () => {
  it('counts ready pods at once and available ones minReadySeconds later (fake clock)', async () => {
    await h.run(startReplicaSetController);
    await h.create(rsWith({ replicas: 3, minReadySeconds: 10 }));
    await h.setReady(h.pods().slice(0, 2));
    expect(rs().status).toMatchObject({ replicas: 3, readyReplicas: 2, availableReplicas: 0 });
    await h.advance(9_000);
    expect(rs().status?.availableReplicas).toBe(0);
    await h.advance(1_000);
    expect(rs().status).toMatchObject({ readyReplicas: 2, availableReplicas: 2 });
  });
});

describe('ReplicaSet: the pod from its template', () => {
  it("is the template's labels and spec, its own copy: writing the pod leaves the template as it was", () => {
    const rs = { ...rsWith({ name: 'web-abc' }), metadata: { name: 'web-abc', namespace: 'default', uid: 'u1' } };
    rs.spec.template.spec.containers[0]!.env = [{ name: 'A', value: '1' }];
    const before = JSON.stringify(rs);
    const p = podFromTemplate(rs);
    expect(p).toMatchObject({ metadata: { generateName: 'web-abc-', namespace: 'default', labels: rs.spec.template.metadata!.labels, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-abc', uid: 'u1', controller: true }] }, status: { phase: 'Pending' } });
    expect(p.spec).toEqual(rs.spec.template.spec);
    p.spec.containers[0]!.env![0]!.value = '2';
    p.spec.containers[0]!.image = 'other';
    p.metadata.labels!.extra = 'x';
    expect(JSON.stringify(rs)).toBe(before);
  });
});
