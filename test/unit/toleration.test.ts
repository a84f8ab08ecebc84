// The one toleration rule (core-wasm/toleration.ts), table by table, as Kubernetes' ToleratesTaint
// reads it — and the scheduler (both engines) and node lifecycle agreeing on every row, so a pod
// the scheduler places on a NoExecute-tainted node is never one node lifecycle evicts at once.
import { describe, expect, it } from 'vitest';
import { createEngine, tolerated, tolerates, type EngineTaint, type EngineToleration } from '../../core-wasm/index.js';
import { evictionTime } from '../../master/controllers/nodelifecycle.js';
import { normalizeObject, type Pod, type Taint } from '../../protocol/index.js';
import { nodeWith, podWith } from '../core-wasm/builders.js';

const gpu: EngineTaint = { key: 'gpu', value: 'true', effect: 'NoSchedule' };
const edge: EngineTaint = { key: 'edge', effect: 'NoExecute' };
const edgeValued: EngineTaint = { key: 'edge', value: 'flaky', effect: 'NoExecute' };
const old: EngineTaint = { key: 'old', effect: 'PreferNoSchedule' };

// [what, toleration, taint, tolerates?]
const rows: [string, EngineToleration, EngineTaint, boolean][] = [
  ['Equal: same key and value', { key: 'gpu', operator: 'Equal', value: 'true' }, gpu, true],
  ['Equal: other value', { key: 'gpu', operator: 'Equal', value: 'false' }, gpu, false],
  ['Equal: no value matches a taint without value', { key: 'edge', operator: 'Equal' }, edge, true],
  ['Equal: no value does not match a taint with a value', { key: 'edge', operator: 'Equal' }, edgeValued, false],
  ['operator defaults to Equal', { key: 'gpu', value: 'true' }, gpu, true],
  ['operator defaults to Equal: other value', { key: 'gpu', value: 'yes' }, gpu, false],
  ['Equal: other key', { key: 'cpu', operator: 'Equal', value: 'true' }, gpu, false],
  ['Exists: any value of the key', { key: 'edge', operator: 'Exists' }, edgeValued, true],
  ['Exists: other key', { key: 'gpu', operator: 'Exists' }, edge, false],
  ['Exists with empty key: every taint', { operator: 'Exists' }, gpu, true],
  ['Exists with empty key: every effect too', { operator: 'Exists' }, edgeValued, true],
  ['Exists with empty key and an effect: only that effect', { operator: 'Exists', effect: 'NoExecute' }, gpu, false],
  ['Exists with empty key and an effect: matching effect', { operator: 'Exists', effect: 'NoExecute' }, edge, true],
  ['empty effect matches NoSchedule', { key: 'gpu', operator: 'Exists' }, gpu, true],
  ['empty effect matches PreferNoSchedule', { key: 'old', operator: 'Exists' }, old, true],
  ['effect must match when given', { key: 'gpu', operator: 'Exists', effect: 'NoExecute' }, gpu, false],
  ['effect given and equal', { key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }, gpu, true],
  ['tolerationSeconds plays no part in matching', { key: 'edge', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 } as EngineToleration, edge, true],
  // Refused by validation (below); the rule itself still reads it as Kubernetes does: empty key = any key, Equal compares values.
  ['(invalid) empty key with Equal compares the value only', { operator: 'Equal' }, edge, true],
  ['(invalid) empty key with Equal and another value', { operator: 'Equal', value: 'x' }, edge, false],
  ['(invalid) unknown operator tolerates nothing', { key: 'gpu', operator: 'Near' as 'Exists' }, gpu, false],
];

describe('toleration rule (core/v1 ToleratesTaint)', () => {
  it.each(rows)('%s', (_what, t, taint, want) => {
    expect(tolerates(t, taint)).toBe(want);
    expect(tolerated([{ key: 'unrelated', operator: 'Exists' }, t], taint)).toBe(want);
  });

  it('no tolerations tolerate nothing', () => {
    expect(tolerated(undefined, gpu)).toBe(false);
    expect(tolerated([], gpu)).toBe(false);
  });
});

describe('scheduler and node lifecycle agree on every valid row', () => {
  const valid = rows.filter(([what]) => !what.startsWith('(invalid)'));
  const hard = valid.filter(([, , taint]) => taint.effect !== 'PreferNoSchedule');

  it.each(['wasm', 'reference'] as const)('%s engine: a pod lands on a node with a hard taint exactly when it tolerates it', async (impl) => {
    for (const [what, t, taint, want] of hard) {
      const e = await createEngine({ impl });
      e.upsertNode(nodeWith({ name: 'tainted', taints: [taint] }));
      const [p] = e.schedule([podWith({ tolerations: [t] })]);
      expect(p.node, what).toBe(want ? 'tainted' : null);
    }
  });

  it('node lifecycle evicts at once exactly the pods that do not tolerate a NoExecute taint', () => {
    const pod = (t: EngineToleration) => ({ spec: { containers: [], tolerations: [t] } }) as unknown as Pod;
    for (const [what, t, taint, want] of valid.filter(([, , taint]) => taint.effect === 'NoExecute')) {
      const at = evictionTime(pod(t), [{ ...taint, timeAdded: new Date(1_000_000).toISOString() } as Taint], 30_000, 1_000_000);
      const seconds = (t as { tolerationSeconds?: number }).tolerationSeconds;
      expect(at, what).toBe(!want ? 0 : seconds === undefined ? Infinity : 1_000_000 + seconds * 1000);
    }
  });
});

describe('tolerationSeconds (node lifecycle)', () => {
  const added = 1_000_000;
  const taint: Taint = { key: 'edge', effect: 'NoExecute', timeAdded: new Date(added).toISOString() };
  const pod = (...tolerations: Pod['spec']['tolerations'] & object) => ({ spec: { containers: [], tolerations } }) as unknown as Pod;
  it.each([
    ['none: tolerated forever', pod({ key: 'edge', operator: 'Exists', effect: 'NoExecute' }), Infinity],
    ['10 s after the taint was added', pod({ key: 'edge', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }), added + 10_000],
    ['0: at once', pod({ key: 'edge', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }), added],
    ['the shortest of the matching ones', pod({ key: 'edge', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }, { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }), added + 5_000],
    ['a non-matching one does not count', pod({ key: 'edge', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }, { key: 'gpu', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }), added + 60_000],
  ])('%s', (_what, p, at) => expect(evictionTime(p, [taint], 30_000, added)).toBe(at));
});

describe('validation of tolerations (core/v1 validateTolerations)', () => {
  const pod = (tolerations: unknown[]) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', command: ['x'] }], tolerations } });
  it.each([
    ['an empty key with Exists', [{ operator: 'Exists' }]],
    ['an empty key with Exists and an effect', [{ operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }]],
    ['a key with the default operator', [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]],
  ])('accepts %s', (_what, tolerations) => {
    expect(() => normalizeObject(pod(tolerations))).not.toThrow();
  });
  it.each([
    ['an empty key with Equal', [{ operator: 'Equal', value: 'v' }], 'Pod/p: spec.tolerations[0].operator: must be Exists when key is empty'],
    ['an empty key with no operator', [{ value: 'v' }], 'spec.tolerations[0].operator: must be Exists when key is empty'],
    ['an empty-string key with Equal', [{ key: '', operator: 'Equal' }], 'spec.tolerations[0].operator: must be Exists when key is empty'],
    ['tolerationSeconds on NoSchedule', [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 1 }], 'spec.tolerations[0].effect: must be NoExecute when tolerationSeconds is set'],
  ])('refuses %s', (_what, tolerations, message) => {
    expect(() => normalizeObject(pod(tolerations))).toThrow(message);
  });
});
