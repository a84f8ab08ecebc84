/**
 * StatefulSets with local-path volumes over a real in-process cluster (two agents, process pods writing into
 * their volume): pods web-0..2 come up in order, each with its claim data-web-N bound to a directory on the
 * node it was scheduled to; a deleted web-1 comes back as web-1 on the same node and finds its file; a
 * scale-down removes pods highest first and keeps their claims; a partitioned rolling update replaces only
 * the pods at or above the partition; deleting a claim with reclaim policy Delete removes its directory.
 * Every Pod change is checked against the ordering rules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet } from '../../protocol/index.js';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';
import { cliFor, type CliRun } from '../cli/cluster-cli.js';

const headless = `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
`;

/** A pod keeps one file in its volume: it writes it once and, when it finds it, says so in its log. */
const statefulSet = (replicas: number, version = 'v1', partition = 0) => `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: ${partition}}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        env: [{name: VERSION, value: ${version}}]
        volumeMounts: [{name: data, mountPath: data}]
        command: [sh, -c, 'f="$SKIFF_VOLUME_DATA/id"; if [ -f "$f" ]; then echo "found $(cat "$f")"; else echo "$HOSTNAME-$$$$" > "$f"; echo wrote; fi; trap "exit 0" TERM; while true; do sleep 0.2; done']
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`;

const ordinal = (p: Pod) => Number(p.metadata.name.split('-').pop());
const active = (p: Pod) => !p.metadata.deletionTimestamp;

describe('StatefulSet with local-path volumes', () => {
  let c: TestCluster;
  let cli: (args: string[]) => Promise<CliRun>;
  const violations: string[] = [];
  /** Set while scaling down: then a pod may only go when no higher ordinal is left. */
  let scalingDown = false;
  beforeAll(async () => {
    c = await startCluster(['sts-a', 'sts-b']);
    cli = cliFor(c.master);
    // OrderedReady, checked on every change the master sees: a pod is created only when every lower ordinal
    // is Running and Ready; in a scale-down a pod goes only when no higher ordinal is left.
    c.master.informers.on('Pod', (p, old) => {
      const pods = c.master.informers.list('Pod', 'default').filter((x) => x.metadata.labels?.app === 'web');
      if (p && !old && p.metadata.labels?.app === 'web') {
        const lower = pods.filter((x) => ordinal(x) < ordinal(p as Pod));
        if (lower.length !== ordinal(p as Pod) || !lower.every((x) => isRunningReady(x) && active(x))) violations.push(`${p.metadata.name} created before its predecessors were Running and Ready`);
      }
      if (scalingDown && !p && old?.metadata.labels?.app === 'web' && pods.some((x) => ordinal(x) > ordinal(old as Pod)))
        violations.push(`${old.metadata.name} removed while a higher ordinal was left`);
    });
  }, 60_000);
  afterAll(async () => c?.stop());

  const pods = async () => (await c.pods('app=web')).filter(active).sort((a, b) => ordinal(a) - ordinal(b));
  const claim = (name: string) => c.api.request<PersistentVolumeClaim>('get', { kind: 'PersistentVolumeClaim', name, namespace: 'default' });
  const volume = (name: string) => c.api.request<PersistentVolume>('get', { kind: 'PersistentVolume', name });
  const logs = (name: string) => c.api.request<string>('logs', { name, namespace: 'default' });
  /** The StatefulSet's pod deletions, oldest first (its events). */
  const deletes = async () =>
    (await c.api.request<{ events: { reason: string; message: string }[] }>('describe', { kind: 'StatefulSet', name: 'web', namespace: 'default' })).events
      .filter((e) => e.reason === 'SuccessfulDelete')
      .map((e) => e.message);
  const readyPods = async (n: number) =>
    eventually(async () => {
      const ps = await pods();
      return ps.length === n && ps.every(isRunningReady) && ps;
    }, `${n} web pods Running and Ready`, 30_000);

  it('creates web-0..2 in order, each with its claim bound to a directory on its node', async () => {
    await c.apply(headless + '---' + statefulSet(3));
    const ps = await readyPods(3);
    expect(ps.map((p) => p.metadata.name)).toEqual(['web-0', 'web-1', 'web-2']);
    for (const p of ps) {
      expect(p.metadata.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': p.metadata.name, 'apps.kubernetes.io/pod-index': String(ordinal(p)) });
      expect(p.spec).toMatchObject({ hostname: p.metadata.name, subdomain: 'web' });
      const pvc = await claim(`data-${p.metadata.name}`);
      expect(pvc.status).toMatchObject({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
      expect(pvc.spec.storageClassName).toBe('local-path');
      const pv = await volume(pvc.spec.volumeName!);
      expect(pv.spec.nodeAffinity?.required.nodeSelectorTerms[0]?.matchExpressions?.[0]).toEqual({ key: 'kubernetes.io/hostname', operator: 'In', values: [p.spec.nodeName] });
      expect(pv.spec.hostPath?.path).toMatch(new RegExp(`/${p.spec.nodeName}/volumes/pvc-${pvc.metadata.uid}_default_data-${p.metadata.name}$`));
      await eventually(async () => (await logs(p.metadata.name)).includes('wrote'), `${p.metadata.name} wrote its file`);
      expect(readFileSync(`${pv.spec.hostPath!.path}/id`, 'utf8')).toMatch(new RegExp(`^${p.metadata.name}-\\d+\\n$`));
    }
    const sts = await eventually(async () => {
      const s = await c.api.request<StatefulSet>('get', { kind: 'StatefulSet', name: 'web', namespace: 'default' });
      return s.status?.readyReplicas === 3 && s;
    }, 'status: 3 ready');
    expect(sts.status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3 });
    expect(sts.status!.currentRevision).toBe(sts.status!.updateRevision);
    // The headless service's endpoints carry each pod's hostname (its DNS name web-N.web.default.svc.cluster.local).
    const ep = await eventually(async () => {
      const e = await c.api.request<{ subsets?: { addresses?: { hostname?: string }[] }[] }>('get', { kind: 'Endpoints', name: 'web', namespace: 'default' });
      const names = (e.subsets ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.hostname);
      return names.length === 3 && names;
    }, 'endpoints with hostnames');
    expect(ep.sort()).toEqual(['web-0', 'web-1', 'web-2']);
    expect(violations).toEqual([]);
    // kubectl's columns.
    const get = await cli(['get', 'sts,pvc,pv,sc']);
    expect(get.code).toBe(0);
    const lines = get.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+AGE$/);
    expect(lines[1]).toMatch(/^statefulset\.apps\/web\s+3\/3\s+\S+$/);
    expect(lines.find((l) => l.startsWith('NAME') && l.includes('VOLUME'))).toMatch(/^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+AGE$/);
    expect(lines.find((l) => l.startsWith('persistentvolumeclaim/data-web-0'))).toMatch(/^persistentvolumeclaim\/data-web-0\s+Bound\s+pvc-[0-9a-f-]+\s+1Gi\s+RWO\s+local-path\s+\S+$/);
    expect(lines.find((l) => l.startsWith('NAME') && l.includes('RECLAIM POLICY'))).toMatch(/^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+REASON\s+AGE$/);
    expect(lines.filter((l) => /^persistentvolume\/pvc-\S+\s+1Gi\s+RWO\s+Delete\s+Bound\s+default\/data-web-\d\s+local-path\s+\S+$/.test(l))).toHaveLength(3);
    expect(lines.find((l) => l.startsWith('storageclass'))).toMatch(/^storageclass\.storage\.k8s\.io\/local-path \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+\S+$/);
    const described = await cli(['describe', 'pvc', 'data-web-0']);
    expect(described.stdout).toMatch(/Used By:\s+web-0/);
    expect(described.stdout).toMatch(/Finalizers:\s+\[kubernetes\.io\/pvc-protection\]/);
  }, 60_000);

  it('a deleted web-1 comes back as web-1 on the same node, with its file intact', async () => {
    const before = (await pods()).find((p) => p.metadata.name === 'web-1')!;
    const pvc = await claim('data-web-1');
    const file = `${(await volume(pvc.spec.volumeName!)).spec.hostPath!.path}/id`;
    const content = readFileSync(file, 'utf8');
    await c.api.request('delete', { kind: 'Pod', name: 'web-1', namespace: 'default' });
    const after = await eventually(async () => {
      const p = (await pods()).find((x) => x.metadata.name === 'web-1');
      return p && p.metadata.uid !== before.metadata.uid && isRunningReady(p) && p;
    }, 'a new web-1 Running and Ready', 30_000);
    expect(after.spec.nodeName).toBe(before.spec.nodeName);
    await eventually(async () => (await logs('web-1')).includes(`found ${content.trim()}`), 'the new web-1 found the old file');
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect((await claim('data-web-1')).metadata.uid).toBe(pvc.metadata.uid);
    expect(violations).toEqual([]);
  }, 60_000);

  it('a partitioned rolling update replaces only the pods at or above the partition, from the highest ordinal down', async () => {
    await c.apply(statefulSet(3, 'v2', 2));
    const updated = async () => {
      const s = await c.api.request<StatefulSet>('get', { kind: 'StatefulSet', name: 'web', namespace: 'default' });
      const ps = await pods();
      return { s, version: (await Promise.all(ps.map(async (p) => [p.metadata.name, p.spec.containers[0]!.env?.[0]?.value]))).map((x) => x.join('=')) };
    };
    await eventually(async () => (await c.api.request<{ message: string; done: boolean }>('rollout', { action: 'status', kind: 'StatefulSet', name: 'web', namespace: 'default' })).done, 'partitioned roll out complete', 30_000);
    const mid = await updated();
    expect(mid.version).toEqual(['web-0=v1', 'web-1=v1', 'web-2=v2']);
    expect(mid.s.status).toMatchObject({ updatedReplicas: 1, currentReplicas: 2 });
    expect(mid.s.status!.currentRevision).not.toBe(mid.s.status!.updateRevision);
    await c.apply(statefulSet(3, 'v2', 0));
    await readyPods(3);
    const done = await eventually(async () => {
      const u = await updated();
      return u.version.every((v) => v.endsWith('=v2')) && u.s.status?.currentRevision === u.s.status?.updateRevision && u.s.status?.readyReplicas === 3 && u;
    }, 'every pod at v2', 30_000);
    expect(done.s.status).toMatchObject({ updatedReplicas: 3, currentReplicas: 3 });
    expect((await deletes()).slice(-3)).toEqual(['web-2', 'web-1', 'web-0'].map((n) => `delete Pod ${n} in StatefulSet web successful`));
    const history = await cli(['rollout', 'history', 'statefulset/web']);
    expect(history.stdout).toMatch(/^statefulset\.apps\/web\s*\nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    // Each pod still has its own file (the claims followed the pods through the update).
    for (const p of await pods()) expect(await logs(p.metadata.name)).toContain(`found ${p.metadata.name}-`);
    // Undo, through kubectl's verbs: back to v1, rolled out from the highest ordinal down, followed by rollout status.
    expect((await cli(['rollout', 'undo', 'statefulset/web'])).stdout).toBe('statefulset.apps/web rolled back\n');
    const status = await cli(['rollout', 'status', 'statefulset/web', '--timeout', '60s']);
    expect(status.code).toBe(0);
    expect(status.stdout.trim().split('\n').at(-1)).toBe('partitioned roll out complete: 3 new pods have been updated...');
    await eventually(async () => (await pods()).every((p) => p.spec.containers[0]!.env?.[0]?.value === 'v1'), 'every pod back at v1', 30_000);
  }, 90_000);

  it('scales down highest ordinal first and keeps the claims; deleting a claim deletes its directory', async () => {
    const pv2 = await volume((await claim('data-web-2')).spec.volumeName!);
    scalingDown = true;
    await c.api.request('scale', { kind: 'StatefulSet', name: 'web', namespace: 'default', replicas: 1 });
    await eventually(async () => (await pods()).map((p) => p.metadata.name).join() === 'web-0', 'only web-0 left', 30_000);
    scalingDown = false;
    expect(violations).toEqual([]);
    expect((await deletes()).slice(-2)).toEqual(['delete Pod web-2 in StatefulSet web successful', 'delete Pod web-1 in StatefulSet web successful']);
    for (const n of ['data-web-1', 'data-web-2']) expect((await claim(n)).status?.phase).toBe('Bound');
    // The claim is no longer used: deleting it releases the volume, whose node deletes the directory (reclaim Delete).
    expect(existsSync(pv2.spec.hostPath!.path)).toBe(true);
    await c.api.request('delete', { kind: 'PersistentVolumeClaim', name: 'data-web-2', namespace: 'default' });
    await eventually(async () => !existsSync(pv2.spec.hostPath!.path), 'the directory of data-web-2 deleted', 20_000);
    await eventually(async () => (await c.api.request<{ items: PersistentVolume[] }>('list', { kind: 'PersistentVolume' })).items.every((v) => v.metadata.name !== pv2.metadata.name), 'its volume gone');
  }, 60_000);
});
