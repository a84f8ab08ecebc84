/**
 * The Deployment controller's pod tally (tally.ts): counts per ReplicaSet kept from pod events, so a sync
 * reads them without scanning pods. Checked against the rule it replaces (isActive / isReady / isAvailable
 * over the pods), through adds, updates and deletes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PodTally } from '../../master/controllers/deployment/tally.js';
import { controllerOf, isActive, isAvailable, isFinished } from '../../master/controllers/pods.js';
import { isReady } from '../../protocol/index.js';
import { harness, type Harness } from './harness.js';
import { podWith, rsWith } from './builders.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.stop());

/** The counts as a scan over the cached pods computes them. */
function scanned(uid: string, minReady: number, now: number) {
  const pods = h.pods().filter((p) => controllerOf(p)?.uid === uid);
  const active = pods.filter(isActive);
  return {
    active: active.length,
    ready: active.filter(isReady).length,
    available: active.filter((p) => isAvailable(p, minReady, now)).length,
    unfinished: pods.filter((p) => !isFinished(p)).length,
  };
}

describe('PodTally', () => {
  it('matches a scan of the pods through adds, readiness, termination, finishing and deletes', async () => {
    const rs = await h.create(rsWith({ replicas: 0 }));
    const other = await h.create(rsWith({ name: 'other', replicas: 0, labels: { app: 'other' } }));
    const tally = new PodTally(h.informers);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const at = (s: number) => new Date(t0 + s * 1000).toISOString();
    const pods = [
      podWith({ name: 'a', owner: rs, node: 'n1', ready: true, readySince: at(0) }),
      podWith({ name: 'b', owner: rs, ready: true, readySince: at(8) }),
      podWith({ name: 'c', owner: rs, ready: false }),
      podWith({ name: 'd', owner: rs, phase: 'Succeeded' }),
      podWith({ name: 'e', owner: other, ready: true }),
      podWith({ name: 'f' }),
    ];
    for (const p of pods) await h.create(p);
    const check = (minReady: number, now: number) => {
      const { availableAt, ...counts } = tally.of(rs.metadata.uid!, minReady, now);
      expect(counts).toEqual(scanned(rs.metadata.uid!, minReady, now));
      return availableAt;
    };
    expect(check(0, t0)).toEqual([]);
    expect(check(10, t0 + 10_000)).toEqual([t0 + 18_000]); // b is available 10 s after it turned ready
    expect(tally.of(other.metadata.uid!, 0, t0)).toMatchObject({ active: 1, ready: 1 });

    await h.setReady([h.get('Pod', 'default', 'c')!]); // c turns ready
    check(0, t0);
    await h.delete('Pod', 'default', 'a'); // a terminating: not active, still unfinished
    expect(check(0, t0)).toEqual([]);
    expect(tally.of(rs.metadata.uid!, 0, t0)).toMatchObject({ active: 2, unfinished: 3 });
    await h.confirmStopped([h.get('Pod', 'default', 'a')!]);
    expect(tally.of(rs.metadata.uid!, 0, t0)).toMatchObject({ active: 2, unfinished: 2 });
    check(0, t0);
  });
});
