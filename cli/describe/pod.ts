/** `skiff describe pod`: the kubectl layout (Name … Containers, Conditions, Volumes, Events). */
import { qosClass, type Container, type ContainerState, type ContainerStatus, type Pod, type PodPortStatus } from '../../protocol/index.js';
import { podStatus } from '../format/pod-status.js';
import { DescribeWriter, formatTime } from './writer.js';

/** Writes the pod's fields; the caller appends Events. */
export function describePod(w: DescribeWriter, pod: Pod): void {
  const st = pod.status ?? {};
  const spec = pod.spec;
  w.field(0, 'Name', pod.metadata.name).field(0, 'Namespace', pod.metadata.namespace);
  if (spec.runtimeClassName) w.field(0, 'Runtime Class Name', spec.runtimeClassName);
  w.field(0, 'Node', spec.nodeName ? `${spec.nodeName}${st.hostIP ? '/' + st.hostIP : ''}` : '<none>');
  if (st.startTime) w.field(0, 'Start Time', formatTime(st.startTime));
  w.map(0, 'Labels', pod.metadata.labels).map(0, 'Annotations', pod.metadata.annotations);
  if (pod.metadata.deletionTimestamp) w.field(0, 'Status', `Terminating (lasts since ${formatTime(pod.metadata.deletionTimestamp)})`);
  else w.field(0, 'Status', podStatus(pod));
  if (st.reason) w.field(0, 'Reason', st.reason);
  if (st.message) w.field(0, 'Message', st.message);
  w.field(0, 'IP', st.podIP);
  const owner = (pod.metadata.ownerReferences ?? []).find((o) => o.controller);
  if (owner) w.field(0, 'Controlled By', `${owner.kind}/${owner.name}`);
  const initStatuses: ContainerStatus[] = st.initContainerStatuses ?? [];
  const inits = (spec.initContainers ?? []) as Container[];
  if (inits.length) {
    w.section(0, 'Init Containers');
    for (const c of inits) describeContainer(w, c, initStatuses.find((s) => s.name === c.name), st.ports);
  }
  w.section(0, 'Containers');
  const statuses = st.containerStatuses ?? [];
  for (const c of spec.containers ?? []) describeContainer(w, c, statuses.find((s) => s.name === c.name), st.ports);
  w.table(0, 'Conditions', ['Type', 'Status'], (st.conditions ?? []).map((c) => [c.type, c.status]));
  const volumes = spec.volumes ?? [];
  if (volumes.length) w.list(0, 'Volumes', volumes.map((v) => v.name));
  // The agent reports it; a pod no agent has reported yet gets it computed the same way (protocol/qos.ts).
  w.field(0, 'QoS Class', st.qosClass ?? qosClass({ containers: spec.containers ?? [], initContainers: inits }));
  w.map(0, 'Node-Selectors', spec.nodeSelector);
  w.list(0, 'Tolerations', (spec.tolerations ?? []).map((t) => `${t.key ?? ''}${t.operator === 'Exists' ? '' : `=${t.value ?? ''}`}${t.effect ? ':' + t.effect : ''}`));
}

function describeContainer(w: DescribeWriter, c: Container, s: ContainerStatus | undefined, bound?: PodPortStatus[]): void {
  w.section(1, c.name);
  if (c.image) w.field(2, 'Image', c.image);
  if (c.restartPolicy) w.field(2, 'Restart Policy', c.restartPolicy);
  // One argument a line, as kubectl; a multi-line argument (an inline script) keeps its lines, indented.
  const argLines = (a: string[]) => a.flatMap((x) => x.replace(/\n$/, '').split('\n')).join('\n      ');
  if (c.command?.length) w.section(2, 'Command').text(3, argLines(c.command));
  if (c.args?.length) w.section(2, 'Args').text(3, argLines(c.args));
  const ports = (c.ports ?? []).map((p) => {
    // Skiff: a process pod's port 0 is picked by the agent and reported in status.ports.
    const actual = bound?.find((b) => b.containerName === c.name && (b.name ?? '') === (p.name ?? ''))?.port;
    const n = p.containerPort ? p.containerPort : (actual ?? '<auto>');
    const notes = [p.name, !p.containerPort && actual ? 'picked by the agent' : undefined].filter(Boolean).join(', ');
    return `${n}/${p.protocol ?? 'TCP'}${notes ? ` (${notes})` : ''}`;
  });
  w.list(2, ports.length > 1 ? 'Ports' : 'Port', ports);
  if (s) {
    stateLines(w, 'State', s.state);
    if (s.lastState && Object.keys(s.lastState).length) stateLines(w, 'Last State', s.lastState);
    w.field(2, 'Ready', s.ready ? 'True' : 'False').field(2, 'Restart Count', s.restartCount ?? 0);
  } else w.field(2, 'State', 'Waiting').field(2, 'Ready', 'False').field(2, 'Restart Count', 0);
  const req = c.resources?.requests;
  const lim = c.resources?.limits;
  if (lim) w.map(2, 'Limits', Object.fromEntries(Object.entries(lim).map(([k, v]) => [k, String(v)])));
  if (req) w.map(2, 'Requests', Object.fromEntries(Object.entries(req).map(([k, v]) => [k, String(v)])));
  w.list(2, 'Environment', (c.env ?? []).map((e) => `${e.name}:  ${e.value ?? (e.valueFrom ? '<set from a reference>' : '')}`));
}

/** `State: Running / Started: …` or `Waiting / Reason: …` or `Terminated / Reason, Exit Code, …`. */
function stateLines(w: DescribeWriter, key: string, state: ContainerState | undefined): void {
  if (state?.running) {
    w.field(2, key, 'Running').field(3, 'Started', formatTime(state.running.startedAt));
  } else if (state?.terminated) {
    const t = state.terminated;
    w.field(2, key, 'Terminated').field(3, 'Reason', t.reason ?? (t.exitCode === 0 ? 'Completed' : 'Error'));
    if (t.message) w.field(3, 'Message', t.message);
    w.field(3, 'Exit Code', t.exitCode);
    if (t.signal) w.field(3, 'Signal', t.signal);
    if (t.startedAt) w.field(3, 'Started', formatTime(t.startedAt));
    if (t.finishedAt) w.field(3, 'Finished', formatTime(t.finishedAt));
  } else {
    w.field(2, key, 'Waiting');
    if (state?.waiting?.reason) w.field(3, 'Reason', state.waiting.reason);
    if (state?.waiting?.message) w.field(3, 'Message', state.waiting.message);
  }
}
