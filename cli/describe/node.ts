/** `skiff describe node`: roles, taints, conditions, addresses, capacity, system info, its pods. */
import { cpuMilli, formatCpu, type Node, type NodeResources, type Pod } from '../../protocol/index.js';
import { age } from '../format/age.js';
import { podStatus } from '../format/pod-status.js';
import { DescribeWriter, formatTime } from './writer.js';

/** Writes the node's fields; `pods` are the pods bound to it (undefined when they could not be listed). */
export function describeNode(w: DescribeWriter, o: Node, pods: Pod[] | undefined, now: number): void {
  const s = o.status ?? {};
  const labels = o.metadata.labels ?? {};
  const roles = Object.keys(labels).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice(24));
  w.field(0, 'Name', o.metadata.name).field(0, 'Roles', roles.join(',') || '<none>');
  w.map(0, 'Labels', labels).map(0, 'Annotations', o.metadata.annotations);
  w.field(0, 'CreationTimestamp', formatTime(o.metadata.creationTimestamp));
  w.list(0, 'Taints', (o.spec?.taints ?? []).map((t) => `${t.key}${t.value ? '=' + t.value : ''}:${t.effect}`));
  w.field(0, 'Unschedulable', o.spec?.unschedulable ? 'true' : 'false');
  w.table(0, 'Conditions', ['Type', 'Status', 'LastHeartbeatTime', 'LastTransitionTime', 'Reason', 'Message'],
    (s.conditions ?? []).map((c) => [c.type, c.status, formatTime(c.lastHeartbeatTime) ?? '', formatTime(c.lastTransitionTime) ?? '', c.reason ?? '', c.message ?? '']));
  w.section(0, 'Addresses');
  for (const a of s.addresses ?? []) w.field(1, a.type, a.address);
  resources(w, 'Capacity', s.capacity);
  resources(w, 'Allocatable', s.allocatable);
  const info: Partial<NonNullable<NonNullable<Node['status']>['nodeInfo']>> = s.nodeInfo ?? {};
  // kubectl's System Info fields where Skiff has them (Machine ID, System UUID, Boot ID: not reported), then Skiff's.
  w.section(0, 'System Info');
  w.field(1, 'Kernel Version', info.kernelVersion).field(1, 'OS Image', info.osImage);
  w.field(1, 'Operating System', info.operatingSystem).field(1, 'Architecture', info.architecture);
  w.field(1, 'Container Runtime Version', info.containerRuntimeVersion ?? (info.runtimes ?? []).join(','));
  w.field(1, 'Kubelet Version', info.kubeletVersion).field(1, 'Node.js Version', info.nodeVersion);
  if (info.boardModel) w.field(1, 'Board Model', info.boardModel);
  if (info.cgroupVersion) w.field(1, 'Cgroup Version', info.cgroupVersion);
  w.field(1, 'Runtimes', (info.runtimes ?? []).join(', '));
  if (!pods) return;
  const running = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  w.table(0, `Non-terminated Pods:  (${running.length} in total)`, ['Namespace', 'Name', 'CPU Requests', 'Memory Requests', 'Status', 'Age'],
    running.map((p) => {
      const req = (p.spec?.containers ?? []).map((c) => c.resources?.requests ?? {});
      const cpu = req.reduce((n, r) => n + (cpuMilli(r.cpu) ?? 0), 0);
      const mem = req.map((r) => r.memory).filter((m) => m !== undefined).join('+');
      return [p.metadata.namespace ?? '', p.metadata.name, cpu ? formatCpu(cpu) : '0', mem || '0', podStatus(p), age(p.metadata.creationTimestamp, now)];
    }));
}

function resources(w: DescribeWriter, key: string, r: NodeResources | undefined): void {
  w.section(0, key);
  for (const [k, v] of Object.entries(r ?? {})) w.field(1, k, v);
}
