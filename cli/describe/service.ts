/** `skiff describe service`: selector, type, IP, ports and endpoints. */
import { formatSelector, type Service } from '../../protocol/index.js';
import type { DescribeWriter } from './writer.js';

/** Writes the service's fields; `endpoints` when the master sent them with the describe answer. */
export function describeService(w: DescribeWriter, o: Service, endpoints?: string[]): void {
  w.field(0, 'Name', o.metadata.name).field(0, 'Namespace', o.metadata.namespace);
  w.map(0, 'Labels', o.metadata.labels).map(0, 'Annotations', o.metadata.annotations);
  w.field(0, 'Selector', formatSelector(o.spec?.selector));
  w.field(0, 'Type', o.spec?.type ?? 'ClusterIP');
  w.field(0, 'IP', o.spec?.clusterIP);
  for (const p of o.spec?.ports ?? []) {
    const proto = p.protocol ?? 'TCP';
    w.field(0, 'Port', `${p.name || '<unset>'}  ${p.port}/${proto}`);
    w.field(0, 'TargetPort', `${p.targetPort ?? p.port}/${proto}`);
    if (p.nodePort) w.field(0, 'NodePort', `${p.name || '<unset>'}  ${p.nodePort}/${proto}`);
  }
  if (endpoints) w.field(0, 'Endpoints', endpoints.join(','));
  w.field(0, 'Session Affinity', o.spec?.sessionAffinity ?? 'None');
}
