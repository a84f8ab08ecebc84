/**
 * The pieces that keep the master's memory and event loop bounded, in memory: slow-start batches,
 * the time-slice gate, the informers' owner index, the metrics store and the retained-metrics budget.
 */
import { describe, expect, it } from 'vitest';
import { nextSlice, sliceMs, slowStartBatch } from '../../master/controllers/batch.js';
import { iterationBudgetMs, loopBudget } from '../../master/loop-budget.js';
import { Informers } from '../../master/informer.js';
import { MetricsStore, maxPodsPerNode, sampleTtlMs } from '../../master/metrics.js';
import { RetainedBudget } from '../../master/broker/retained.js';
import { openSqliteStore } from '../../master/store/sqlite.js';
import { Objects } from '../../master/objects.js';
import { silentLogger, type KObject, type MetricsMessage, type Pod } from '../../protocol/index.js';

describe('slowStartBatch', () => {
  it('runs batches of 1, 2, 4, ... and starts none after the batch with an error', async () => {
    const started: number[] = [];
    const res = await slowStartBatch(100, async (i) => {
      started.push(i);
      await Promise.resolve();
      if (i === 9) throw new Error('quota');
      return i;
    });
    expect(res.error).toEqual(new Error('quota'));
    // Batches 0 | 1-2 | 3-6 | 7-14: the last had the failure, the rest of the batch still ran, nothing after it.
    expect(started).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(res.done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14]);
  });
  it('asks `proceed` before each batch: an owner gone mid-way stops the rest', async () => {
    let calls = 0;
    const res = await slowStartBatch(100, async () => ++calls, () => calls < 3);
    expect(calls).toBe(3); // batches 1 and 2, then proceed() said no
    expect(res.done).toHaveLength(3);
  });
});

describe('nextSlice', () => {
  it('lets I/O in once work has held the loop for a slice', async () => {
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const end = performance.now() + 20 * sliceMs;
    let turns = 0;
    while (performance.now() < end) {
      const t0 = performance.now();
      while (performance.now() - t0 < 1); // one unit of synchronous work, ~1 ms
      await nextSlice();
      turns++;
    }
    expect(turns).toBeGreaterThan(10);
    expect(timerRan).toBe(true);
  });

  it("gives the controllers' turn only what this check phase's shared budget leaves", async () => {
    const busy = (ms: number) => {
      const t0 = performance.now();
      while (performance.now() - t0 < ms);
    };
    busy(sliceMs + 1); // the current slice is old: the next unit waits for the gate's immediate
    // Queued ahead of the gate's immediate, in the same check phase: another worker's turn holds the loop for most of the budget.
    setImmediate(() => {
      loopBudget.turn('another worker', 100);
      busy(iterationBudgetMs - 1);
    });
    await nextSlice(); // now in the gate's immediate, ~1 ms left of the phase's budget
    let nextPhase = false;
    setImmediate(() => (nextPhase = true));
    let units = 0;
    while (!nextPhase) {
      busy(0.25); // one unit of controller work
      units++;
      await nextSlice();
    }
    // About 1 ms of units (a 10 ms slice would take ~40) before the gate let the loop go on.
    expect(units).toBeLessThanOrEqual(8);
  });
});

describe('the informers owner index', () => {
  it('finds dependents and orphans as objects come, change owner and go', async () => {
    const store = await openSqliteStore(':memory:');
    const objects = new Objects(store);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    const informers = new Informers(store, silentLogger);
    await informers.start();
    const pod = (name: string, owner?: string): Pod =>
      ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default', ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: owner, controller: true }] } : {}) },
        spec: { containers: [{ name: 'c', command: ['x'] }] },
      }) as Pod;
    await objects.create(pod('a', 'u1'));
    await objects.create(pod('b', 'u1'));
    await objects.create(pod('c'));
    const names = (l: KObject[]) => l.map((o) => o.metadata.name).sort();
    const settle = async () => informers.waitForRevision(await store.revision());
    await settle();
    expect(names(informers.dependents('Pod', 'u1'))).toEqual(['a', 'b']);
    expect(names(informers.orphans('Pod', 'default'))).toEqual(['c']);
    await objects.mutate('Pod', 'default', 'c', (p) => ({ ...p, metadata: { ...p.metadata, ownerReferences: pod('x', 'u2').metadata.ownerReferences } }));
    await objects.delete('Pod', 'default', 'a', { force: true });
    await settle();
    expect(names(informers.dependents('Pod', 'u1'))).toEqual(['b']);
    expect(names(informers.dependents('Pod', 'u2'))).toEqual(['c']);
    expect(informers.orphans('Pod')).toEqual([]);
    // A status change keeps the owners; the same owner no longer controlling makes the pod an orphan too.
    await objects.mutate('Pod', 'default', 'b', (p) => ({ ...p, status: { phase: 'Running' } }));
    await objects.mutate('Pod', 'default', 'c', (p) => ({ ...p, metadata: { ...p.metadata, ownerReferences: [{ ...p.metadata.ownerReferences![0]!, controller: false }] } }));
    await settle();
    expect(names(informers.dependents('Pod', 'u1'))).toEqual(['b']);
    expect(names(informers.dependents('Pod', 'u2'))).toEqual(['c']);
    expect(names(informers.orphans('Pod'))).toEqual(['c']);
    informers.stop();
    await store.close();
  });
});

describe('MetricsStore', () => {
  const bound = new Map<string, Pod>();
  const podOn = (name: string, node: string | undefined, uid = `uid-${name}`) => bound.set(`default/${name}`, { metadata: { name, namespace: 'default', uid }, spec: { nodeName: node } } as Pod);
  const store = () => new MetricsStore((ns, name) => bound.get(`${ns}/${name}`));
  const msg = (...names: string[]): MetricsMessage => ({
    ts: 0,
    node: { cpuMilli: 1, memoryBytes: 2 },
    pods: names.map((n) => ({ namespace: 'default', name: n, uid: `uid-${n}`, cpuMilli: 3, memoryBytes: 4 })),
  });

  it("keeps a node's word only about pods bound to it, with the same uid", () => {
    podOn('mine', 'n1');
    podOn('theirs', 'n2');
    podOn('pending', undefined);
    podOn('old', 'n1', 'another-uid');
    const m = store();
    m.onNodeMetrics('n1', msg('mine', 'theirs', 'pending', 'old', 'unknown'), 1000);
    expect(m.size()).toEqual({ nodes: 1, pods: 1, external: 0 });
    expect(m.pod('default', 'mine', undefined, 1000)?.cpuMilli).toBe(3);
    expect(m.pod('default', 'theirs', undefined, 1000)).toBeUndefined();
  });
  it("a pod deleted and made again under its name is not given the old pod's sample, and a delta lets that sample go", () => {
    podOn('again', 'n1');
    const m = store();
    m.onNodeMetrics('n1', msg('again'), 1000);
    expect(m.pod('default', 'again', undefined, 1000)?.cpuMilli).toBe(3);
    podOn('again', 'n1', 'uid-again-2'); // the same name, a new pod, before its node reports it
    expect(m.pod('default', 'again', undefined, 1000)).toBeUndefined();
    expect(m.pod('default', 'again', 'uid-again-2', 1000)).toBeUndefined();
    m.onNodeMetrics('n1', { ...msg(), pods: [], delta: true } as MetricsMessage, 2000);
    expect(m.size().pods).toBe(0);
    // Container samples are kept whether or not the spec names them (their exporters check the names).
    const spec = { containers: [{ name: 'main', image: 'x' }] };
    bound.set('default/c', { metadata: { name: 'c', namespace: 'default', uid: 'uid-c' }, spec: { nodeName: 'n1', ...spec } } as Pod);
    m.onNodeMetrics('n1', { ts: 0, pods: [{ namespace: 'default', name: 'c', uid: 'uid-c', cpuMilli: 1, memoryBytes: 1, containers: [{ name: ['ma', 'in'].join(''), cpuSeconds: 1, memoryBytes: 2 }, { name: 'side', cpuSeconds: 1, memoryBytes: 2 }] }] } as MetricsMessage, 3000);
    expect(m.pod('default', 'c', 'uid-c', 3000)?.containers).toEqual([{ name: 'main', cpuSeconds: 1, memoryBytes: 2 }, { name: 'side', cpuSeconds: 1, memoryBytes: 2 }]);
  });
  it('each message replaces the node\'s samples, at most maxPodsPerNode are read, and silent nodes expire', () => {
    for (let i = 0; i < maxPodsPerNode + 10; i++) podOn(`p${i}`, 'n1');
    const m = store();
    m.onNodeMetrics('n1', msg(...Array.from({ length: maxPodsPerNode + 10 }, (_, i) => `p${i}`)), 1000);
    expect(m.size().pods).toBe(maxPodsPerNode);
    m.onNodeMetrics('n1', msg('p1'), 2000);
    expect(m.size().pods).toBe(1);
    m.onNodeMetrics('n2', msg(), 2000 + sampleTtlMs + 1);
    expect(m.size()).toEqual({ nodes: 1, pods: 0, external: 0 });
    expect(m.node('n1', 2000 + sampleTtlMs + 1)).toBeUndefined();
  });
  it.each([
    // [case, when n1 reported, when the walk before ran (n3's message), when n2's message comes, n1 still held]
    ['a walk a second or more after the last one forgets a silent node', 0, 1000, 1000 + sampleTtlMs, false],
    ['within a second of the last walk nothing is walked: the silent node is held, though stale', 0, sampleTtlMs - 100, sampleTtlMs + 500, true],
    ['a clock that went back walks at once', 0, 10 * sampleTtlMs, sampleTtlMs + 1, false],
  ])('silent nodes are forgotten at most once a second: %s', (_, n1At, walkAt, n2At, held) => {
    const m = store();
    m.onNodeMetrics('n1', msg(), n1At);
    m.onNodeMetrics('n3', msg(), walkAt);
    m.onNodeMetrics('n2', msg(), n2At);
    expect(m.size().nodes).toBe(held ? 3 : 2);
    expect(m.node('n1', n2At)).toBeUndefined(); // stale either way: readers check the TTL themselves
  });

  it('external metrics: numbers only, short payloads only, a bounded number of names', () => {
    const m = store();
    expect(m.onExternal('a', Buffer.from('42'))).toBe(true);
    expect(m.onExternal('b', Buffer.from('{"value": 7}'))).toBe(true);
    expect(m.onExternal('c', Buffer.from('x'.repeat(300)))).toBe(false);
    expect(m.onExternal('d', Buffer.from('nope'))).toBe(false);
    for (let i = 0; i < 2000; i++) m.onExternal(`s${i}`, Buffer.from('1'));
    expect(m.size().external).toBe(1000);
    expect(m.onExternal('a', Buffer.from('43'))).toBe(true); // a known name still updates
  });
});

describe('RetainedBudget', () => {
  it('counts topics and bytes; an empty payload frees a topic; a replaced value is counted once', () => {
    const b = new RetainedBudget(3, 100);
    expect(b.admit('t/1', 10)).toBe(true);
    expect(b.admit('t/1', 20)).toBe(true);
    expect(b.usage()).toEqual({ topics: 1, bytes: 23 });
    expect(b.admit('t/2', 10)).toBe(true);
    expect(b.admit('t/3', 10)).toBe(true);
    expect(b.admit('t/4', 1)).toBe(false); // a fourth topic
    expect(b.admit('t/3', 0)).toBe(true); // cleared
    expect(b.admit('t/4', 1)).toBe(true);
    expect(b.admit('t/4', 200)).toBe(false); // over the bytes
    expect(b.usage().topics).toBe(3);
  });
});
