/** Validation and defaults of the core/v1 kinds other than Pod: Namespace, Node, Service, ConfigMap, Secret. */
import type { Checker } from '../check.js';
import { isObject } from '../check.js';
import { dataBytes, maxDataBytes, showBytes } from '../limits.js';
import type { ConfigMap, Secret, Service } from '../types.js';

const effects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
const dataKey = /^[-._a-zA-Z0-9]+$/;

/** Checks a Namespace (nothing beyond metadata). */
export function checkNamespace(_c: Checker, _o: Record<string, any>): void {}

/** Checks the user-settable parts of a Node: spec.unschedulable, spec.taints. */
export function checkNode(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec')) return;
  c.bool(o.spec.unschedulable, 'spec.unschedulable');
  if (c.array(o.spec.taints, 'spec.taints'))
    o.spec.taints.forEach((t: unknown, i: number) => {
      if (!c.object(t, `spec.taints[${i}]`, true)) return;
      c.string(t.key, `spec.taints[${i}].key`, true);
      c.string(t.value, `spec.taints[${i}].value`);
      c.oneOf(t.effect, `spec.taints[${i}].effect`, effects, true);
    });
}

/** Checks a Service: ports (unique names, valid numbers), selector, type, sessionAffinity. */
export function checkService(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true)) return;
  const s = o.spec;
  c.labels(s.selector, 'spec.selector');
  c.oneOf(s.type, 'spec.type', ['ClusterIP', 'NodePort', 'LoadBalancer']);
  c.oneOf(s.sessionAffinity, 'spec.sessionAffinity', ['None', 'ClientIP']);
  if (!c.array(s.ports, 'spec.ports', true)) return;
  if (s.ports.length === 0) c.fail('spec.ports', 'must have at least one port');
  const names = new Set<string>();
  s.ports.forEach((p: unknown, i: number) => {
    const f = `spec.ports[${i}]`;
    if (!c.object(p, f, true)) return;
    c.port(p.port, `${f}.port`, false, true);
    c.oneOf(p.protocol, `${f}.protocol`, ['TCP', 'UDP']);
    if (typeof p.targetPort === 'string') c.dnsLabel(p.targetPort, `${f}.targetPort`);
    else c.port(p.targetPort, `${f}.targetPort`);
    c.int(p.nodePort, `${f}.nodePort`, 1, 65535);
    if (p.nodePort !== undefined && s.type !== 'NodePort' && s.type !== 'LoadBalancer') c.fail(`${f}.nodePort`, 'may be set only when spec.type is NodePort');
    if (s.ports.length > 1 && p.name === undefined) c.fail(`${f}.name`, 'is required when a service has more than one port');
    if (p.name !== undefined && c.dnsLabel(p.name, `${f}.name`)) {
      if (names.has(p.name)) c.fail(`${f}.name`, 'must be unique', p.name);
      names.add(p.name);
    }
  });
}

/** Service defaults: type ClusterIP, sessionAffinity None, protocol TCP, targetPort = port. */
export function defaultService(o: Service): void {
  o.spec.type ??= 'ClusterIP';
  o.spec.sessionAffinity ??= 'None';
  for (const p of o.spec.ports) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
}

function checkData(c: Checker, data: unknown, f: string, base64: boolean): void {
  if (!c.stringMap(data, f)) return;
  for (const [k, v] of Object.entries(data)) {
    if (k.length > 253 || !dataKey.test(k)) c.fail(`${f}[${k}]`, 'key must consist of letters, digits, "-", "_" or "."');
    if (base64 && !/^[A-Za-z0-9+/]*={0,2}$/.test(v.replace(/\s/g, ''))) c.fail(`${f}[${k}]`, 'must be base64-encoded (use stringData for plain text)');
  }
}

/** Kubernetes' rule: a ConfigMap's or Secret's data, all keys together and decoded, is at most 1 MiB. */
function checkDataSize(c: Checker, fields: string, maps: { value: unknown; base64: boolean }[]): void {
  const n = dataBytes(maps);
  if (n > maxDataBytes) c.fail(fields, `must hold at most ${showBytes(maxDataBytes)} in total, got ${showBytes(n)}`);
}

/** Checks a ConfigMap: data and binaryData keys, at most 1 MiB together. */
export function checkConfigMap(c: Checker, o: Record<string, any>): void {
  checkData(c, o.data, 'data', false);
  checkData(c, o.binaryData, 'binaryData', true);
  checkDataSize(c, 'data', [{ value: o.data, base64: false }, { value: o.binaryData, base64: true }]);
  c.bool(o.immutable, 'immutable');
}

/** Checks a Secret: data is base64, stringData plain, at most 1 MiB together. */
export function checkSecret(c: Checker, o: Record<string, any>): void {
  checkData(c, o.data, 'data', true);
  checkData(c, o.stringData, 'stringData', false);
  checkDataSize(c, 'data', [{ value: o.data, base64: true }, { value: o.stringData, base64: false }]);
  c.string(o.type, 'type');
  c.bool(o.immutable, 'immutable');
}

/** Secret defaults: stringData folded into base64 data (as the Kubernetes API server does), type Opaque. */
export function defaultSecret(o: Secret): void {
  o.type ??= 'Opaque';
  if (isObject(o.stringData)) {
    o.data = { ...(o.data ?? {}) };
    for (const [k, v] of Object.entries(o.stringData)) o.data[k] = Buffer.from(v, 'utf8').toString('base64');
    delete o.stringData;
  }
}

/** ConfigMap defaults: none beyond an empty data map. */
export function defaultConfigMap(o: ConfigMap): void {
  o.data ??= {};
}
