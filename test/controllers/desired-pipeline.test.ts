/**
 * The desired sets' work per pod version (master/nodes/desired-view.ts) and the bounded flush (desired.ts), against
 * the real cache: a status-only write sends nothing and reuses the agent's view of the pod, while a change the agent
 * can see (spec, labels, finished, terminating) still reaches it in the next delta; a flush that yields after every
 * node still publishes every dirty node, each node's deltas chained base to generation, and an agent applying them
 * (edge-agent/desired-delta.ts) holds exactly the master's set.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyDelta } from '../../edge-agent/desired-delta.js';
import { DesiredPublisher } from '../../master/nodes/desired.js';
import { decodeObject, type DesiredDelta, type DesiredMessage, type Pod } from '../../protocol/index.js';
import { harness, type Harness } from './harness.js';
import { nodeWith, podWith } from './builders.js';

type Body = DesiredMessage & Partial<DesiredDelta>;
let h: Harness;
let sent: { node: string; body: Body }[];
/** What was sent before `sent` was last emptied (the full sets of the resync). */
let earlier: { node: string; body: Body }[];
let publisher: DesiredPublisher;
/** Called on every message a node is sent, as it is sent. */
let onPublish: (node: string) => void;

/** A publisher whose flush yields after every `sliceMs` (0: after every node). */
async function open(sliceMs?: number): Promise<void> {
  h = await harness();
  sent = [];
  onPublish = () => undefined;
  publisher = new DesiredPublisher(
    h.ctx,
    async (topic, payload) => {
      const node = /nodes\/([^/]+)\/desired/.exec(topic)![1]!;
      if (payload.length) sent.push({ node, body: decodeObject<Body>(payload).value });
      onPublish(node);
    },
    sliceMs,
  );
  publisher.start();
}
afterEach(async () => {
  publisher.stop();
  await h.stop();
});

/** Every node asks for deltas and gets its full set; `sent` is emptied. */
async function resyncAll(nodes: string[]): Promise<void> {
  await publisher.flush();
  for (const n of nodes) await publisher.onResync(n, { generation: 0 });
  await publisher.flush();
  earlier = sent;
  sent = [];
}

const podOn = (name: string, node: string) => h.create(podWith({ name, node }));
const status = (name: string, fn: (p: Pod) => void) => h.update('Pod', 'default', name, fn);

describe('desired sets: one view per pod version the agent can see', () => {
  beforeEach(async () => {
    await open();
    await h.create(nodeWith({ name: 'pi-1' }));
    await podOn('a', 'pi-1');
    await resyncAll(['pi-1']);
  });

  it('a status-only write sends nothing and keeps the same view (its digest is not computed again)', async () => {
    const before = publisher.desiredOf('pi-1').pods[0];
    await status('a', (p) => void (p.status = { ...p.status, phase: 'Running', podIP: '10.0.0.7' }));
    await publisher.flush();
    expect(sent).toEqual([]);
    expect(publisher.desiredOf('pi-1').pods[0]).toBe(before);
  });

  it.each<[string, (p: Pod) => void, (d: Body) => void]>([
    ['a spec change (new image): the pod, changed', (p) => void (p.spec.containers[0]!.image = 'busybox:2'), (d) => expect(d.pods?.[0]?.spec.containers[0]!.image).toBe('busybox:2')],
    ['a label change (no new generation): the pod, relabelled', (p) => void (p.metadata.labels = { app: 'web', tier: 'edge' }), (d) => expect(d.pods?.[0]?.metadata.labels).toEqual({ app: 'web', tier: 'edge' })],
    ['an annotation added: the pod, annotated', (p) => void (p.metadata.annotations = { note: 'x' }), (d) => expect(d.pods?.[0]?.metadata.annotations).toEqual({ note: 'x' })],
    ['finished (Succeeded): gone from the set, its logs kept', (p) => void (p.status = { ...p.status, phase: 'Succeeded' }), (d) => expect([d.removed?.length, d.keepLogs?.length]).toEqual([1, 1])],
  ])('%s', async (_what, change, check) => {
    const generation = publisher.desiredOf('pi-1').pods[0]!.metadata.uid;
    await status('a', change);
    await publisher.flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body.delta).toBe(true);
    check(sent[0]!.body);
    expect(generation).toBe(h.get('Pod', 'default', 'a')!.metadata.uid);
  });

  it('a status write after a spec change carries the new view, not the first one', async () => {
    await status('a', (p) => void (p.spec.containers[0]!.image = 'busybox:2'));
    await status('a', (p) => void (p.status = { ...p.status, phase: 'Running' }));
    await publisher.flush();
    expect(publisher.desiredOf('pi-1').pods[0]!.spec.containers[0]!.image).toBe('busybox:2');
    expect(sent.flatMap((m) => m.body.pods ?? []).map((p) => p.spec.containers[0]!.image)).toEqual(['busybox:2']);
  });

  it('deleting the pod (terminating) still names it to the agent', async () => {
    await h.delete('Pod', 'default', 'a');
    await publisher.flush();
    expect(sent.at(-1)!.body).toMatchObject({ delta: true, removed: [expect.any(String)], terminating: [expect.any(String)] });
  });
});

describe('desired sets: a flush that yields', () => {
  const nodes = Array.from({ length: 100 }, (_, i) => `n${i}`);
  beforeEach(async () => {
    await open(0);
    for (const n of nodes) await h.create(nodeWith({ name: n }));
    await resyncAll(nodes);
  });

  /** Applies every node's messages in order, as its agent does; fails on a broken chain. */
  function held(): Map<string, DesiredMessage> {
    const out = new Map<string, DesiredMessage>();
    for (const { node, body } of [...earlier, ...sent]) {
      if (!body.delta) {
        out.set(node, body);
        continue;
      }
      const r = applyDelta(out.get(node), body);
      if (!r.ok) throw new Error(`${node}: ${JSON.stringify(r)}`);
      out.set(node, r.desired);
    }
    return out;
  }
  const podNames = (m: DesiredMessage | undefined) => (m?.pods ?? []).map((p) => p.metadata.name).sort();

  it('publishes every dirty node, and pods bound while it yielded are published too, in order', async () => {
    await Promise.all(nodes.map((n) => h.objects.create(podWith({ name: `first-${n}`, node: n }))));
    await h.informers.waitForRevision(await h.objects.revision());
    // Bound while the flush yields between nodes, once n1 is published: to a node it has published already (n0), and
    // to the last one, not reached yet.
    const last = nodes.at(-1)!;
    let bound: Promise<unknown> | undefined;
    onPublish = (node) => {
      if (node === 'n1') bound ??= Promise.all(['n0', last].map((n) => h.objects.create(podWith({ name: `second-${n}`, node: n }))));
    };
    await publisher.flush();
    await bound;
    await h.informers.waitForRevision(await h.objects.revision());
    // The last node's second pod came with its first, in this flush; n0's waits for the next one.
    expect(sent.filter((m) => m.node === last).map((m) => podNames(m.body))).toEqual([[`first-${last}`, `second-${last}`]]);
    await publisher.flush();
    expect(sent.filter((m) => m.node === 'n0').map((m) => podNames(m.body))).toEqual([['first-n0'], ['second-n0']]);
    const agents = held();
    expect([...agents.keys()].sort()).toEqual([...nodes].sort());
    for (const n of nodes) {
      expect(podNames(agents.get(n))).toEqual(['n0', last].includes(n) ? [`first-${n}`, `second-${n}`] : [`first-${n}`]);
      expect(podNames(agents.get(n))).toEqual(publisher.desiredOf(n).pods.map((p) => p.metadata.name).sort());
    }
  });

  it('flushes asked while one runs share one flush after it, which publishes what they marked', async () => {
    // The first flush is held running until the others are asked (on a loaded box it could otherwise end first).
    const inner = publisher as unknown as { flushDirty: () => Promise<unknown> };
    const real = inner.flushDirty.bind(publisher);
    let release!: () => void;
    const held1 = new Promise<void>((r) => (release = r));
    const runs = vi.spyOn(inner, 'flushDirty').mockImplementationOnce(async () => {
      const r = await real();
      await held1;
      return r;
    });
    await Promise.all(nodes.map((n) => h.objects.create(podWith({ name: `a-${n}`, node: n }))));
    await h.informers.waitForRevision(await h.objects.revision());
    const first = publisher.flush();
    await new Promise((r) => setImmediate(r)); // the first is running
    await h.objects.create(podWith({ name: 'late', node: 'n0' }));
    await h.informers.waitForRevision(await h.objects.revision());
    const asked = [publisher.flush(), publisher.flush(), publisher.flush()];
    release();
    await Promise.all([first, ...asked]);
    expect(runs).toHaveBeenCalledTimes(2);
    expect(podNames(held().get('n0'))).toEqual(['a-n0', 'late']);
  });

  it('a publish the broker has not finished does not hold the next flush back', async () => {
    let stuck = true;
    onPublish = () => undefined;
    const slow = publisher as unknown as { publish: (t: string, p: Buffer, r: boolean) => Promise<void> };
    const original = slow.publish;
    // n1's message never completes (a slow subscriber); the others do.
    Object.assign(publisher, { publish: (t: string, p: Buffer, r: boolean) => (stuck && t.includes('/n1/') ? new Promise<void>(() => undefined) : original(t, p, r)) });
    await h.objects.create(podWith({ name: 'one', node: 'n1' }));
    await h.informers.waitForRevision(await h.objects.revision());
    void publisher.flush();
    await h.objects.create(podWith({ name: 'two', node: 'n2' }));
    await h.informers.waitForRevision(await h.objects.revision());
    const second = publisher.flush();
    const outcome = await Promise.race([second.then(() => 'flushed'), new Promise((r) => setTimeout(() => r('held back'), 2000))]);
    stuck = false;
    expect(outcome).toBe('flushed');
    expect(podNames(held().get('n2'))).toEqual(['two']);
  });

  it('two flushes asked at once run one after the other (the second sees what the first did not)', async () => {
    await h.objects.create(podWith({ name: 'x', node: 'n3' }));
    await h.informers.waitForRevision(await h.objects.revision());
    await Promise.all([publisher.flush(), publisher.flush()]);
    expect(sent.map((m) => m.node)).toEqual(['n3']);
    expect(podNames(held().get('n3'))).toEqual(['x']);
  });
});
