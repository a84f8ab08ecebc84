/**
 * The master's desired sets (master/nodes/desired.ts) against the real cache: a node whose agent never asked
 * gets retained full sets; after `resync` it gets the full set once (the retained one cleared), then deltas
 * whose bases chain generation to generation; a new resync starts over from a full set.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DesiredPublisher, flushWindow } from '../../master/nodes/desired.js';
import { decodeObject, topics, type DesiredDelta, type DesiredMessage } from '../../protocol/index.js';
import { harness, type Harness } from './harness.js';
import { nodeWith, podWith } from './builders.js';

let h: Harness;
let sent: { retain: boolean; body: (DesiredMessage & Partial<DesiredDelta>) | undefined }[];
let publisher: DesiredPublisher;
beforeEach(async () => {
  h = await harness();
  sent = [];
  publisher = new DesiredPublisher(h.ctx, async (topic, payload, retain) => {
    expect(topic).toBe(topics.nodeDesired('pi-1'));
    sent.push({ retain, body: payload.length ? decodeObject<DesiredMessage & Partial<DesiredDelta>>(payload).value : undefined });
  });
  publisher.start();
  await h.create(nodeWith({ name: 'pi-1' }));
});
afterEach(async () => {
  publisher.stop();
  await h.stop();
});

const bindPod = (name: string) => h.create(podWith({ name, node: 'pi-1' }));

describe('desired sets: full, then deltas after resync', () => {
  it('full retained sets until the agent asks; then the full set once and deltas chained by generation', async () => {
    await bindPod('a');
    await publisher.flush();
    expect(sent.at(-1)).toMatchObject({ retain: true, body: { deltas: true } });
    expect(sent.at(-1)!.body!.pods.map((p) => p.metadata.name)).toEqual(['a']);

    sent = [];
    await publisher.onResync('pi-1', { generation: 0 });
    await publisher.flush();
    // The retained full set is cleared (an empty retained message), then the full set goes out live.
    expect(sent.map((m) => [m.retain, m.body?.delta ?? false, m.body?.pods?.length])).toEqual([[true, false, undefined], [false, false, 1]]);
    let generation = sent[1]!.body!.generation;

    for (const name of ['b', 'c']) {
      sent = [];
      await bindPod(name);
      await publisher.flush();
      expect(sent).toHaveLength(1);
      const d = sent[0]!.body!;
      expect(d).toMatchObject({ delta: true, base: generation });
      expect(d.pods!.map((p) => p.metadata.name)).toEqual([name]);
      expect(d.generation).toBeGreaterThan(generation);
      expect(sent[0]!.retain).toBe(false);
      generation = d.generation;
    }

    sent = [];
    await h.delete('Pod', 'default', 'b');
    await publisher.flush();
    expect(sent[0]!.body).toMatchObject({ delta: true, base: generation });
    expect(sent[0]!.body!.removed).toHaveLength(1);

    // Nothing changed: nothing sent. A second resync: the full set again, not retained, nothing cleared.
    sent = [];
    await publisher.flush();
    expect(sent).toEqual([]);
    await publisher.onResync('pi-1', { generation: 0 });
    await publisher.flush();
    expect(sent.map((m) => [m.retain, m.body?.delta ?? false, m.body?.pods?.map((p) => p.metadata.name).sort()])).toEqual([[false, false, ['a', 'c']]]);
  });

  it('an agent that holds what it was last sent (the retained set, or the last delta) gets only the changes since', async () => {
    await bindPod('a');
    await publisher.flush();
    const retained = sent.at(-1)!.body!.generation;
    sent = [];
    await publisher.onResync('pi-1', { generation: retained });
    await publisher.flush();
    expect(sent.map((m) => [m.retain, m.body])).toEqual([[true, undefined]]); // only the retained set cleared
    sent = [];
    await bindPod('b');
    await publisher.flush();
    expect(sent[0]!.body).toMatchObject({ delta: true, base: retained });
    const last = sent[0]!.body!.generation;
    sent = [];
    await publisher.onResync('pi-1', { generation: last }); // a reconnect, nothing missed
    await publisher.flush();
    expect(sent).toEqual([]);
  });

  it('refuses a resync without an integer generation', async () => {
    await expect(publisher.onResync('pi-1', { generation: 'x' } as never)).rejects.toThrow(/generation: must be an integer/);
  });
});

describe('desired sets: the flush window widens with the cost of a flush', () => {
  it.each<[number, number]>([
    [0, 20],
    [5, 20],
    [30, 60],
    [200, 400],
    [5_000, 1_000],
  ])('a flush that took %i ms: the next gathers changes for %i ms', (cost, window) => expect(flushWindow(cost)).toBe(window));
});
