/**
 * Endpoints controller rules, in memory: which pods back a Service (bound, not terminating, selected),
 * ready and not-ready addresses (pod and node readiness), target ports by number and by name (declared
 * or picked by the agent), subsets grouped by port set, the retained message every proxy reads
 * (published only on change, cleared on delete), selector-less Services, and a canary split across two
 * Deployments behind one Service.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decode, isReady, topics, type Endpoints, type ServiceMessage } from '../../protocol/index.js';
import { startDeploymentController } from '../../master/controllers/deployment/sync.js';
import { startEndpointsController } from '../../master/controllers/endpoints.js';
import { startReplicaSetController } from '../../master/controllers/replicaset.js';
import { harness, type Harness } from './harness.js';
import { deploymentWith, nodeWith, podWith, serviceWith } from './builders.js';

let h: Harness;
/** Retained messages as the broker would keep them (an empty payload clears one), and how many were sent. */
let retained: Map<string, ServiceMessage>;
let sent: number;
beforeEach(async () => {
  h = await harness();
  retained = new Map();
  sent = 0;
  await h.create(nodeWith({ name: 'n1', ip: '10.0.0.1' }));
  await h.create(nodeWith({ name: 'n2', ip: '10.0.0.2' }));
  await h.run((ctx) =>
    startEndpointsController(ctx, async (topic, payload, retain) => {
      expect(retain).toBe(true);
      sent++;
      if (payload.length === 0) retained.delete(topic);
      else retained.set(topic, decode<ServiceMessage>(payload).value);
    }),
  );
});
afterEach(() => h.stop());

const message = (name = 'web') => retained.get(topics.service('default', name));
const endpoints = (name = 'web') => h.get('Endpoints', 'default', name);
const ips = (list?: { ip: string; targetRef?: { name: string } }[]) => (list ?? []).map((a) => `${a.targetRef?.name}@${a.ip}`);
const web = serviceWith({ selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });

describe('Endpoints: which pods, ready or not', () => {
  it.each<[string, Parameters<typeof podWith>[0], 'ready' | 'notReady' | 'none']>([
    ['bound, Running and Ready', { name: 'p', node: 'n1', ready: true }, 'ready'],
    ['bound, Running, not Ready', { name: 'p', node: 'n1', phase: 'Running', ready: false }, 'notReady'],
    ['bound, Pending', { name: 'p', node: 'n1' }, 'notReady'],
    ['not bound to a node', { name: 'p', ready: true }, 'none'],
    ['not selected', { name: 'p', node: 'n1', ready: true, labels: { app: 'db' } }, 'none'],
    ['Ready on a node that is not Ready', { name: 'p', node: 'n3', ready: true }, 'notReady'],
  ])('%s → %s', async (_what, pod, want) => {
    await h.create(nodeWith({ name: 'n3', ip: '10.0.0.3', ready: 'Unknown' }));
    await h.create(web);
    await h.create(podWith(pod));
    const [subset] = endpoints()?.subsets ?? [];
    expect(ips(subset?.addresses)).toEqual(want === 'ready' ? [`p@${pod.node === 'n3' ? '10.0.0.3' : '10.0.0.1'}`] : []);
    expect(ips(subset?.notReadyAddresses).length).toBe(want === 'notReady' ? 1 : 0);
    expect(message()!.endpoints.map((e) => e.pod)).toEqual(want === 'ready' ? ['p'] : []);
  });

  it('a terminating pod leaves the endpoints at once; its node turning NotReady takes a pod out of the ready set', async () => {
    await h.create(web);
    await h.create(podWith({ name: 'a', node: 'n1', ready: true }));
    await h.create(podWith({ name: 'b', node: 'n2', ready: true }));
    expect(message()!.endpoints.map((e) => `${e.pod}@${e.address}:${e.ports.http}`)).toEqual(['a@10.0.0.1:8080', 'b@10.0.0.2:8080']);
    await h.delete('Pod', 'default', 'a');
    expect(message()!.endpoints.map((e) => e.pod)).toEqual(['b']);
    await h.update('Node', undefined, 'n2', (n) => (n.status!.conditions = [{ type: 'Ready', status: 'Unknown' }]));
    expect(message()!.endpoints).toEqual([]);
    expect(ips(endpoints()!.subsets![0].notReadyAddresses)).toEqual(['b@10.0.0.2']);
  });
});

describe('Endpoints: ports', () => {
  const named = serviceWith({
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'web' },
      { name: 'metrics', port: 9100, targetPort: 9100 },
    ],
  });

  it('resolves a named targetPort per pod, groups addresses by port set, and leaves out a pod without the port', async () => {
    await h.create(named);
    await h.create(podWith({ name: 'a', node: 'n1', ready: true, ports: [{ name: 'web', containerPort: 8080 }] }));
    await h.create(podWith({ name: 'b', node: 'n2', ready: true, ports: [{ name: 'web', containerPort: 8081 }] }));
    await h.create(podWith({ name: 'c', node: 'n2', ready: true, ports: [{ name: 'web', containerPort: 8081 }] }));
    const subsets = endpoints()!.subsets!.map((s) => [s.ports?.map((p) => `${p.name}:${p.port}`).join(','), ips(s.addresses).join(',')]);
    expect(subsets).toEqual([
      ['http:8080,metrics:9100', 'a@10.0.0.1'],
      ['http:8081,metrics:9100', 'b@10.0.0.2,c@10.0.0.2'],
    ]);
    expect(message()!.endpoints.map((e) => [e.pod, e.ports])).toEqual([
      ['a', { http: 8080, metrics: 9100 }],
      ['b', { http: 8081, metrics: 9100 }],
      ['c', { http: 8081, metrics: 9100 }],
    ]);
  });

  it('takes a port the agent picked (containerPort 0) from the pod status', async () => {
    await h.create(named);
    const p = podWith({ name: 'a', node: 'n1', ready: true, ports: [{ name: 'web', containerPort: 0 }] });
    p.status!.ports = [{ containerName: 'main', name: 'web', port: 41234, protocol: 'TCP' }];
    await h.create(p);
    expect(message()!.endpoints.map((e) => e.ports)).toEqual([{ http: 41234, metrics: 9100 }]);
  });
});

describe('Endpoints: publishing', () => {
  it('publishes only when the set changes, and clears the retained message and the Endpoints when the Service goes', async () => {
    await h.create(web);
    await h.create(podWith({ name: 'a', node: 'n1', ready: true }));
    const before = sent;
    await h.update('Pod', 'default', 'a', (p) => (p.metadata.annotations = { note: 'unrelated' }));
    expect(sent).toBe(before);
    await h.delete('Service', 'default', 'web');
    expect(message()).toBeUndefined();
    expect(endpoints()).toBeUndefined();
  });

  it('a Service without a selector follows the Endpoints its user applies, which stay when the Service goes', async () => {
    await h.create(serviceWith({ name: 'ext', ports: [{ name: 'db', port: 5432 }] }));
    await h.create<Endpoints>({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext', namespace: 'default' }, subsets: [{ addresses: [{ ip: '192.168.1.50' }], ports: [{ name: 'db', port: 5432 }] }] });
    expect(message('ext')!.endpoints.map((e) => `${e.address}:${e.ports.db}`)).toEqual(['192.168.1.50:5432']);
    await h.delete('Service', 'default', 'ext');
    expect(message('ext')).toBeUndefined();
    expect(endpoints('ext')).toBeDefined();
  });
});

describe('Endpoints: a canary behind one Service (two Deployments, one selector)', () => {
  it('splits the endpoints like the replicas, and follows a scale of either track', async () => {
    await h.run(startReplicaSetController);
    await h.run(startDeploymentController);
    await h.create(serviceWith({ selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }));
    await h.create(deploymentWith({ name: 'web-stable', replicas: 3, labels: { app: 'web', track: 'stable' } }));
    await h.create(deploymentWith({ name: 'web-canary', replicas: 1, version: 'v2', labels: { app: 'web', track: 'canary' } }));
    /** Plays scheduler and agents: every pod bound and ready. */
    const runAll = async () => {
      const waiting = () => h.pods({ app: 'web' }).filter((p) => !p.metadata.deletionTimestamp && (!p.spec.nodeName || !isReady(p)));
      await h.bind(waiting().filter((p) => !p.spec.nodeName), 'n1');
      await h.setReady(waiting());
    };
    const split = () => {
      const byPod = new Map(h.pods({ app: 'web' }).map((p) => [p.metadata.name, p.metadata.labels?.track]));
      const tracks = message()!.endpoints.map((e) => byPod.get(e.pod));
      return { stable: tracks.filter((t) => t === 'stable').length, canary: tracks.filter((t) => t === 'canary').length };
    };
    await runAll();
    expect(split()).toEqual({ stable: 3, canary: 1 });
    await h.update('Deployment', 'default', 'web-canary', (d) => (d.spec.replicas = 3));
    await runAll();
    expect(split()).toEqual({ stable: 3, canary: 3 });
    await h.update('Deployment', 'default', 'web-canary', (d) => (d.spec.replicas = 0));
    expect(split()).toEqual({ stable: 3, canary: 0 });
  });
});
