/**
 * reuseEqual (master/json-value.ts): a new version of a cached object takes the previous version's own objects,
 * arrays and strings wherever they are the same JSON value, and keeps its own wherever anything differs — so what
 * the cache holds is the same JSON as before, and a status change keeps no second copy of the spec.
 */
import { describe, expect, it } from 'vitest';
import { reuseEqual } from '../../master/json-value.js';

const pod = (phase: string, node?: string) =>
  JSON.parse(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'default', uid: 'u-1', labels: { app: 'web' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web', uid: 'rs-1', controller: true }] },
      spec: { containers: [{ name: 'main', command: ['sleep', 'infinity'] }], ...(node ? { nodeName: node } : {}) },
      status: { phase, conditions: [{ type: 'PodScheduled', status: 'True' }] },
    }),
  );

describe('reuseEqual', () => {
  it('takes the previous version’s unchanged parts and keeps the changed ones', () => {
    const prev = pod('Pending', 'n1');
    const next = pod('Running', 'n1');
    const text = JSON.stringify(next);
    expect(reuseEqual(next, prev)).toBe(false);
    expect(JSON.stringify(next)).toBe(text);
    expect(next.spec).toBe(prev.spec);
    expect(next.metadata).toBe(prev.metadata);
    expect(next.status).not.toBe(prev.status);
    expect(next.status.conditions).toBe(prev.status.conditions);
    expect(prev.status.phase).toBe('Pending');
  });

  it('inside a changed object, still takes the unchanged members (the spec that gained a node keeps its containers)', () => {
    const prev = pod('Pending');
    const next = pod('Pending', 'n1');
    expect(reuseEqual(next, prev)).toBe(false);
    expect(next.spec).not.toBe(prev.spec);
    expect(next.spec.nodeName).toBe('n1');
    expect(prev.spec.nodeName).toBeUndefined();
    expect(next.spec.containers).toBe(prev.spec.containers);
    expect(next.metadata.labels).toBe(prev.metadata.labels);
  });

  it('says true when all of it is the same value', () => {
    const prev = pod('Running', 'n1');
    const next = pod('Running', 'n1');
    expect(reuseEqual(next, prev)).toBe(true);
    expect(next.spec).toBe(prev.spec);
    expect(next.status).toBe(prev.status);
  });

  it('does not take an object whose keys differ, come in another order, or whose values differ in type', () => {
    const cases: [unknown, unknown][] = [
      [{ a: { x: 1, y: 2 } }, { a: { x: 1 } }],
      [{ a: { x: 1 } }, { a: { x: 1, y: 2 } }],
      [{ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } }],
      [{ a: [1, 2] }, { a: { 0: 1, 1: 2 } }],
      [{ a: { 0: 1, 1: 2 } }, { a: [1, 2] }],
      [{ a: [1, 2, 3] }, { a: [1, 2] }],
      [{ a: '1' }, { a: 1 }],
      [{ a: null }, { a: {} }],
    ];
    for (const [next, prev] of cases) {
      const text = JSON.stringify(next);
      const before = (next as { a: unknown }).a;
      expect(reuseEqual(next, prev)).toBe(false);
      expect((next as { a: unknown }).a).toBe(before);
      expect(JSON.stringify(next)).toBe(text);
    }
  });

  it('inside an object whose keys come in another order, or that has a key more, still takes the equal members', () => {
    const prev = { a: { x: [1] }, b: { y: 'z'.repeat(20) } };
    for (const next of [JSON.parse('{"b":{"y":"' + 'z'.repeat(20) + '"},"a":{"x":[1]}}'), JSON.parse('{"a":{"x":[1]},"c":1,"b":{"y":"' + 'z'.repeat(20) + '"}}')]) {
      const text = JSON.stringify(next);
      expect(reuseEqual(next, prev)).toBe(false);
      expect(next.a).toBe(prev.a);
      expect(next.b).toBe(prev.b);
      expect(JSON.stringify(next)).toBe(text);
    }
  });

  it('takes equal elements of arrays of different lengths, and equal strings', () => {
    const prev = { list: [{ n: 'a' }, { n: 'b' }], s: 'x'.repeat(40) };
    const next = JSON.parse(JSON.stringify({ list: [{ n: 'a' }, { n: 'b' }, { n: 'c' }], s: 'x'.repeat(40) }));
    expect(reuseEqual(next, prev)).toBe(false);
    expect(next.list).not.toBe(prev.list);
    expect(next.list[0]).toBe(prev.list[0]);
    expect(next.list[1]).toBe(prev.list[1]);
    expect(next.list[2]).toEqual({ n: 'c' });
    expect(next.s).toBe(prev.s);
  });

  it('leaves anything but two objects alone', () => {
    expect(reuseEqual('a', 'a')).toBe(false);
    expect(reuseEqual(null, {})).toBe(false);
    expect(reuseEqual({}, undefined)).toBe(false);
  });
});
