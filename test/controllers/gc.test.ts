/**
 * Garbage collection rules, in memory: an owner's deletion cascades to its dependents by uid (and on
 * down the chain), a dependent with another living owner stays, owners that vanished while the master
 * was down are found at start, and a removed namespace takes whatever is left in it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job, KindName, KObject, OwnerReference } from '../../protocol/index.js';
import { startGarbageCollector } from '../../master/controllers/gc.js';
import { controllerRef } from '../../master/controllers/pods.js';
import { harness, type Harness } from './harness.js';
import { deploymentWith, jobWith, podWith, rsWith } from './builders.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.stop());

const names = (kind: KindName) => h.list(kind).map((o) => o.metadata.name).sort();
const owned = <T extends KObject>(o: T, ...owners: KObject[]): T => ({ ...o, metadata: { ...o.metadata, ownerReferences: owners.map((x, i): OwnerReference => ({ ...controllerRef(x), controller: i === 0 })) } });

describe('garbage collector', () => {
  it('deletes dependents of a deleted owner, down the chain (Deployment → ReplicaSet → Pods)', async () => {
    await h.run(startGarbageCollector);
    const d = await h.create(deploymentWith({}));
    const rs = await h.create(owned(rsWith({ name: 'web-1' }), d));
    await h.create(owned(podWith({ name: 'a' }), rs));
    await h.create(owned(podWith({ name: 'b' }), rs));
    await h.create(podWith({ name: 'mine' }));
    await h.delete('Deployment', 'default', 'web');
    expect(names('ReplicaSet')).toEqual([]);
    expect(names('Pod')).toEqual(['mine']);
  });

  it('keeps a dependent while another owner lives', async () => {
    await h.run(startGarbageCollector);
    const one = await h.create(jobWith({ name: 'one' }));
    const two = await h.create(jobWith({ name: 'two' }));
    await h.create(owned(podWith({ name: 'shared' }), one, two));
    await h.delete('Job', 'default', 'one');
    expect(names('Pod')).toEqual(['shared']);
    await h.delete('Job', 'default', 'two');
    expect(names('Pod')).toEqual([]);
  });

  it('follows uids, not names: a re-created owner of the same name does not keep the old dependents', async () => {
    await h.run(startGarbageCollector);
    const old = await h.create(jobWith({ name: 'j' }));
    await h.create(owned(podWith({ name: 'p' }), old));
    await h.objects.delete('Job', 'default', 'j');
    await h.objects.create<Job>(jobWith({ name: 'j' }));
    await h.settle();
    expect(names('Pod')).toEqual([]);
  });

  it('sweeps at start the dependents whose owners vanished while it was not running', async () => {
    const gone = await h.create(jobWith({ name: 'gone' }));
    const kept = await h.create(jobWith({ name: 'kept' }));
    await h.create(owned(podWith({ name: 'orphaned' }), gone));
    await h.create(owned(podWith({ name: 'fine' }), kept));
    await h.delete('Job', 'default', 'gone');
    expect(names('Pod')).toEqual(['fine', 'orphaned']);
    await h.run(startGarbageCollector);
    expect(names('Pod')).toEqual(['fine']);
  });

  it('deletes what is left in a namespace once the namespace object is gone', async () => {
    await h.run(startGarbageCollector);
    await h.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    await h.create({ ...podWith({ name: 'left' }), metadata: { name: 'left', namespace: 'team' } });
    await h.create(podWith({ name: 'elsewhere' }));
    await h.objects.delete('Namespace', undefined, 'team');
    await h.objects.finishNamespaceDeletion('team');
    await h.settle();
    expect(h.list('Pod').map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['default/elsewhere']);
  });
});
