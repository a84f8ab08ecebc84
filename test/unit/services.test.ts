/** Service allocation (clusterIP, nodePort) and target port resolution, table-driven with tiny builders. */
import { describe, expect, it } from 'vitest';
import { applyDefaults, type Node, type Pod, type Service } from '../../protocol/index.js';
import { allocateService } from '../../master/services/allocate.js';
import { endpointsOf, resolveTargetPort } from '../../master/services/endpoints.js';

/** Builders give objects as stored: defaulted (the master defaults every object it stores or reads). */
const svcWith = (name: string, spec: Partial<Service['spec']> = {}, ns = 'default'): Service => applyDefaults({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});
const podWith = (ports: { name?: string; containerPort?: number; protocol?: 'TCP' | 'UDP' }[], bound: { name?: string; port: number; protocol?: 'TCP' | 'UDP' }[] = [], extra: Partial<Pod> = {}): Pod => applyDefaults({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', labels: { app: 'x' } },
  spec: { nodeName: 'n1', containers: [{ name: 'c', ports }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], ports: bound.map((b) => ({ containerName: 'c', protocol: 'TCP', ...b })) },
  ...extra,
} as Pod);

describe('clusterIP allocation', () => {
  it('allocates a unique address in 127.77.0.0/16, keeps it on re-apply, refuses to change it', () => {
    const a = allocateService(svcWith('a'), undefined, []);
    expect(a.spec.clusterIP).toMatch(/^127\.77\.\d+\.\d+$/);
    expect(a.spec.clusterIP).not.toMatch(/^127\.77\.(0\.0|255\.255)$/);
    // Same name in another namespace: another address (the two-services-on-port-80 case).
    const b = allocateService(svcWith('a', {}, 'other'), undefined, [a]);
    expect(b.spec.clusterIP).not.toBe(a.spec.clusterIP);
    expect(allocateService(svcWith('a'), a, [a]).spec.clusterIP).toBe(a.spec.clusterIP);
    expect(() => allocateService(svcWith('a', { clusterIP: '127.77.1.1' }), a, [a])).toThrow(/spec\.clusterIP: field is immutable/);
  });

  it('takes a requested address when free and in range; None is headless', () => {
    expect(allocateService(svcWith('a', { clusterIP: '127.77.3.4' }), undefined, []).spec.clusterIP).toBe('127.77.3.4');
    expect(allocateService(svcWith('a', { clusterIP: 'None' }), undefined, []).spec.clusterIP).toBe('None');
    const taken = svcWith('t', { clusterIP: '127.77.3.4' });
    expect(() => allocateService(svcWith('a', { clusterIP: '127.77.3.4' }), undefined, [taken])).toThrow(/Service\/a: spec\.clusterIP: provided IP is already allocated/);
    for (const bad of ['10.0.0.1', '127.77.0.0', 'x', '127.77.300.1'])
      expect(() => allocateService(svcWith('a', { clusterIP: bad }), undefined, []), bad).toThrow(/spec\.clusterIP: must be "None" or an address in 127\.77\.0\.0\/16/);
  });

  it('never hands out a taken address (many services)', () => {
    const all: Service[] = [];
    for (let i = 0; i < 300; i++) all.push(allocateService(svcWith(`s${i}`), undefined, all));
    expect(new Set(all.map((s) => s.spec.clusterIP)).size).toBe(300);
  });
});

describe('nodePort allocation', () => {
  const np = (name: string, ports: Service['spec']['ports']) => svcWith(name, { type: 'NodePort', ports });
  it('allocates in 30000-32767, unique per protocol, kept on re-apply', () => {
    const a = allocateService(np('a', [{ name: 'h', port: 80, protocol: 'TCP' }, { name: 'd', port: 53, protocol: 'UDP' }]), undefined, []);
    for (const p of a.spec.ports) expect(p.nodePort).toBeGreaterThanOrEqual(30000), expect(p.nodePort).toBeLessThanOrEqual(32767);
    const again = allocateService(np('a', [{ name: 'h', port: 80, protocol: 'TCP' }, { name: 'd', port: 53, protocol: 'UDP' }]), a, [a]);
    expect(again.spec.ports.map((p) => p.nodePort)).toEqual(a.spec.ports.map((p) => p.nodePort));
    const b = allocateService(np('b', [{ port: 80, protocol: 'TCP' }]), undefined, [a]);
    expect(b.spec.ports[0].nodePort).not.toBe(a.spec.ports[0].nodePort);
  });

  it('never gives 127.77.0.10: its pod-network mirror is the cluster DNS server', () => {
    expect(() => allocateService(svcWith('dns', { clusterIP: '127.77.0.10' }), undefined, [])).toThrow(/Service\/dns: spec\.clusterIP: is reserved/);
    // A service whose search starts at .10 (FNV-1a of namespace/name mod 65534 = 9, allocate.ts) gets .11.
    const fnv = (x: string) => [...x].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0, 0x811c9dc5);
    let i = 0;
    while (fnv(`default/s${i}`) % 65534 !== 9) i++;
    expect(allocateService(svcWith(`s${i}`), undefined, []).spec.clusterIP).toBe('127.77.0.11');
  });

  it('checks requested node ports: range, collisions; ClusterIP services get none', () => {
    const a = allocateService(np('a', [{ port: 80, protocol: 'TCP', nodePort: 30080 }]), undefined, []);
    expect(a.spec.ports[0].nodePort).toBe(30080);
    expect(() => allocateService(np('b', [{ port: 80, protocol: 'TCP', nodePort: 30080 }]), undefined, [a])).toThrow(/Service\/b: spec\.ports\[0\]\.nodePort: provided port is already allocated, got 30080/);
    expect(allocateService(np('c', [{ port: 80, protocol: 'UDP', nodePort: 30080 }]), undefined, [a]).spec.ports[0].nodePort).toBe(30080);
    expect(() => allocateService(np('d', [{ port: 80, protocol: 'TCP', nodePort: 8080 }]), undefined, [])).toThrow(/must be in the node port range 30000-32767/);
    expect(allocateService(svcWith('e'), undefined, []).spec.ports[0].nodePort).toBeUndefined();
  });
});

describe('target port resolution', () => {
  // A service port as stored: defaulted (no targetPort: the port itself, as core/v1).
  const sp = (targetPort: number | string | undefined, protocol: 'TCP' | 'UDP' = 'TCP') => svcWith('s', { ports: [{ port: 80, targetPort, protocol }] }).spec.ports[0];
  it.each([
    ['a number is used as is', sp(8080), podWith([]), 8080],
    ['no targetPort: the service port', sp(undefined), podWith([]), 80],
    ['a name: the container port', sp('http'), podWith([{ name: 'http', containerPort: 9000 }]), 9000],
    ['a name with containerPort 0: the port the agent picked', sp('http'), podWith([{ name: 'http', containerPort: 0 }], [{ name: 'http', port: 41234 }]), 41234],
    ['a name not yet bound: none', sp('http'), podWith([{ name: 'http', containerPort: 0 }]), undefined],
    ['a name with another protocol: none', sp('dns', 'UDP'), podWith([{ name: 'dns', containerPort: 53, protocol: 'TCP' }]), undefined],
    ['an unknown name: none', sp('nope'), podWith([{ name: 'http', containerPort: 9000 }]), undefined],
    // A container pod with its own network: reached at the node port its agent published for that containerPort.
    ['a number published by a container pod: the node port', sp(80), podWith([{ containerPort: 80 }], [{ port: 31005, containerPort: 80 } as never]), 31005],
    ['a name published by a container pod: the node port', sp('http'), podWith([{ name: 'http', containerPort: 80 }], [{ name: 'http', port: 31006, containerPort: 80 } as never]), 31006],
    ['published for another protocol: the container port', sp(80), podWith([{ containerPort: 80 }], [{ port: 31007, containerPort: 80, protocol: 'UDP' } as never]), 80],
  ])('%s', (_what, port, pod, want) => {
    expect(resolveTargetPort(port, pod)).toBe(want);
  });
});

describe('endpoints of a service', () => {
  const node = (name: string, ready: boolean, ip: string): Node =>
    ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }) as Node;
  it('lists only ready pods on Ready nodes, at the node address, not-ready ones in notReadyAddresses', () => {
    const nodes = { n1: node('n1', true, '10.0.0.1'), n2: node('n2', false, '10.0.0.2') };
    const svc = svcWith('s', { selector: { app: 'x' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 'http' }] });
    const mk = (name: string, nodeName: string, ready: boolean, extra: Partial<Pod['metadata']> = {}) => {
      const p = podWith([{ name: 'http', containerPort: 0 }], [{ name: 'http', port: 40000 + name.length }]);
      p.metadata = { ...p.metadata, name, ...extra };
      p.spec.nodeName = nodeName;
      if (!ready) p.status!.conditions = [{ type: 'Ready', status: 'False' }];
      return p;
    };
    const pods = [mk('ok', 'n1', true), mk('notready', 'n1', false), mk('on-dead-node', 'n2', true), mk('gone', 'n1', true, { deletionTimestamp: 'now' }), mk('other', 'n1', true, { labels: { app: 'y' } })];
    const { message, subsets } = endpointsOf(svc, pods, (n) => nodes[n as 'n1']);
    expect(message.endpoints.map((e) => `${e.pod}@${e.address}:${e.ports['']}`)).toEqual(['ok@10.0.0.1:40002']);
    expect(subsets.flatMap((s) => s.notReadyAddresses ?? []).map((a) => a.targetRef?.name).sort()).toEqual(['notready', 'on-dead-node']);
  });
});
