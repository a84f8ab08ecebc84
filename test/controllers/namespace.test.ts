/**
 * Namespace rules, in memory: `default` may not be deleted; a deleted namespace turns Terminating,
 * refuses new objects, has everything in it deleted (controllers before what they manage), stays while
 * pods are still being stopped by their agents, and is removed once empty — after which the name is
 * free again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KObject, Namespace } from '../../protocol/index.js';
import { kinds } from '../../protocol/index.js';
import { startNamespaceController } from '../../master/controllers/namespace.js';
import { harness, type Harness } from './harness.js';
import { cronJobWith, deploymentWith, jobWith, podWith, rsWith } from './builders.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
  await h.run(startNamespaceController);
  await h.create<Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
});
afterEach(() => h.stop());

const inTeam = <T extends KObject>(o: T): T => ({ ...o, metadata: { ...o.metadata, namespace: 'team' } });
const ns = (name = 'team') => h.get('Namespace', undefined, name);
const everythingIn = (name: string) => Object.values(kinds).filter((k) => k.namespaced).flatMap((k) => h.informers.list(k.kind, name));

describe('Namespace', () => {
  it('default may not be deleted', async () => {
    await expect(h.objects.delete('Namespace', undefined, 'default')).rejects.toThrow('namespaces "default" is forbidden: this namespace may not be deleted');
  });

  it('deletes everything in a Terminating namespace, controllers first, then removes it', async () => {
    for (const o of [deploymentWith({}), rsWith({ name: 'loose' }), jobWith(), cronJobWith(), podWith({ name: 'solo' })]) await h.create(inTeam(o));
    await h.create(inTeam({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'test' } }));
    const deleted: string[] = [];
    for (const k of Object.values(kinds)) h.informers.on(k.kind, (o, old) => void (!o && old?.metadata.namespace === 'team' && deleted.push(old.kind)));
    await h.delete('Namespace', undefined, 'team');
    expect(everythingIn('team')).toEqual([]);
    expect(ns()).toMatchObject({ status: { phase: 'Terminating' } });
    await h.advance(250); // the controller looks again 250 ms later and finds it empty
    expect(ns()).toBeUndefined();
    // Workload controllers go before what they manage, so nothing re-creates pods meanwhile.
    const firstOther = Math.min(deleted.indexOf('Pod'), deleted.indexOf('ConfigMap'));
    for (const k of ['CronJob', 'Job', 'Deployment', 'ReplicaSet']) expect(deleted.indexOf(k)).toBeLessThan(firstOther);
  });

  it('stays Terminating, refusing new objects, while a pod waits for its agent to stop it', async () => {
    await h.create(inTeam(podWith({ name: 'running', node: 'n1', ready: true })));
    await h.delete('Namespace', undefined, 'team');
    expect(ns()).toMatchObject({ status: { phase: 'Terminating' } });
    expect(ns()?.metadata.deletionTimestamp).toBe(new Date(h.clock.now()).toISOString());
    await expect(h.objects.create(inTeam({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } }))).rejects.toThrow('namespace "team" is being terminated');
    await h.advance(10_000);
    expect(ns()).toBeDefined();
    const [pod] = everythingIn('team');
    expect(pod.metadata.deletionTimestamp).toBeDefined();
    await h.objects.finishPodDeletion('team', pod.metadata.name, pod.metadata.uid);
    await h.advance(250);
    expect(ns()).toBeUndefined();
    await h.create<Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    expect(ns()?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('leaves other namespaces alone', async () => {
    await h.create(podWith({ name: 'keep' }));
    await h.create(inTeam(podWith({ name: 'go' })));
    await h.delete('Namespace', undefined, 'team');
    await h.advance(250);
    expect(h.pods().map((p) => p.metadata.name)).toEqual(['keep']);
    expect(ns()).toBeUndefined();
  });
});
