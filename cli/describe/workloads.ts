/** `skiff describe deployment|replicaset|statefulset`: replicas, strategy, pod template, claims, conditions. */
import { formatSelector, type Deployment, type ReplicaSet, type StatefulSet } from '../../protocol/index.js';
import { DescribeWriter, formatTime } from './writer.js';

function header(w: DescribeWriter, o: Deployment | ReplicaSet | StatefulSet): void {
  w.field(0, 'Name', o.metadata.name).field(0, 'Namespace', o.metadata.namespace);
  w.field(0, 'CreationTimestamp', formatTime(o.metadata.creationTimestamp));
  w.map(0, 'Labels', o.metadata.labels).map(0, 'Annotations', o.metadata.annotations);
  w.field(0, 'Selector', formatSelector(o.spec?.selector));
}

/** A Deployment: `Replicas: 2 desired | 2 updated | 2 total | 2 available | 0 unavailable`. */
export function describeDeployment(w: DescribeWriter, o: Deployment): void {
  const s = o.status ?? {};
  header(w, o);
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  w.field(0, 'Replicas', `${o.spec?.replicas ?? 1} desired | ${n(s.updatedReplicas)} updated | ${n(s.replicas)} total | ${n(s.availableReplicas)} available | ${n(s.unavailableReplicas)} unavailable`);
  const strategy = o.spec?.strategy ?? {};
  w.field(0, 'StrategyType', strategy.type ?? 'RollingUpdate');
  w.field(0, 'MinReadySeconds', o.spec?.minReadySeconds ?? 0);
  if ((strategy.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const ru = strategy.rollingUpdate ?? {};
    w.field(0, 'RollingUpdateStrategy', `${ru.maxUnavailable ?? '25%'} max unavailable, ${ru.maxSurge ?? '25%'} max surge`);
  }
  if (o.spec?.paused) w.field(0, 'Paused', 'True');
  podTemplate(w, o);
  w.table(0, 'Conditions', ['Type', 'Status', 'Reason'], (s.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? '']));
}

/** A ReplicaSet: `Replicas: 2 current / 2 desired` and who controls it. */
export function describeReplicaSet(w: DescribeWriter, o: ReplicaSet): void {
  const s = o.status;
  header(w, o);
  const owner = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (owner) w.field(0, 'Controlled By', `${owner.kind}/${owner.name}`);
  w.field(0, 'Replicas', `${s?.replicas ?? 0} current / ${o.spec?.replicas ?? 1} desired`);
  w.field(0, 'Pods Status', `${s?.readyReplicas ?? 0} Ready / ${s?.availableReplicas ?? 0} Available`);
  podTemplate(w, o);
  conditionsOf(w, o);
}

/** A StatefulSet: replicas, update strategy and partition, pod template, volume claims (kubectl's layout). */
export function describeStatefulSet(w: DescribeWriter, o: StatefulSet): void {
  const s = o.status;
  header(w, o);
  w.field(0, 'Replicas', `${o.spec?.replicas ?? 1} desired | ${s?.replicas ?? 0} total`);
  w.field(0, 'Update Strategy', o.spec?.updateStrategy?.type ?? 'RollingUpdate');
  if (o.spec?.updateStrategy?.rollingUpdate) w.field(1, 'Partition', o.spec.updateStrategy.rollingUpdate.partition ?? 0);
  w.field(0, 'Pod Management Policy', o.spec?.podManagementPolicy ?? 'OrderedReady');
  w.field(0, 'Pods Status', `${s?.readyReplicas ?? 0} Ready / ${s?.updatedReplicas ?? 0} Updated / ${s?.currentReplicas ?? 0} Current`);
  w.field(0, 'Current Revision', s?.currentRevision).field(0, 'Update Revision', s?.updateRevision);
  podTemplate(w, o);
  const claims = o.spec?.volumeClaimTemplates ?? [];
  if (claims.length === 0) w.field(0, 'Volume Claims', '<none>');
  else w.section(0, 'Volume Claims');
  for (const c of claims) {
    w.field(1, 'Name', c.metadata.name).field(1, 'StorageClass', c.spec.storageClassName ?? '');
    w.map(1, 'Labels', c.metadata.labels);
    w.field(1, 'Capacity', String(c.spec.resources?.requests?.storage ?? '')).field(1, 'Access Modes', (c.spec.accessModes ?? []).join(', '));
  }
  conditionsOf(w, o);
}

function conditionsOf(w: DescribeWriter, o: ReplicaSet | StatefulSet): void {
  const conditions = o.status?.conditions ?? [];
  if (conditions.length) w.table(0, 'Conditions', ['Type', 'Status', 'Reason', 'Message'], conditions.map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '']));
}

function podTemplate(w: DescribeWriter, o: Deployment | ReplicaSet | StatefulSet): void {
  const t = o.spec?.template;
  w.section(0, 'Pod Template');
  w.map(1, 'Labels', t?.metadata?.labels);
  if (t?.spec?.runtimeClassName) w.field(1, 'Runtime Class', t.spec.runtimeClassName);
  w.section(1, 'Containers');
  for (const c of t?.spec?.containers ?? []) {
    w.section(2, c.name);
    if (c.image) w.field(3, 'Image', c.image);
    // An inline script would swamp the layout: one line, shortened.
    if (c.command?.length) w.field(3, 'Command', c.command.map((a) => a.replace(/\s+/g, ' ').trim()).map((a) => (a.length > 60 ? a.slice(0, 57) + '...' : a)).join(' '));
    w.list(3, 'Port', (c.ports ?? []).map((p) => `${p.containerPort || '<auto>'}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`));
    w.list(3, 'Environment', (c.env ?? []).map((e) => `${e.name}:  ${e.value ?? '<set from a reference>'}`));
  }
}
