/**
 * Defaults are applied once, by protocol's kind table, wherever an object enters or leaves the store —
 * so code never restates them. An object stored before its defaults existed (written here straight to
 * the store, as an older master would have left it) reads defaulted from the cache and the API, goes
 * to its agent defaulted, and the agent defaults what it takes in (its own older cache too).
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDesired } from '../../edge-agent/desired.js';
import { startMaster, type Master } from '../../master/index.js';
import { DesiredPublisher } from '../../master/nodes/desired.js';
import { openSqliteStore } from '../../master/store/sqlite.js';
import { applyDefaults, kindOf, objectKey, silentLogger, type KObject, type Pod } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { tempDir } from '../helpers/wait.js';

const meta = (name: string) => ({ name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z', generation: 1 });
/** Objects as a master before today's defaults might have stored them: nothing defaulted. */
const bare = {
  pod: { apiVersion: 'v1', kind: 'Pod', metadata: meta('old'), spec: { nodeName: 'old-node', containers: [{ name: 'c', command: ['sleep', '1'], ports: [{ containerPort: 80 }] }] } },
  service: { apiVersion: 'v1', kind: 'Service', metadata: meta('old-svc'), spec: { clusterIP: '127.77.0.9', selector: { app: 'x' }, ports: [{ port: 80 }] } },
  deployment: {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('old-web'),
    spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', command: ['sleep', '1'] }] } } },
  },
} satisfies Record<string, KObject>;

const podDefaults = { restartPolicy: 'Always', terminationGracePeriodSeconds: 30 };

describe('defaults on every stored object', () => {
  let dir: string;
  let master: Master;

  beforeAll(async () => {
    dir = await tempDir('skiff-defaults-');
    const store = await openSqliteStore(join(dir, 'm', 'skiff.db'));
    await store.create('/registry/namespaces/default', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', uid: 'ns' }, status: { phase: 'Active' } });
    for (const o of Object.values(bare)) await store.create(objectKey(kindOf(o.kind), 'default', o.metadata.name), o);
    await store.close();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, mqttHost: '127.0.0.1', httpPort: -1, mdns: false, engine: testEngine, logger: silentLogger, podSecurityDefault: 'privileged' });
  });

  afterAll(async () => {
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the cache serves them defaulted (controllers, scheduler, desired sets read it)', () => {
    const pod = master.informers.get('Pod', 'default', 'old')!;
    expect(pod.spec).toMatchObject(podDefaults);
    expect(pod.spec.containers[0].ports![0].protocol).toBe('TCP');
    const d = master.informers.get('Deployment', 'default', 'old-web')!;
    expect(d.spec).toMatchObject({ replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } });
    expect(d.spec.template.spec).toMatchObject(podDefaults);
  });

  it('the API layer reads them defaulted (get, list, inside a mutation)', async () => {
    const svc = (await master.objects.get('Service', 'default', 'old-svc'))!;
    expect(svc.spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] });
    const { items } = await master.objects.list('Pod', 'default');
    expect(items.find((p) => p.metadata.name === 'old')!.spec).toMatchObject(podDefaults);
    let seen: Pod | undefined;
    await master.objects.mutate('Pod', 'default', 'old', (cur) => void (seen = structuredClone(cur)));
    expect(seen!.spec).toMatchObject(podDefaults);
  });

  it('the agent is sent the pod defaulted', () => {
    const desired = new DesiredPublisher({ objects: master.objects, informers: master.informers, events: undefined as never, log: silentLogger }, async () => undefined);
    expect(desired.desiredOf('old-node').pods[0].spec).toMatchObject({ ...podDefaults, nodeName: 'old-node' });
  });

  it("the master's own creates are stored defaulted", async () => {
    const raw = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'made', namespace: 'default' }, spec: { containers: [{ name: 'c', command: ['true'] }] } };
    await master.objects.create(raw as KObject);
    const stored = await master.store.get<Pod>(objectKey(kindOf('Pod'), 'default', 'made'));
    expect(stored!.value.spec).toMatchObject(podDefaults);
  });
});

describe('applyDefaults', () => {
  it('is idempotent and leaves unknown kinds and junk alone', () => {
    const once = applyDefaults(structuredClone(bare.deployment) as KObject);
    expect(applyDefaults(structuredClone(once))).toEqual(once);
    expect(applyDefaults({ apiVersion: 'x/v1', kind: 'Gizmo', metadata: { name: 'g' }, spec: {} })).toEqual({ apiVersion: 'x/v1', kind: 'Gizmo', metadata: { name: 'g' }, spec: {} });
    const broken = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b' }, spec: {} } as KObject;
    expect(applyDefaults(broken)).toBe(broken); // no containers: served as stored, no throw
  });
});

describe('the agent defaults the desired sets it takes in', () => {
  it('fills restartPolicy, the grace period and port protocols; keeps what is set', () => {
    const checked = checkDesired({
      generation: 3,
      pods: [
        { metadata: { name: 'a', uid: 'u-a' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] } },
        { metadata: { name: 'j', uid: 'u-j' }, spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 5, containers: [{ name: 'c' }] } },
      ],
    });
    expect(checked.ok).toBe(true);
    const [a, j] = (checked as { desired: { pods: Pod[] } }).desired.pods;
    expect(a.spec).toMatchObject(podDefaults);
    expect(a.spec.containers[0].ports![0].protocol).toBe('TCP');
    expect(j.spec).toMatchObject({ restartPolicy: 'Never', terminationGracePeriodSeconds: 5 });
  });
});
