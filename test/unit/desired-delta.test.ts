/**
 * Desired deltas (issue 16): the master's delta between what it sent and the set now
 * (master/nodes/desired-delta.ts), and the agent's merge of a delta into the set it holds
 * (edge-agent/desired-delta.ts). Round trip: held set + delta = the new full set, table by table;
 * a delta on another generation asks for the full set; bad deltas are refused naming the field.
 */
import { describe, expect, it } from 'vitest';
import { advance, deltaOf, digestOf, sentSet, setDigest } from '../../master/nodes/desired-delta.js';
import { applyDelta } from '../../edge-agent/desired-delta.js';
import { checkDesired } from '../../edge-agent/desired.js';
import type { DesiredMessage, KObject, Pod } from '../../protocol/index.js';

const pod = (uid: string, image = 'v1'): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `p-${uid}`, namespace: 'default', uid },
  spec: { containers: [{ name: 'main', image: `app:${image}` }] },
});
const cm = (name: string, v: string): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v } } as KObject);
type Body = Omit<DesiredMessage, 'generation'>;
const body = (o: Partial<Body>): Body => ({ pods: [], configMaps: {}, secrets: {}, services: {}, volumes: {}, ...o });
const full = (generation: number, b: Body) => checkDesired(structuredClone({ generation, ...b })) as { ok: true; desired: DesiredMessage };

describe('desired deltas: round trip', () => {
  const rows: [string, Body, Body, (keyof Body | 'removed')[]][] = [
    ['a pod bound', body({ pods: [pod('a')] }), body({ pods: [pod('a'), pod('b')] }), ['pods']],
    ['a pod changed', body({ pods: [pod('a'), pod('b')] }), body({ pods: [pod('a'), pod('b', 'v2')] }), ['pods']],
    ['a pod gone', body({ pods: [pod('a'), pod('b')] }), body({ pods: [pod('a')] }), ['removed']],
    ['a ConfigMap changed and one gone', body({ configMaps: { 'default/x': cm('x', '1'), 'default/y': cm('y', '1') } }), body({ configMaps: { 'default/x': cm('x', '2') } }), ['configMaps']],
    ['a service added', body({}), body({ services: { 'default/web': { host: '10.0.0.1', ports: [{ port: 80, protocol: 'TCP' }] } } }), ['services']],
    ['a pod finished (its logs kept)', body({ pods: [pod('a')] }), body({ keepLogs: ['a'] }), ['removed', 'keepLogs']],
    ['a claim bound', body({ pods: [pod('a')] }), body({ pods: [pod('a')], volumes: { 'default/data': { volume: 'pv-1', path: '/var/lib/skiff/pv-1', type: 'DirectoryOrCreate' } } }), ['volumes']],
    ['a pod being deleted', body({ pods: [pod('a'), pod('b')] }), body({ pods: [pod('a')], terminating: ['b'] }), ['removed', 'terminating']],
    ['its deletion finished', body({ pods: [pod('a')], terminating: ['b'] }), body({ pods: [pod('a')] }), ['terminating']],
  ];
  it.each(rows)('%s', (_, before, after, fields) => {
    const held = full(10, before).desired;
    const delta = deltaOf(sentSet(10, before), after, 12)!;
    expect(delta).toMatchObject({ delta: true, base: 10, generation: 12 });
    expect(Object.keys(delta).filter((k) => !['delta', 'base', 'generation'].includes(k)).sort()).toEqual([...fields].sort());
    // Over the wire (msgpack is close enough to JSON here), then merged.
    const merged = applyDelta(held, JSON.parse(JSON.stringify(delta)));
    expect(merged.ok).toBe(true);
    const want = full(12, after).desired;
    expect((merged as { desired: DesiredMessage }).desired.deltas).toBe(true);
    const sorted = ({ deltas: _, ...d }: DesiredMessage) => ({ ...d, pods: [...d.pods].sort((x, y) => x.metadata.uid!.localeCompare(y.metadata.uid!)), keepLogs: d.keepLogs ?? [], terminating: d.terminating ?? [] });
    expect(sorted((merged as { desired: DesiredMessage }).desired)).toEqual(sorted(want));
    // In place (what a flush does): the same delta, and what was sent becomes exactly the new set's entries.
    const sent = sentSet(10, before);
    expect(advance(sent, after, 12)).toEqual(delta);
    expect(sent).toEqual(sentSet(12, after));
  });

  it('advance with nothing changed leaves what was sent (and its generation) as it was', () => {
    const b = body({ pods: [pod('a')], configMaps: { 'default/x': cm('x', '1') }, keepLogs: ['z'] });
    const sent = sentSet(3, b);
    expect(advance(sent, structuredClone(b), 4)).toBeUndefined();
    expect(sent).toEqual(sentSet(3, b));
  });

  it('advance twice chains: the second delta is based on the first one\'s generation', () => {
    const sent = sentSet(1, body({ pods: [pod('a')] }));
    advance(sent, body({ pods: [pod('a'), pod('b')] }), 2);
    const second = advance(sent, body({ pods: [pod('b', 'v2')] }), 5)!;
    expect(second).toMatchObject({ base: 2, generation: 5, removed: ['a'] });
    expect(second.pods!.map((p) => p.spec.containers[0]!.image)).toEqual(['app:v2']);
  });

  it('nothing changed: no delta', () => {
    const b = body({ pods: [pod('a')], configMaps: { 'default/x': cm('x', '1') } });
    expect(deltaOf(sentSet(3, b), structuredClone(b), 4)).toBeUndefined();
  });

  it('a bind on a node with 100 pods sends one pod, not 101', () => {
    const pods = Array.from({ length: 100 }, (_, i) => pod(`u${i}`));
    const delta = deltaOf(sentSet(1, body({ pods })), body({ pods: [...pods, pod('new')] }), 2)!;
    expect(delta.pods!.map((p) => p.metadata.uid)).toEqual(['new']);
    expect(JSON.stringify(delta).length).toBeLessThan(JSON.stringify(pods).length / 50);
  });
});

describe('desired deltas: the agent side', () => {
  const held = full(5, body({ pods: [pod('a')] })).desired;
  it.each([
    ['another base', { delta: true, base: 4, generation: 6 }, 'resync'],
    ['no set held yet', { delta: true, base: 5, generation: 6 }, 'resync-none'],
    ['generation not above base', { delta: true, base: 5, generation: 5 }, 'generation: must be above base 5'],
    ['a bad generation', { delta: true, base: 5, generation: 'x' }, 'generation: must be an integer'],
    ['pods not a list', { delta: true, base: 5, generation: 6, pods: {} }, 'pods: must be a list'],
    ['a pod without uid', { delta: true, base: 5, generation: 6, pods: [{ metadata: {}, spec: {} }] }, 'pods: must be a list of pods with metadata.uid'],
    ['removed not strings', { delta: true, base: 5, generation: 6, removed: [1] }, 'removed: must be a list of uids'],
    ['a ConfigMap that is a string', { delta: true, base: 5, generation: 6, configMaps: { 'default/x': 'y' } }, 'configMaps: must be a map of objects or null'],
    ['a merged pod that fails the full check', { delta: true, base: 5, generation: 6, pods: [{ metadata: { uid: 'b', name: 'b' }, spec: { containers: [] } }] }, 'spec.containers: must be a non-empty list'],
    ['a uid with a slash', { delta: true, base: 5, generation: 6, pods: [{ ...pod('../x') }] }, 'metadata.uid: must be a uid without slashes'],
  ] as const)('%s', (_, delta, want) => {
    const out = applyDelta(want === 'resync-none' ? undefined : held, structuredClone(delta));
    expect(out.ok).toBe(false);
    if (want.startsWith('resync')) expect(out).toMatchObject({ resync: true });
    else expect((out as { error: string }).error).toContain(want);
  });
});

describe('what the master keeps of a sent set: digests, not texts', () => {
  // Two sets, and whether an agent holding the first holds the second (same digest).
  it.each<[string, Body, Body, boolean]>([
    ['the same set, built again', body({ pods: [pod('a'), pod('b')] }), body({ pods: [pod('a'), pod('b')] }), true],
    ['a pod changed', body({ pods: [pod('a')] }), body({ pods: [pod('a', 'v2')] }), false],
    ['a pod more', body({ pods: [pod('a')] }), body({ pods: [pod('a'), pod('b')] }), false],
    ['a ConfigMap changed', body({ configMaps: { 'default/x': cm('x', '1') } }), body({ configMaps: { 'default/x': cm('x', '2') } }), false],
    ['the same entries under another field', body({ configMaps: { 'default/x': cm('x', '1') } }), body({ secrets: { 'default/x': cm('x', '1') } }), false],
    ['a pod now terminating', body({ pods: [pod('a')] }), body({ pods: [pod('a')], terminating: ['b'] }), false],
  ])('%s', (_what, a, b, same) => expect(setDigest(sentSet(1, a)) === setDigest(sentSet(2, b))).toBe(same));

  it('keeps a short digest per pod, computed once per object', () => {
    const p = pod('a');
    const s = sentSet(1, body({ pods: [p] }));
    expect(s.pods.get('a')!.length).toBeLessThan(40);
    expect(digestOf(p)).toBe(s.pods.get('a'));
    // The digest of an object is remembered: the same object is not serialised again (cache objects are immutable).
    const stringify = JSON.stringify;
    let calls = 0;
    JSON.stringify = ((...args: Parameters<typeof stringify>) => (calls++, stringify(...args))) as typeof stringify;
    try {
      digestOf(p);
      digestOf(structuredClone(p));
    } finally {
      JSON.stringify = stringify;
    }
    expect(calls).toBe(1);
  });
});
