/**
 * The pod pipeline's writes pass the time-slice gate (master/controllers/batch.ts): a status report naming many pods
 * (nodes/pods.ts) lets I/O in between its writes rather than storing them all in one turn of the loop, and a
 * controller's creates whose writes one group commit acknowledges together (podcontrol.ts) record their events over
 * several turns, not in the turn the commit resolves them. The store is a
 * fake whose every write holds the loop for 2 ms, and a setImmediate ticker measures the longest turn.
 */
import { describe, expect, it } from 'vitest';
import { sliceMs } from '../../master/controllers/batch.js';
import type { ControllerContext } from '../../master/controllers/types.js';
import { createPods } from '../../master/controllers/podcontrol.js';
import { onPodsReport } from '../../master/nodes/pods.js';
import { silentLogger, type Pod } from '../../protocol/index.js';

const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

/** The longest stretch without a turn of the loop while `work` runs, ms. */
async function longestTurn(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  let done = false;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  done = true;
  return Math.max(longest, performance.now() - last);
}

describe('status reports pass the time-slice gate', () => {
  it('a report of 40 pods whose writes take 2 ms each never holds the loop much past a slice', async () => {
    const pods = new Map<string, Pod>();
    for (let i = 0; i < 40; i++)
      pods.set(`p${i}`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'default', uid: `u${i}` }, spec: { nodeName: 'n1', containers: [] } } as unknown as Pod);
    let written = 0;
    const ctx = {
      informers: { get: (_kind: string, _ns: string, name: string) => pods.get(name) },
      objects: {
        mutate: async (_kind: string, _ns: string, name: string, fn: (p: Pod) => Pod | undefined) => {
          spin(2);
          if (fn(structuredClone(pods.get(name)!))) written++;
        },
      },
      events: { object: () => undefined },
      log: silentLogger,
    } as unknown as ControllerContext;
    const report = { pods: [...pods.values()].map((p) => ({ namespace: 'default', name: p.metadata.name, uid: p.metadata.uid!, status: { phase: 'Running' as const } })) };
    const longest = await longestTurn(() => onPodsReport(ctx, 'n1', report));
    expect(written).toBe(40);
    // 40 × 2 ms in one turn without the gate; with it, a slice plus one write (and slack for a loaded machine).
    expect(longest).toBeLessThan(sliceMs + 2 + 25);
  });
});

describe('pod creations pass the gate again once their writes are acknowledged', () => {
  it('63 creates acknowledged together, each event taking 2 ms, never hold the loop much past a slice', async () => {
    // One "group commit" per slow-start batch: every create of the batch resolves in the same turn.
    let commit: { resolve: () => void; promise: Promise<void> } | undefined;
    const committed = () => {
      if (!commit) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        commit = { resolve, promise };
        setImmediate(() => (commit!.resolve(), (commit = undefined)));
      }
      return commit.promise;
    };
    let made = 0;
    let events = 0;
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', uid: 'rs-1' } };
    const ctx = {
      informers: { get: () => owner },
      objects: {
        create: async (p: Pod) => {
          await committed();
          return { ...p, metadata: { ...p.metadata, name: `web-${made++}`, resourceVersion: String(made) } };
        },
      },
      events: { object: () => (spin(2), events++) },
      log: silentLogger,
    } as unknown as ControllerContext;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-', namespace: 'default' }, spec: { containers: [] } } as unknown as Pod;
    const longest = await longestTurn(async () => void (await createPods(ctx, owner as never, 63, () => pod)));
    expect([made, events]).toEqual([63, 63]);
    // The last batch is 32 creates: 64 ms of events in one turn without the gate.
    expect(longest).toBeLessThan(sliceMs + 2 + 25);
  });
});
