import { describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/validation.js';
import { SkiffError, asKind, normalizeObject, parseManifests } from '../../protocol/index.js';

/** Tiny builders. */
const deployment = (spec: Record<string, unknown>, name = 'web') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', command: ['node', 'server.js'] }] } },
    ...spec,
  },
});
const pod = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...meta }, spec });


describe('validation names the object, field and rule', () => {
  const cases: [string, unknown, string, string][] = [
    ['replicas of the wrong type', deployment({ replicas: 'three' }), 'spec.replicas', 'Deployment/web: spec.replicas: must be an integer ≥ 0, got "three"'],
    ['negative replicas', deployment({ replicas: -1 }), 'spec.replicas', 'must be an integer ≥ 0, got -1'],
    ['missing selector', deployment({ selector: undefined }), 'spec.selector', 'spec.selector: is required'],
    ['template labels not matching', deployment({ selector: { matchLabels: { app: 'other' } } }), 'spec.template.metadata.labels', 'must match spec.selector'],
    ['no containers', pod({ containers: [] }), 'spec.containers', 'must have at least one container'],
    ['bad container name', pod({ containers: [{ name: 'Web_1', command: ['x'] }] }), 'spec.containers[0].name', 'must be a DNS label'],
    ['duplicate container names', pod({ containers: [{ name: 'a', command: ['x'] }, { name: 'a', command: ['y'] }] }), 'spec.containers[1].name', 'must be unique within the pod'],
    ['port out of range', pod({ containers: [{ name: 'a', command: ['x'], ports: [{ containerPort: 70000 }] }] }), 'spec.containers[0].ports[0].containerPort', 'from 0 to 65535'],
    ['bad quantity', pod({ containers: [{ name: 'a', command: ['x'], resources: { requests: { cpu: 'lots' } } }] }), 'spec.containers[0].resources.requests.cpu', 'must be a quantity'],
    ['bad restart policy', pod({ containers: [{ name: 'a', command: ['x'] }], restartPolicy: 'Sometimes' }), 'spec.restartPolicy', 'must be one of Always, OnFailure, Never'],
    ['process container without command', pod({ containers: [{ name: 'a' }] }), 'spec.containers[0].command', 'is required for a process container'],
    ['wasi without image', pod({ runtimeClassName: 'wasi', containers: [{ name: 'a', command: ['x'] }] }), 'spec.containers[0].image', 'is required with runtimeClassName wasi'],
    ['unknown runtime class', pod({ runtimeClassName: 'vm', containers: [{ name: 'a', command: ['x'] }] }), 'spec.runtimeClassName', 'must be one of process, container, wasi'],
    ['bad label value', pod({ containers: [{ name: 'a', command: ['x'] }] }, { labels: { app: 'has space' } }), 'metadata.labels[app]', 'must be a label value'],
    ['missing name', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, 'metadata.name', 'is required'],
    ['wrong apiVersion', { apiVersion: 'v1', kind: 'Deployment', metadata: { name: 'x' }, spec: {} }, 'apiVersion', 'must be apps/v1 for Deployment'],
    ['service without ports', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [] } }, 'spec.ports', 'must have at least one port'],
    ['secret data not base64', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: 'not base64!' } }, 'data[k]', 'must be base64-encoded'],
    ['toleration Exists with value', pod({ containers: [{ name: 'a', command: ['x'] }], tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] }), 'spec.tolerations[0].value', 'must be empty when operator is Exists'],
    ['toleration without key and operator Equal', pod({ containers: [{ name: 'a', command: ['x'] }], tolerations: [{ operator: 'Equal', value: 'v' }] }), 'spec.tolerations[0].operator', 'must be Exists when key is empty'],
    ['toleration without key and operator', pod({ containers: [{ name: 'a', command: ['x'] }], tolerations: [{ effect: 'NoSchedule' }] }), 'spec.tolerations[0].operator', 'must be Exists when key is empty, got "Equal"'],
    ['tolerationSeconds without NoExecute', pod({ containers: [{ name: 'a', command: ['x'] }], tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }] }), 'spec.tolerations[0].effect', 'must be NoExecute when tolerationSeconds is set'],
    ['volume mount of an unknown volume', pod({ containers: [{ name: 'a', command: ['x'], volumeMounts: [{ name: 'cfg', mountPath: '/c' }] }] }), 'spec.containers[0].volumeMounts[0].name', 'must name a volume'],
    ['node namespace set', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', namespace: 'x' } }, 'metadata.namespace', 'must be empty'],
    ['maxSurge and maxUnavailable both 0', deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }), 'spec.strategy.rollingUpdate', 'may not both be 0'],
  ];
  it.each(cases)('%s', (_what, raw, field, text) => {
    const err = errorOf(raw);
    expect(err).toBeInstanceOf(SkiffError);
    expect(err.code).toBe('SKIFF_ERR_VALIDATION');
    expect(err.details?.map((d) => d.field)).toContain(field);
    expect(err.message).toContain(text);
  });

  it('reports every broken rule at once', () => {
    const err = errorOf(pod({ containers: [{ name: 'Bad', ports: [{ containerPort: -1 }] }] }));
    expect(err.details?.map((d) => d.field).sort()).toEqual(['spec.containers[0].command', 'spec.containers[0].name', 'spec.containers[0].ports[0].containerPort']);
  });

  it('an unknown kind is its own error', () => {
    const err = errorOf({ apiVersion: 'v1', kind: 'Gizmo', metadata: { name: 'g' } });
    expect(err.code).toBe('SKIFF_ERR_UNKNOWN_KIND');
    expect(err.message).toContain('Gizmo/g');
  });
});

describe('defaults as in Kubernetes', () => {
  it('fills a Deployment', () => {
    const d = asKind(normalizeObject(deployment({ replicas: undefined })), 'Deployment');
    expect(d.metadata.namespace).toBe('default');
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(d.spec.revisionHistoryLimit).toBe(10);
    expect(d.spec.template.spec.restartPolicy).toBe('Always');
  });
  it('folds Secret stringData into base64 data', () => {
    const s = normalizeObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: 'hunter2' } });
    expect(s.data).toEqual({ password: Buffer.from('hunter2').toString('base64') });
    expect(s.stringData).toBeUndefined();
    expect(s.type).toBe('Opaque');
  });
  it('fills a Service', () => {
    const s = normalizeObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
    expect(s.spec).toEqual({ selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], type: 'ClusterIP', sessionAffinity: 'None' });
  });
  it('keeps the input untouched', () => {
    const raw = deployment({ replicas: undefined });
    const copy = structuredClone(raw);
    normalizeObject(raw);
    expect(raw).toEqual(copy);
  });
});

describe('manifests', () => {
  it('reads several YAML documents and JSON Lists', () => {
    const docs = parseManifests(`apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# comment only\n---\n{"kind": "List", "items": [{"kind": "ConfigMap"}, {"kind": "Secret"}]}\n`);
    expect(docs.map((d: any) => d.kind)).toEqual(['Namespace', 'ConfigMap', 'Secret']);
  });
  it('names the line of a YAML error', () => {
    expect(() => parseManifests('kind: Pod\nmetadata: {name: [x\n', 'app.yaml')).toThrow(/app\.yaml \(line \d+, column \d+\)/);
  });
  it('refuses an empty file', () => {
    expect(() => parseManifests('  \n', 'empty.yaml')).toThrow(/empty\.yaml: no documents found/);
  });
  it('refuses duplicate keys', () => {
    expect(() => parseManifests('kind: Pod\nkind: Service\n')).toThrow(SkiffError);
  });
});
